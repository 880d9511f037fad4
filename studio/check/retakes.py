"""Retakes: `studio retake` (chosen segments, a new seed each) and `studio render --check`
(render, check, and try flagged takes again with new seeds, keeping the best by the check's
score).

A retake is a seed: the segment is synthesized as the voice would say it with another seed, so
its take has a key of its own, and the render that follows makes that one take and lays the
episode out again from the cache. The seed is kept in the manifest, so later renders keep the
retaken take until the text changes. Works through `render`'s public functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from studio.check.episode import (
    CheckReport,
    CheckRequest,
    check_episode,
    judge,
    listen_cached,
    to_16k,
    voice_calibration,
    write_report,
)
from studio.check.recognizers import Recognizer, open_recognizer
from studio.check.signals import measure
from studio.errors import StudioError
from studio.manifest import Manifest

# Flags a new take can mend. `level` (loudness next to the neighbours) and `breath` are the
# business of mastering and breath cleaning, which every take goes through anyway.
TAKE_FLAGS = frozenset({"words", "long", "short", "silence", "clipped"})


def retake_seed(seed: int, attempt: int) -> int:
    """The seed of a segment's retake number `attempt` (1, 2, ...) after one made with `seed`."""
    return (seed * 1_000_003 + attempt * 104_729 + 1) % 2**31


@dataclass(frozen=True)
class RetakeResult:
    render: Any  # studio.render.RenderResult
    seeds: dict[int, int]  # segment index -> the seed its new take was made with


def retake(
    essay: Path,
    segments: Sequence[int],
    *,
    out_dir: Path = Path("out"),
    voice: str | None = None,
    lexicons: tuple[Path, ...] = (),
    seed: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    device: str | None = None,
    request: Any = None,
) -> RetakeResult:
    """Synthesize the chosen segments again, each with a new seed (or `seed`), and rebuild the
    episode from the cache: only those takes are made. `request`: the render request the
    episode was made with (a show's, see `shows`), instead of one from the other arguments."""
    from studio.render import RenderRequest, render

    if request is None:
        request = RenderRequest(essay, out_dir, voice or "", lexicons=lexicons)
    elif voice:
        request = replace(request, voice=voice)
    manifest = _manifest(request)
    voice = voice or str(manifest.voice.get("name", ""))
    count = len(manifest.segments)
    bad = [i for i in segments if not 0 <= i < count]
    if not segments or bad:
        shown = ", ".join(map(str, bad)) if bad else "none given"
        raise StudioError(f"no segment {shown}: this episode has segments 0 to {count - 1}")
    base = _voice_seed(voice)
    seeds: dict[int, int] = {}
    take_seeds: dict[str, int] = {}
    for index in segments:
        current = manifest.segments[index].seed
        new = seed if seed is not None else retake_seed(base if current is None else current, 1)
        seeds[index] = new
        take_seeds[manifest.segments[index].text] = new
    request = replace(request, voice=voice, take_seeds=take_seeds, device=device)
    result = render(request, cache_dir=cache_dir, progress=progress)
    return RetakeResult(result, seeds)


@dataclass(frozen=True)
class CheckedRender:
    render: Any  # studio.render.RenderResult, of the last render
    report: CheckReport
    tries: dict[int, list[dict[str, Any]]]  # flagged segment -> each attempt's seed and score


def render_checked(
    request: Any,  # studio.render.RenderRequest
    *,
    cache_dir: Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    whisper: Path | None = None,
    on_retry: Callable[[int, int, int], None] | None = None,  # (takes, attempt, attempts)
) -> CheckedRender:
    """Render, check, and re-synthesize each flagged take with new seeds up to the voice's
    `max_attempts`, keeping the best by the check's score; the manifest records every try."""
    from studio.cache import TakeCache, default_cache_dir
    from studio.render import open_voice, prepare, render, take_keys
    from studio.synthesize import synthesize
    from studio.takes import read_take

    cache_dir = cache_dir or default_cache_dir()
    recognizer = open_recognizer(whisper)
    _synthesize_with_passage(request, recognizer, cache_dir, progress)
    result = render(request, cache_dir=cache_dir, progress=progress)
    check = CheckRequest(
        request.essay,
        request.out_dir,
        voice=request.voice,
        lexicons=request.lexicons,
        whisper=whisper,
        manifest_dir=request.manifest_dir,
        settings=request.settings,
    )
    report = check_episode(check, cache_dir=cache_dir, recognizer=recognizer)
    profile, engine, _ = open_voice(request.voice, request.lexicons, cache_dir)
    # A take the manifest says was already tried max_attempts times stays as it is: a render of
    # an unchanged essay makes no new takes, and keeps its record of tries.
    manifest = Manifest.read(result.outputs["manifest"])
    tried = {
        i: len(s.tries) for i, s in enumerate(manifest.segments if manifest else ()) if s.tries
    }
    retry = [
        s
        for s in report.segments
        if TAKE_FLAGS & set(s.flags) and tried.get(s.index, 0) < profile.max_attempts
    ]
    if not retry or profile.max_attempts < 2:
        return CheckedRender(result, report, {})

    prepared = prepare(request, cache_dir)
    script = prepared.script
    texts = [s.text for s in script.segments]
    calibration = voice_calibration(profile, engine.identity(), recognizer, cache_dir)
    cache = TakeCache(cache_dir)
    tries: dict[int, list[dict[str, Any]]] = {}
    best: dict[int, tuple[bool, float, int]] = {}  # index -> (mended, score, seed)
    bases: dict[int, int] = {}
    originals: dict[int, str] = {}
    for segment in retry:
        index = segment.index
        seed = prepared.seeds[index] if index < len(prepared.seeds) else None
        bases[index] = profile.seed if seed is None else seed
        tries[index] = [
            {"seed": bases[index], "score": segment.score, "flags": list(segment.flags)}
        ]
        best[index] = (not TAKE_FLAGS & set(segment.flags), segment.score, bases[index])
        originals[index] = _take_digest(cache, prepared.raw_keys[index])
    # One round per attempt, every segment still flagged in it: one synthesis worker (and one
    # model load) per round, not per take.
    pending = [segment.index for segment in retry]
    for attempt in range(1, profile.max_attempts):
        if not pending:
            break
        if on_retry:
            on_retry(len(pending), attempt + 1, profile.max_attempts)
        seeds = [retake_seed(bases[i], attempt) for i in pending]
        round_script = _script_of(script, pending)
        raw_keys = take_keys(round_script, engine, seeds=seeds)
        records = synthesize(
            round_script, raw_keys, profile, cache_dir, device=request.device, seeds=seeds
        )
        takes = [read_take(cache, record) for record in records]
        judged = _judge_takes(
            takes, pending, script, raw_keys, texts, recognizer, calibration, cache_dir
        )
        still = []
        for index, seed, key, verdict in zip(pending, seeds, raw_keys, judged, strict=True):
            if _take_digest(cache, key) == originals[index]:
                continue  # the engine says the same with any seed: retrying is pointless
            flags = list(verdict.flags)
            tries[index].append({"seed": seed, "score": verdict.score, "flags": flags})
            mended = not TAKE_FLAGS & set(flags)
            if (mended, verdict.score) > best[index][:2]:
                best[index] = (mended, verdict.score, seed)
            if not mended:
                still.append(index)
        pending = still
    chosen = {script.segments[i].text: seed for i, (_, _, seed) in best.items() if seed != bases[i]}
    if chosen:
        request = replace(request, take_seeds={**request.take_seeds, **chosen})
        result = render(request, cache_dir=cache_dir, progress=progress)
    record_tries(prepared.outputs["manifest"], tries)
    report = check_episode(check, cache_dir=cache_dir, recognizer=recognizer, write=False)
    write_report(report, report.audio)
    return CheckedRender(result, report, tries)


def _synthesize_with_passage(
    request: Any, recognizer: Recognizer, cache_dir: Path, progress: Any
) -> None:
    """Before a render that will synthesize, with a voice not yet calibrated for `recognizer`:
    make the essay's takes and the calibration passage's in one synthesis worker, so the model
    loads once, not twice (once for the render, once for the check's calibration)."""
    from studio.check.episode import calibration_known, passage_script
    from studio.render import is_up_to_date, prepare
    from studio.synthesize import synthesize
    from studio.types import Script, ScriptChapter

    prepared = prepare(request, cache_dir)
    if calibration_known(prepared.engine.identity(), recognizer, cache_dir):
        return
    if not request.force and is_up_to_date(prepared):
        return
    passage, passage_keys = passage_script(prepared.engine)
    segments = (*prepared.script.segments, *passage.segments)
    count = len(prepared.script.segments)
    seeds = [prepared.seeds[i] if i < len(prepared.seeds) else None for i in range(count)]
    synthesize(
        Script(prepared.script.title, (ScriptChapter("", segments),)),
        [*prepared.raw_keys, *passage_keys],
        prepared.profile,
        cache_dir,
        progress,
        device=request.device,
        seeds=[*seeds, *([None] * len(passage_keys))],
    )


def record_tries(manifest_path: Path, tries: dict[int, list[dict[str, Any]]]) -> None:
    """Write each segment's attempts into the manifest beside the episode."""
    manifest = Manifest.read(manifest_path)
    if manifest is None or not tries:
        return
    segments = tuple(
        s.model_copy(update={"tries": tuple(tries[i])}) if i in tries else s
        for i, s in enumerate(manifest.segments)
    )
    manifest.model_copy(update={"segments": segments}).write(manifest_path)


def _judge_takes(
    takes: Sequence[Any],
    indices: Sequence[int],
    script: Any,
    keys: Sequence[str],
    texts: list[str],
    recognizer: Recognizer,
    calibration: Any,
    cache_dir: Path,
) -> list[Any]:
    """The check's verdict on candidate takes of `indices`, heard alone (not yet in an episode:
    no level against neighbours, and breaths are the cleaner's to treat)."""
    from studio.check.episode import result_key

    segments = [script.segments[i] for i in indices]
    result_keys = [
        result_key(key, segment.text, recognizer.identity())
        for key, segment in zip(keys, segments, strict=True)
    ]
    clips = [to_16k(take.audio, take.sample_rate) for take in takes]
    heard, _ = listen_cached(recognizer, clips, texts, result_keys, cache_dir)
    return [
        judge(
            index=index,
            chapter=0,
            start=0.0,
            end=len(take.audio) / take.sample_rate,
            text=segment.text,
            source=segment.source,
            key=key,
            heard=h,
            signal=measure(take.audio, take.sample_rate),
            breath_seconds=0.0,
            level_outlier=False,
            calibration=calibration,
        )
        for index, take, segment, key, h in zip(indices, takes, segments, keys, heard, strict=True)
    ]


def _script_of(script: Any, indices: Sequence[int]) -> Any:
    from studio.types import Script, ScriptChapter

    chosen = tuple(script.segments[i] for i in indices)
    return Script(script.title, (ScriptChapter("", chosen),))


def _take_digest(cache: Any, key: str) -> str:
    meta = cache.meta(key)
    return str(meta.get("sha256", ""))


def _voice_seed(voice: str) -> int:
    from studio.voices import find_voice

    return find_voice(voice).seed


def _manifest(request: Any) -> Manifest:
    from studio.ingest import load_essay
    from studio.manifest import output_paths

    if not request.essay.is_file():
        raise StudioError(f"essay {request.essay} not found")
    slug = load_essay(request.essay).meta.slug
    path = output_paths(request.out_dir, slug, request.manifest_dir)["manifest"]
    manifest = Manifest.read(path)
    if manifest is None:
        raise StudioError(
            f"no rendered episode of {request.essay} in {request.out_dir}: run studio render first"
        )
    return manifest
