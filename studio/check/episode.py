"""`studio check`: listen to a rendered episode segment by segment and say which segments are
not what the script says, and why.

The edge of the check: it reads the manifest and the audio, synthesizes the voice's calibration
passage once (through `synthesize`, into the take cache), caches what the recognizer heard of
each take (by take key: an unchanged take is never listened to twice), and hands the judged
segments to `page` and the JSON writer. Judging is in pure functions (`words`, `signals`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from studio.check.calibration import PASSAGE, Calibration, calibrate, calibration_path
from studio.check.calibration import load as load_calibration
from studio.check.calibration import save as save_calibration
from studio.check.recognizers import SAMPLE_RATE, Heard, Recognizer, open_recognizer
from studio.check.signals import Picture, SegmentSignal, level_outliers, measure, picture
from studio.check.words import Pair, align, missed_and_extra, tokens, word_score
from studio.errors import StudioError
from studio.files import write_text_atomic
from studio.manifest import Manifest, output_paths

FLAGS = ("words", "long", "short", "silence", "clipped", "breath", "level")
PAD_SECONDS = 0.15  # heard around a segment's speech, so its first and last sounds are whole
LONG_RATIO, LONG_SLACK = 1.6, 0.8  # longer than 1.6x its expected length and 0.8 s over
SHORT_RATIO, SHORT_SLACK = 0.55, 0.3
MIN_LOST_WORDS = 2.0
MIN_GAP_FLAG = 0.8  # seconds: a pause inside a sentence longer than this, and than 2x the voice's
MIN_BREATH = 0.1  # seconds: shorter "breaths" are left to the breath cleaner's own judgement
# A breath this far under the speech around it is inaudible in a podcast (a cleaned breath sits
# at the noise floor, 50-60 dB down); one closer to the speech was left in.
AUDIBLE_BREATH_DB = -30.0


@dataclass(frozen=True)
class CheckRequest:
    essay: Path
    out_dir: Path = Path("out")
    audio: Path | None = None  # another file of the same episode; default: the rendered MP3
    voice: str | None = None  # default: the voice the manifest names
    lexicons: tuple[Path, ...] = ()
    whisper: Path | None = None  # a CTranslate2 Whisper folder: listen with faster-whisper
    manifest_dir: Path | None = None  # where the manifest is, if not beside the MP3
    settings: Any = None  # studio.config.RenderSettings the episode was rendered with
    report_dir: Path | None = None  # where the report goes; default: out_dir
    show_config: Path | None = None  # the show's studio.toml, when it is a show's episode


@dataclass(frozen=True)
class SegmentCheck:
    index: int
    chapter: int
    start: float
    end: float
    text: str  # spoken
    source: str  # as written
    heard: str
    score: float
    flags: tuple[str, ...]
    pairs: tuple[Pair, ...]
    reasons: tuple[str, ...]  # one line per flag, for people
    key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "heard": self.heard,
            "score": self.score,
            "flags": list(self.flags),
            "reasons": list(self.reasons),
            "chapter": self.chapter,
            "key": self.key,
        }


@dataclass(frozen=True)
class CheckReport:
    slug: str
    title: str
    essay: Path
    out_dir: Path
    audio: Path
    voice: str
    recognizer: str
    duration: float
    segments: tuple[SegmentCheck, ...]
    chapters: tuple[tuple[str, float, float], ...]
    calibration: Calibration
    listened: int  # segments the recognizer heard this time (the rest came from the cache)
    stale: bool  # the essay or voice changed since this episode was rendered
    picture: Picture | None = None
    timings: dict[str, float] = field(default_factory=dict)
    report_dir: Path | None = None  # default: out_dir
    lexicons: tuple[Path, ...] = ()  # the user's, for the retake command
    show_config: Path | None = None

    @property
    def flagged(self) -> list[int]:
        return [s.index for s in self.segments if s.flags]

    @property
    def folder(self) -> Path:
        """Where the report is written."""
        return self.report_dir or self.out_dir

    @property
    def paths(self) -> dict[str, Path]:
        return {
            "json": self.folder / f"{self.slug}.qc.json",
            "html": self.folder / f"{self.slug}.qc.html",
        }

    def to_json(self) -> str:
        data = {
            "title": self.title,
            "essay": str(self.essay),
            "audio": str(self.audio),
            "voice": self.voice,
            "recognizer": self.recognizer,
            "duration": self.duration,
            "stale": self.stale,
            "calibration": {
                "min_score": self.calibration.min_score,
                "chars_per_second": self.calibration.chars_per_second,
                "longest_gap": self.calibration.longest_gap,
            },
            "segments": [s.to_json() for s in self.segments],
            "flagged": self.flagged,
        }
        return json.dumps(data, indent=2, ensure_ascii=False)


# --- the check -----------------------------------------------------------------------------


def check_episode(
    request: CheckRequest,
    *,
    cache_dir: Path | None = None,
    recognizer: Recognizer | None = None,
    write: bool = True,
) -> CheckReport:
    """Check the episode `request` names; write `<slug>.qc.json` and `.qc.html` unless not
    `write`. Bad input (no episode, unreadable or mismatched audio) raises StudioError."""
    from studio.cache import default_cache_dir
    from studio.ingest import load_essay

    started = time.perf_counter()
    cache_dir = cache_dir or default_cache_dir()
    if not request.essay.is_file():
        raise StudioError(f"essay {request.essay} not found")
    essay = load_essay(request.essay)
    slug = essay.meta.slug
    paths = output_paths(request.out_dir, slug, request.manifest_dir)
    manifest = Manifest.read(paths["manifest"])
    if manifest is None:
        show = _show_config_above(request.essay) if request.show_config is None else None
        hint = f"a show's episode? add --config {show}" if show else "run studio render first"
        raise StudioError(
            f"no rendered episode of {request.essay} in {request.out_dir} "
            f"({paths['manifest'].name} missing or unreadable): {hint}"
        )
    audio_path = request.audio or paths["mp3"]
    audio, rate = read_audio(audio_path)
    if abs(len(audio) / rate - manifest.duration) > max(1.0, 0.01 * manifest.duration):
        raise StudioError(
            f"{audio_path} is {len(audio) / rate:.1f} s long but the episode the manifest "
            f"describes is {manifest.duration:.1f} s: not the same episode"
        )
    timings = {"read": time.perf_counter() - started}

    voice_name = request.voice or str(manifest.voice.get("name", ""))
    from studio.render import RenderRequest, open_voice, prepare

    profile, engine, _ = open_voice(voice_name, request.lexicons, cache_dir)
    stale = False
    try:
        plain = RenderRequest(request.essay, request.out_dir, voice_name, lexicons=request.lexicons)
        if request.settings is not None:
            plain = replace(plain, settings=request.settings)
        prepared = prepare(plain, cache_dir)
        stale = prepared.keys != tuple(s.key for s in manifest.segments)
    except StudioError:
        stale = True
    recognizer = recognizer or open_recognizer(request.whisper)

    mark = time.perf_counter()
    calibration = voice_calibration(profile, engine.identity(), recognizer, cache_dir)
    timings["calibrate"] = time.perf_counter() - mark

    # The rendered MP3 itself (unchanged since the render) is known take by take; any other
    # audio is known only by its samples.
    by_take = request.audio is None and audio_path.stat().st_size == manifest.sizes.get("mp3")
    mark = time.perf_counter()
    texts = [s.text for s in manifest.segments]
    clips = [_clip(audio, rate, s.start, s.end) for s in manifest.segments]
    result_keys = [
        result_key(s.key if by_take else _audio_digest(clip), s.text, recognizer.identity())
        for s, clip in zip(manifest.segments, clips, strict=True)
    ]
    heard, listened = listen_cached(recognizer, clips, texts, result_keys, cache_dir)
    timings["listen"] = time.perf_counter() - mark

    signals = [measure(_span(audio, rate, s.start, s.end), rate) for s in manifest.segments]
    breaths = [_breath_seconds(_span(audio, rate, s.start, s.end), rate) for s in manifest.segments]
    loud = level_outliers([s.level_db for s in signals])
    segments = tuple(
        judge(
            index=i,
            chapter=s.chapter,
            start=s.start,
            end=s.end,
            text=s.text,
            source=s.source,
            key=s.key,
            heard=heard[i],
            signal=signals[i],
            breath_seconds=breaths[i],
            level_outlier=loud[i],
            calibration=calibration,
        )
        for i, s in enumerate(manifest.segments)
    )
    timings["total"] = time.perf_counter() - started
    report = CheckReport(
        slug=slug,
        title=manifest.essay.title,
        essay=request.essay,
        out_dir=request.out_dir,
        audio=audio_path,
        voice=voice_name,
        recognizer=recognizer.name,
        duration=round(len(audio) / rate, 3),
        segments=segments,
        chapters=tuple((c.title, c.start, c.end) for c in manifest.chapters),
        calibration=calibration,
        listened=listened,
        stale=stale,
        picture=picture(audio, rate),
        timings=timings,
        report_dir=request.report_dir,
        lexicons=request.lexicons,
        show_config=request.show_config,
    )
    if write:
        write_report(report, audio_path)
    return report


def judge(
    *,
    index: int,
    chapter: int,
    start: float,
    end: float,
    text: str,
    source: str,
    key: str,
    heard: Heard,
    signal: SegmentSignal,
    breath_seconds: float,
    level_outlier: bool,
    calibration: Calibration,
) -> SegmentCheck:
    """One segment's score and flags (see FLAGS), from what was heard and measured."""
    pairs = align(tokens(text), heard.words, heard.confidence)
    score = word_score(pairs)
    flags: list[str] = []
    reasons: list[str] = []
    said = sum(1 for p in pairs if p.op != "ins")
    extra_words = len(pairs) - said
    # Words lost, confidence-weighted. A short heading is not flagged for one lost "the" (a
    # third of its score): at least two words must be lost, or all of a one-word segment.
    lost = (1.0 - score) * (said + extra_words)
    if score < calibration.min_score and lost >= min(MIN_LOST_WORDS, max(1, said)) - 1e-9:
        missed, extra = missed_and_extra(pairs)
        flags.append("words")
        reasons.append(
            f"words: score {score:.2f} under this voice's bar {calibration.min_score:.2f} "
            f"({missed} said words not heard as said, {extra} heard that were never said)"
        )
    expected = max(0.5, len(text) / calibration.chars_per_second)
    if signal.seconds > LONG_RATIO * expected and signal.seconds > expected + LONG_SLACK:
        flags.append("long")
        reasons.append(f"long: {signal.seconds:.1f} s where about {expected:.1f} s was expected")
    elif signal.seconds < SHORT_RATIO * expected - SHORT_SLACK:
        flags.append("short")
        reasons.append(f"short: {signal.seconds:.1f} s where about {expected:.1f} s was expected")
    gap_limit = max(MIN_GAP_FLAG, 2.0 * calibration.longest_gap)
    if signal.longest_gap > gap_limit:
        flags.append("silence")
        reasons.append(f"silence: a gap of {signal.longest_gap:.1f} s inside the take")
    if signal.clipped_runs:
        flags.append("clipped")
        reasons.append(f"clipped: {signal.clipped_runs} flattened peaks")
    if breath_seconds >= MIN_BREATH:
        flags.append("breath")
        reasons.append(f"breath: {breath_seconds:.2f} s of breath left in")
    if level_outlier:
        flags.append("level")
        reasons.append(f"level: {signal.level_db:.1f} dBFS, far from its neighbours")
    return SegmentCheck(
        index=index,
        chapter=chapter,
        start=start,
        end=end,
        text=text,
        source=source,
        heard=" ".join(heard.words),
        score=score,
        flags=tuple(flags),
        pairs=tuple(pairs),
        reasons=tuple(reasons),
        key=key,
    )


def _show_config_above(essay: Path) -> Path | None:
    """The studio.toml of the show folder an essay sits in, if any."""
    from studio.show.config import CONFIG_NAME

    for folder in essay.resolve().parents:
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    return None


def write_report(report: CheckReport, audio_path: Path) -> None:
    from studio.check.page import proof_page

    page = proof_page(report, audio_path)
    try:
        report.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(report.paths["json"], report.to_json())
        write_text_atomic(report.paths["html"], page)
    except OSError as error:
        raise StudioError(f"cannot write the check's report in {report.folder}: {error}") from None


# --- listening, with results cached ---------------------------------------------------------


def listen_cached(
    recognizer: Recognizer,
    clips: Sequence[np.ndarray],
    texts: Sequence[str],
    keys: Sequence[str],
    cache_dir: Path,
) -> tuple[list[Heard], int]:
    """What was heard of each clip, from the cache where it is known; how many were listened to."""
    folder = cache_dir / "check" / "heard"
    found: list[Heard | None] = []
    for key in keys:
        try:
            data = json.loads((folder / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
            found.append(Heard.from_json(data))
        except (OSError, ValueError, KeyError, TypeError):
            found.append(None)
    missing = [i for i, h in enumerate(found) if h is None]
    if missing:
        fresh = recognizer.listen([clips[i] for i in missing], list(texts))
        for i, heard in zip(missing, fresh, strict=True):
            found[i] = heard
            path = folder / keys[i][:2] / f"{keys[i]}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(heard.to_json()))
    return [h for h in found if h is not None], len(missing)


def result_key(audio_key: str, text: str, recognizer: dict[str, Any]) -> str:
    payload = json.dumps([audio_key, text, recognizer], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _audio_digest(clip: np.ndarray) -> str:
    return hashlib.sha256((np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes()).hexdigest()


# --- audio ----------------------------------------------------------------------------------


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples of any file soundfile reads (MP3, WAV, FLAC...)."""
    import soundfile as sf

    if not path.is_file():
        raise StudioError(f"audio {path} not found")
    try:
        with _quiet_stderr():  # libmpg123 prints "Note: Illegal Audio-MPEG-Header" on junk
            audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (OSError, sf.LibsndfileError, RuntimeError):
        raise StudioError(
            f"cannot read audio {path}: not a file soundfile decodes (MP3, WAV, FLAC, OGG)"
        ) from None
    if audio.size == 0:
        raise StudioError(f"{path} holds no audio")
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if not np.isfinite(mono).all():
        raise StudioError(f"{path} holds samples that are not numbers (NaN or infinite)")
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what C libraries write straight to file descriptor 2 (the error is ours to say)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    if rate == SAMPLE_RATE:
        return audio.astype(np.float32)
    return soxr.resample(audio, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)


def _span(audio: np.ndarray, rate: int, start: float, end: float) -> np.ndarray:
    return audio[max(0, int(start * rate)) : max(0, int(end * rate))]


def _clip(audio: np.ndarray, rate: int, start: float, end: float) -> np.ndarray:
    return to_16k(_span(audio, rate, start - PAD_SECONDS, end + PAD_SECONDS), rate)


def _breath_seconds(span: np.ndarray, rate: int) -> float:
    """Seconds of audible breath the breath detector finds inside a segment's speech."""
    from studio.breath import BreathSettings, detect_breaths

    if len(span) < rate // 5:
        return 0.0
    events = detect_breaths(span, rate, BreathSettings())
    # Not at the span's edges: it is cut at the take's first and last speech, where the
    # detector mistakes an onset or a release for a breath; a breath inside the take is what
    # was left in.
    inside = (e for e in events if not e.at_edge and e.relative_db > AUDIBLE_BREATH_DB)
    return float(sum(e.duration for e in inside))


# --- calibration ------------------------------------------------------------------------------


def voice_calibration(
    profile: Any, identity: dict[str, Any], recognizer: Recognizer, cache_dir: Path
) -> Calibration:
    """The voice's calibration with this recognizer: from the cache, or made now (the voice
    reads the calibration passage once; its takes stay in the take cache)."""
    path = calibration_path(cache_dir, identity, recognizer.identity())
    known = load_calibration(path)
    if known is not None:
        return known
    takes = passage_takes(profile, cache_dir)
    rate = float(getattr(profile, "chars_per_second", 14.0))
    calibration = calibrate(takes, recognizer.listen, to_16k, fallback_rate=rate)
    save_calibration(path, calibration)
    return calibration


def calibration_known(identity: dict[str, Any], recognizer: Recognizer, cache_dir: Path) -> bool:
    path = calibration_path(cache_dir, identity, recognizer.identity())
    return load_calibration(path) is not None


def passage_script(engine: Any) -> tuple[Any, list[str]]:
    """The calibration passage as a script, and its takes' keys with `engine`."""
    from studio.render import take_keys
    from studio.types import Script, ScriptChapter, Segment

    script = Script(
        "calibration",
        (ScriptChapter("", tuple(Segment(text, text, 0.0) for text in PASSAGE)),),
    )
    return script, list(take_keys(script, engine))


def passage_takes(profile: Any, cache_dir: Path) -> list[tuple[np.ndarray, int]]:
    from studio.cache import TakeCache
    from studio.synthesize import synthesize
    from studio.takes import read_take
    from studio.voices import open_engine

    script, keys = passage_script(open_engine(profile, cache_dir))
    records = synthesize(script, keys, profile, cache_dir)
    cache = TakeCache(cache_dir)
    takes = []
    for record in records:
        take = read_take(cache, record)
        takes.append((take.audio, take.sample_rate))
    return takes
