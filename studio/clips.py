"""Reference clips for a cloned voice: are they good enough to clone from, and what to fix.

XTTS copies what it hears: a clipped, quiet, noisy or breathy reference comes back in every take.
Each clip is measured (length, sample rate, clipping, speech level, noise floor, audible breaths)
and the findings are sorted into problems (the voice can't be cloned well until they are fixed)
and advice (worth fixing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.breath import BreathSettings, detect_breaths

MIN_TOTAL_SECONDS = 6.0
MAX_TOTAL_SECONDS = 30.0
USABLE_TOTAL_SECONDS = 3.0  # below this XTTS can't clone at all (the engine refuses)
MIN_SAMPLE_RATE = 16000
FRAME = 0.025  # seconds per analysis frame
HOP = 0.010


@dataclass(frozen=True)
class ClipReport:
    path: Path
    seconds: float = 0.0
    sample_rate: int = 0
    peak_dbfs: float = -120.0
    speech_dbfs: float = -120.0  # level of the loud (speaking) frames
    noise_dbfs: float = -120.0  # level of the quietest frames: the room and the microphone
    clipped_samples: int = 0
    breaths: int = 0
    problems: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClipsReport:
    clips: tuple[ClipReport, ...]
    total_seconds: float
    problems: tuple[str, ...] = field(default=())
    advice: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and all(not clip.problems for clip in self.clips)


def check_clips(paths: list[Path] | tuple[Path, ...]) -> ClipsReport:
    clips = tuple(check_clip(path) for path in paths)
    total = sum(clip.seconds for clip in clips)
    problems: list[str] = []
    advice: list[str] = []
    if not clips:
        problems.append(
            "no reference clips: add 6-30 s of your voice reading, in one or more clips"
        )
    elif total < USABLE_TOTAL_SECONDS:
        problems.append(
            f"only {total:.1f} s of reference audio: XTTS needs at least 3 s; record 6-30 s"
        )
    elif total < MIN_TOTAL_SECONDS:
        advice.append(f"{total:.1f} s of reference audio: 6-30 s clones the voice more faithfully")
    elif total > MAX_TOTAL_SECONDS:
        advice.append(
            f"{total:.1f} s of reference audio: XTTS listens to about the first 30 s; "
            "keep your best 6-30 s"
        )
    return ClipsReport(clips, total, tuple(problems), tuple(advice))


def check_clip(path: Path) -> ClipReport:
    import soundfile as sf

    if not path.is_file():
        return ClipReport(path, problems=(f"{path} not found",))
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (OSError, sf.LibsndfileError) as error:
        return ClipReport(path, problems=(f"cannot read {path.name}: {error}",))
    samples = audio.mean(axis=1)
    seconds = len(samples) / rate
    if len(samples) < int(rate * FRAME) * 4:
        return ClipReport(path, seconds, rate, problems=(f"{path.name} is empty or too short",))
    peak = float(np.abs(audio).max())
    clipped = _clipped_samples(audio)
    levels = _frame_levels(samples, rate)
    speech = float(np.percentile(levels, 90))
    noise = float(np.percentile(levels, 5))
    breaths = count_breaths(samples, rate)
    problems: list[str] = []
    advice: list[str] = []
    if rate < MIN_SAMPLE_RATE:
        problems.append(
            f"recorded at {rate} Hz: use at least 16 kHz (44.1 or 48 kHz from the microphone)"
        )
    if clipped > max(3, len(samples) // 10000):
        problems.append(
            f"clipped: {clipped} samples at full scale; record again with the input gain lower"
        )
    if speech < -40:
        problems.append(
            f"far too quiet (speech at {speech:.0f} dBFS): record closer to the microphone "
            "or with more gain"
        )
    elif speech < -30:
        advice.append(f"quiet (speech at {speech:.0f} dBFS): aim for about -20 dBFS")
    if noise > -45:
        problems.append(
            f"noisy (noise floor {noise:.0f} dBFS): record in a quieter room, away from fans"
        )
    elif noise > -60 or speech - noise < 30:
        advice.append(
            f"audible background (noise floor {noise:.0f} dBFS, {speech - noise:.0f} dB below "
            "the speech): a quieter room gives cleaner takes"
        )
    if breaths:
        advice.append(
            f"{breaths} audible breath{'s' if breaths > 1 else ''}: XTTS copies breaths into "
            "its takes; cut them from the clip"
        )
    return ClipReport(
        path,
        seconds,
        rate,
        _db(peak),
        speech,
        noise,
        clipped,
        breaths,
        tuple(problems),
        tuple(advice),
    )


def count_breaths(samples: np.ndarray, sample_rate: int) -> int:
    """Audible breaths in a clip, found by the detector `studio clean` uses."""
    return len(detect_breaths(samples, sample_rate, BreathSettings()))


def _clipped_samples(audio: np.ndarray) -> int:
    """Samples in runs of 3+ at (or within 0.1% of) full scale: the signature of clipping."""
    hot = np.abs(audio) >= 0.999
    count = 0
    for channel in hot.T:
        padded = np.concatenate([[False], channel, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        lengths = edges[1::2] - edges[::2]
        count += int(lengths[lengths >= 3].sum())
    return count


def _frame_levels(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    frames = _frames(samples, int(FRAME * sample_rate), int(HOP * sample_rate))
    return _db(np.sqrt(np.mean(frames**2, axis=1)))


def _frames(samples: np.ndarray, size: int, hop: int) -> np.ndarray:
    if len(samples) < size:
        return np.zeros((0, size), dtype=np.float64)
    count = 1 + (len(samples) - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    return np.asarray(samples, dtype=np.float64)[index]


def _db(value: np.ndarray | float) -> np.ndarray | float:
    return 20.0 * np.log10(np.maximum(value, 1e-6))
