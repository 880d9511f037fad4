"""Essay file to episode files: the stages wired together, with the take cache and progress.

This is the edge where files and caching live; every stage it calls is a pure transform.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio import __version__
from studio.assembly import EpisodeProducer
from studio.breath import BreathSettings
from studio.cache import TakeCache, default_cache_dir, take_key
from studio.config import RenderSettings
from studio.engines.base import Engine, Limited
from studio.engines.digest import file_digest
from studio.errors import StudioError
from studio.files import atomic_path, sweep_stale, write_text_atomic
from studio.ingest import load_essay
from studio.manifest import (
    Manifest,
    ManifestBreaths,
    ManifestCache,
    ManifestChapter,
    ManifestEssay,
    ManifestLoudness,
    ManifestSegment,
    output_paths,
)
from studio.publish.mp3 import Id3Tags, check_mp3_settings
from studio.publish.sidecars import chapters_json, srt, webvtt
from studio.speech.lexicon import Lexicon
from studio.speech.script import Voicing, build_script
from studio.synthesize import Progress, synthesize
from studio.takes import CachedTakes, TakeRecord, cleaned_records
from studio.timeline import assemble
from studio.types import Block, Chapter, Episode, Essay, EssayMeta, Script, Timeline
from studio.voices import DEFAULT_VOICE, VoiceProfile, find_voice, open_engine


@dataclass(frozen=True)
class RenderRequest:
    essay: Path
    out_dir: Path
    voice: str = DEFAULT_VOICE
    settings: RenderSettings = field(default_factory=RenderSettings)
    lexicons: tuple[Path, ...] = ()  # applied after the voice's own lexicon, later ones winning
    cover: Path | None = None
    force: bool = False  # render even when the outputs are up to date
    device: str | None = None  # where synthesis runs: "cpu", "cuda", ...; None: the GPU if any
    manifest_dir: Path | None = None  # where the manifest goes; None: beside the MP3 in out_dir
    # Retakes: the seed a segment's take is synthesized with, by its spoken text, instead of the
    # voice's own. Seeds a previous render recorded in the manifest are kept unless
    # `keep_seeds` is off; these win over them.
    take_seeds: Mapping[str, int] = field(default_factory=dict)
    keep_seeds: bool = True


@dataclass(frozen=True)
class RenderResult:
    slug: str
    outputs: dict[str, Path]
    segments: int
    synthesized: int
    cache_hits: int
    duration: float
    integrated_lufs: float
    true_peak_dbtp: float
    up_to_date: bool = False
    breaths: int = 0  # breaths cleaned from the takes
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """Everything decided before any audio is made: cheap, and enough to know if work is due."""

    essay: Essay
    profile: VoiceProfile
    engine: Engine
    script: Script
    keys: tuple[str, ...]
    render_key: str
    outputs: dict[str, Path]
    breath: BreathSettings
    raw_keys: tuple[str, ...]  # of the takes before breath cleaning
    seeds: tuple[int | None, ...] = ()  # each segment's retake seed; None: the voice's own


def prepare(request: RenderRequest, cache_dir: Path) -> Prepared:
    settings = request.settings
    essay = load_essay(request.essay, chapter_level=settings.speech.chapter_level)
    profile, engine, voicing = open_voice(
        request.voice, request.lexicons, cache_dir, builtin=settings.speech.builtin_lexicon
    )
    pauses = profile.apply_pauses(settings.pauses)
    script = build_script(essay, voicing, speech=settings.speech, pauses=pauses)
    if not script.segments:
        raise StudioError(f"{request.essay}: nothing to read after normalization")
    breath = profile.apply_breath(settings.breath)
    outputs = output_paths(request.out_dir, essay.meta.slug, request.manifest_dir)
    seeds = segment_seeds(script, request, outputs["manifest"])
    raw_keys = take_keys(script, engine, seeds=seeds)
    keys = take_keys(script, engine, breath, seeds=seeds)
    render_key = _hash(
        {
            "studio": __version__,
            "keys": keys,
            "pauses": [s.pause_after for s in script.segments],
            "chapters": [(c.title, len(c.segments)) for c in script.chapters],
            "sources": [s.source for s in script.segments],
            "settings": settings.model_dump(mode="json"),
            "meta": [
                essay.meta.title,
                essay.meta.author,
                str(essay.meta.date or ""),
                essay.meta.description,
            ],
            "cover": file_digest(request.cover, what="cover image") if request.cover else None,
        }
    )
    return Prepared(
        essay, profile, engine, script, keys, render_key, outputs, breath, raw_keys, seeds
    )


def segment_seeds(
    script: Script, request: RenderRequest, manifest_path: Path
) -> tuple[int | None, ...]:
    """Each segment's retake seed: the request's, else (with `keep_seeds`) the one the last
    render of this essay recorded for the same spoken text, else None (the voice's seed)."""
    chosen: dict[str, int] = {}
    if request.keep_seeds:
        previous = Manifest.read(manifest_path)
        if previous is not None:
            chosen = {s.text: s.seed for s in previous.segments if s.seed is not None}
    chosen.update(request.take_seeds)
    return tuple(chosen.get(segment.text) for segment in script.segments)


def take_keys(
    script: Script,
    engine: Engine,
    breath: BreathSettings | None = None,
    *,
    seeds: Sequence[int | None] = (),
) -> tuple[str, ...]:
    """Cache keys of the script's takes: the spoken text and the voice, plus the breath cleaning
    applied to them when it is on (without it, the raw takes from the engine). A segment with a
    retake seed is keyed as the voice with that seed would key it."""
    identity = engine.identity()
    if breath is not None and breath.enabled:
        identity = {**identity, "breath": breath.model_dump(mode="json")}
    keys = []
    for index, segment in enumerate(script.segments):
        seed = seeds[index] if index < len(seeds) else None
        voice = identity if seed is None else {**identity, "seed": seed}
        keys.append(take_key(segment.text, voice))
    return tuple(keys)


def open_voice(
    name: str, lexicons: tuple[Path, ...], cache_dir: Path, *, builtin: bool = True
) -> tuple[VoiceProfile, Engine, Voicing]:
    """The voice profile, its engine (not loaded yet) and what the script needs to know of it.

    Lexicons stack: studio's built-in one (unless the render or the voice turns it off), the
    voice's, then `lexicons`; later ones win word by word.
    """
    profile = find_voice(name)
    engine = open_engine(profile, cache_dir)
    lexicon_files = [p for p in (profile.lexicon, *lexicons) if p is not None]
    base = Lexicon.builtin() if builtin and profile.builtin_lexicon else Lexicon.empty()
    lexicon = Lexicon.merge(base, *(Lexicon.load(p) for p in lexicon_files))
    fits = engine.fits if isinstance(engine, Limited) else None
    return profile, engine, Voicing(engine.max_chars, engine.accepts_ipa, lexicon, fits)


def is_up_to_date(prepared: Prepared) -> bool:
    return _up_to_date_manifest(prepared) is not None


def _up_to_date_manifest(prepared: Prepared) -> Manifest | None:
    """The manifest of the outputs on disk, if they are what `prepared` would render."""
    manifest = Manifest.read(prepared.outputs["manifest"])
    if manifest is None or manifest.render_key != prepared.render_key:
        return None
    sizes = manifest.sizes
    current = all(
        path.is_file() and path.stat().st_size == sizes.get(kind)
        for kind, path in prepared.outputs.items()
        if kind != "manifest"
    )
    return manifest if current else None


def render(
    request: RenderRequest, *, cache_dir: Path | None = None, progress: Progress | None = None
) -> RenderResult:
    started = time.perf_counter()
    cache_dir = cache_dir or default_cache_dir()
    prepared = prepare(request, cache_dir)
    timings = {"prepare": time.perf_counter() - started}
    manifest = None if request.force else _up_to_date_manifest(prepared)
    if manifest is not None:
        return _result_from_manifest(prepared, manifest, timings)
    tags = start_render(prepared, request, cache_dir)

    mark = time.perf_counter()
    producer = EpisodeProducer(
        prepared.script,
        prepared.keys,
        TakeCache(cache_dir),
        request.settings,
        breath=prepared.breath,
        mp3=prepared.outputs["mp3"],
        tags=tags,
    )
    producer.start()
    try:
        synthesize(
            prepared.script,
            prepared.raw_keys,
            prepared.profile,
            cache_dir,
            progress,
            device=request.device,
            on_take=producer.take_ready,
            seeds=prepared.seeds,
        )
    except BaseException:
        producer.abort()
        raise
    timings["synthesize"] = time.perf_counter() - mark

    mark = time.perf_counter()
    records, timeline = producer.result()
    timings["master"] = time.perf_counter() - mark
    return finish_render(prepared, records, timeline, timings, started=started)


def start_render(prepared: Prepared, request: RenderRequest, cache_dir: Path) -> Id3Tags:
    """What a render checks and tidies before any audio is made (so a render that cannot
    finish fails before synthesis, not after it); returns the episode's ID3 tags."""
    _ensure_writable(request.out_dir)
    if request.manifest_dir is not None:
        _ensure_writable(request.manifest_dir)
    _sweep_leftovers(prepared, cache_dir)
    settings = request.settings
    tags = id3_tags(prepared, request)
    check_mp3_settings(settings.sample_rate, tags, settings.bitrate)
    return tags


def finish_render(
    prepared: Prepared,
    records: list[TakeRecord],
    timeline: Timeline,
    timings: dict[str, float],
    *,
    started: float,
) -> RenderResult:
    """Once the MP3 is in place: the sidecars and the manifest, and what the render did."""
    mark = time.perf_counter()
    write_sidecars(prepared, timeline, records)
    timings["publish"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    hits = sum(1 for record in records if record.cached)
    assert timeline.loudness is not None
    return RenderResult(
        slug=prepared.essay.meta.slug,
        outputs=prepared.outputs,
        segments=len(records),
        synthesized=len(records) - hits,
        cache_hits=hits,
        duration=timeline.duration,
        integrated_lufs=timeline.loudness.integrated_lufs,
        true_peak_dbtp=timeline.loudness.true_peak_dbtp,
        breaths=sum(len(record.breaths) for record in records),
        timings=timings,
    )


def id3_tags(prepared: Prepared, request: RenderRequest) -> Id3Tags:
    meta = prepared.essay.meta
    return Id3Tags(
        title=meta.title,
        artist=meta.author or prepared.profile.name,
        album=meta.title,
        date=meta.date.isoformat() if meta.date else "",
        description=meta.description,
        cover=request.cover,
    )


def write_sidecars(prepared: Prepared, timeline: Timeline, records: list[TakeRecord]) -> None:
    """Chapters JSON, captions, and last the manifest, whose render key vouches for every file
    written before it (the MP3 included)."""
    outputs = prepared.outputs
    write_text_atomic(outputs["chapters"], chapters_json(timeline, title=prepared.essay.meta.title))
    write_text_atomic(outputs["vtt"], webvtt(timeline))
    write_text_atomic(outputs["srt"], srt(timeline))
    build_manifest(prepared, timeline, records).write(outputs["manifest"])


def build_manifest(
    prepared: Prepared, episode: Episode | Timeline, records: list[TakeRecord]
) -> Manifest:
    meta = prepared.essay.meta
    loudness = episode.loudness
    chapter_of = [i for i, c in enumerate(prepared.script.chapters) for _ in c.segments]
    # `render --check`'s record of how a take was chosen holds as long as the take does.
    previous = Manifest.read(prepared.outputs["manifest"])
    tries = {s.key: s.tries for s in previous.segments if s.tries} if previous else {}
    return Manifest(
        studio=__version__,
        render_key=prepared.render_key,
        essay=ManifestEssay(
            title=meta.title,
            slug=meta.slug,
            author=meta.author,
            date=meta.date.isoformat() if meta.date else None,
            description=meta.description,
        ),
        voice={"name": prepared.profile.name, **prepared.engine.identity()},
        duration=round(episode.duration, 3),
        loudness=ManifestLoudness(
            integrated_lufs=round(loudness.integrated_lufs, 2) if loudness else None,
            true_peak_dbtp=round(loudness.true_peak_dbtp, 2) if loudness else None,
        ),
        cache=ManifestCache(
            hits=sum(1 for record in records if record.cached),
            synthesized=sum(1 for record in records if not record.cached),
            retries=sum(record.attempts - 1 for record in records),
        ),
        breaths=ManifestBreaths(
            mode=prepared.breath.mode if prepared.breath.enabled else "off",
            found=sum(len(record.breaths) for record in records),
            seconds=round(
                sum(b["end"] - b["start"] for record in records for b in record.breaths), 3
            ),
        ),
        chapters=tuple(
            ManifestChapter(title=c.title, start=round(c.start, 3), end=round(c.end, 3))
            for c in episode.chapters
        ),
        segments=tuple(
            ManifestSegment(
                chapter=chapter_of[i],
                text=placement.text,
                source=placement.source,
                start=round(placement.start, 3),
                end=round(placement.end, 3),
                cached=record.cached,
                attempts=record.attempts,
                notes=record.notes,
                breaths=record.breaths,
                key=record.key,
                seed=prepared.seeds[i] if i < len(prepared.seeds) else None,
                tries=tries.get(record.key, ()),
            )
            for i, (placement, record) in enumerate(zip(episode.placements, records, strict=True))
        ),
        sizes={
            kind: path.stat().st_size
            for kind, path in prepared.outputs.items()
            if kind != "manifest"
        },
    )


def _result_from_manifest(
    prepared: Prepared, manifest: Manifest, timings: dict[str, float]
) -> RenderResult:
    return RenderResult(
        slug=prepared.essay.meta.slug,
        outputs=prepared.outputs,
        segments=len(prepared.keys),
        synthesized=0,
        cache_hits=len(prepared.keys),
        duration=manifest.duration,
        integrated_lufs=manifest.loudness.integrated_lufs,
        true_peak_dbtp=manifest.loudness.true_peak_dbtp,
        up_to_date=True,
        timings=timings,
    )


def _sweep_leftovers(prepared: Prepared, cache_dir: Path) -> None:
    """Remove what killed renders left half-written: their outputs' temporary files beside
    this render's outputs, and partial takes in the cache."""
    hidden = (
        candidate
        for path in prepared.outputs.values()
        for candidate in path.parent.glob(f".{path.stem}.*{path.suffix}")
    )
    sweep_stale(hidden)
    TakeCache(cache_dir).sweep()


def _ensure_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StudioError(f"cannot create output folder {out_dir}: {error.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise StudioError(f"output folder {out_dir} is not writable: choose another with --out")


def _hash(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audition(
    text: str,
    output: Path,
    *,
    voice: str = DEFAULT_VOICE,
    lexicons: tuple[Path, ...] = (),
    settings: RenderSettings | None = None,
    cache_dir: Path | None = None,
    device: str | None = None,
) -> str:
    """Speak a phrase, normalized as in an essay, to a mastered WAV file; return what was said."""
    import soundfile as sf

    # Deferred: master imports scipy (~1 s), which a render loads on its producer thread instead.
    from studio.master import master

    settings = settings or RenderSettings()
    if not text.strip():
        raise StudioError("nothing to say: give some text")
    if output.suffix.lower() != ".wav":
        raise StudioError(f"{output}: write the audition to a .wav file")
    cache_dir = cache_dir or default_cache_dir()
    profile, engine, voicing = open_voice(
        voice, lexicons, cache_dir, builtin=settings.speech.builtin_lexicon
    )
    essay = Essay(EssayMeta(title="", slug="say"), (Chapter("", (Block("paragraph", text),)),))
    pauses = profile.apply_pauses(settings.pauses)
    script = build_script(
        essay, voicing, speech=settings.speech, pauses=pauses, opening_enabled=False
    )
    if not script.segments:
        raise StudioError(f"nothing to say in {text!r}")
    breath = profile.apply_breath(settings.breath)
    raw = synthesize(script, take_keys(script, engine), profile, cache_dir, device=device)
    records = cleaned_records(raw, take_keys(script, engine, breath), TakeCache(cache_dir), breath)
    takes = CachedTakes(TakeCache(cache_dir), records)
    episode = assemble(script, takes, sample_rate=settings.sample_rate, lead_in=0.1, tail=0.2)
    episode = master(episode, target_lufs=settings.target_lufs, peak_dbtp=settings.peak_dbtp)
    if not output.parent.is_dir():
        raise StudioError(f"folder {output.parent} does not exist")
    with atomic_path(output) as tmp:
        sf.write(tmp, episode.audio, episode.sample_rate, subtype="PCM_16")
    return " ".join(s.text for s in script.segments)
