"""The hallucination guard: is a take about as long as its text, and is anything in it?

XTTS samples its audio tokens, and now and then a take runs on past its text (repeated or invented
endings), stops early, or comes out nearly silent. Its maintainers say this can't be avoided
entirely, so each take is judged against the duration its text should take at the voice's
speaking rate; a bad take is synthesized again with another seed, and the best attempt is kept.

Everything here is a pure function of audio and text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from studio.engines.base import Synthesis

FRAME_SECONDS = 0.02
MIN_EXPECTED_SECONDS = 0.6  # a two-word take still has its onset and release


@dataclass(frozen=True)
class GuardSettings:
    chars_per_second: float = 14.0  # the voice's speaking rate, calibrated per voice
    too_short: float = 0.4  # a take under this fraction of the expected duration is cut off
    too_long: float = 2.5  # over this multiple it is babbling or repeating itself
    silence_dbfs: float = -40.0  # a take whose loudest 20 ms stays below this is near-silent
    max_attempts: int = 3


@dataclass(frozen=True)
class Verdict:
    seconds: float  # from the first to the last audible frame
    expected: float
    problem: str  # "" when the take is good, else "too long", "too short" or "near-silent"

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def score(self) -> float:
        """Lower is better: how far the length is from the expected one (silence is worst)."""
        if self.problem == "near-silent":
            return math.inf
        distance = abs(math.log(max(self.seconds, 1e-3) / self.expected))
        return distance + (10.0 if self.problem else 0.0)

    def describe(self) -> str:
        return f"{self.seconds:.1f} s of sound where ~{self.expected:.1f} s was expected"


def expected_seconds(text: str, chars_per_second: float) -> float:
    return max(MIN_EXPECTED_SECONDS, len(" ".join(text.split())) / chars_per_second)


def frame_levels(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS level of each 20 ms frame, in dBFS."""
    size = max(1, int(sample_rate * FRAME_SECONDS))
    count = len(audio) // size
    if count == 0:
        return np.full(1, -120.0) if len(audio) == 0 else _db(np.sqrt(np.mean(audio**2)))[None]
    frames = np.asarray(audio[: count * size], dtype=np.float64).reshape(count, size)
    return _db(np.sqrt(np.mean(frames**2, axis=1)))


def sounding_seconds(
    levels: np.ndarray, floor_db: float = -55.0, below_peak_db: float = 35.0
) -> float:
    """Seconds from the first to the last frame loud enough to be part of the take's speech."""
    threshold = max(floor_db, float(levels.max()) - below_peak_db)
    loud = np.flatnonzero(levels >= threshold)
    if loud.size == 0:
        return 0.0
    return (loud[-1] - loud[0] + 1) * FRAME_SECONDS


def judge(audio: np.ndarray, sample_rate: int, text: str, settings: GuardSettings) -> Verdict:
    expected = expected_seconds(text, settings.chars_per_second)
    levels = frame_levels(audio, sample_rate)
    if float(levels.max()) < settings.silence_dbfs:
        return Verdict(0.0, expected, "near-silent")
    seconds = sounding_seconds(levels)
    if seconds > settings.too_long * expected:
        return Verdict(seconds, expected, "too long")
    if seconds < settings.too_short * expected:
        return Verdict(seconds, expected, "too short")
    return Verdict(seconds, expected, "")


def best_take(
    make: Callable[[int], np.ndarray], text: str, sample_rate: int, settings: GuardSettings
) -> Synthesis:
    """Call `make(attempt)` (attempt 0, 1, ... each with its own seed) until a take passes.

    Stops at the first good take or after `max_attempts`; returns the best attempt, with a note for
    every rejected one so the render manifest can say what happened.
    """
    best: tuple[float, int, np.ndarray] | None = None
    notes: list[str] = []
    attempt = 0
    for attempt in range(settings.max_attempts):
        audio = make(attempt)
        verdict = judge(audio, sample_rate, text, settings)
        if best is None or verdict.score < best[0]:
            best = (verdict.score, attempt, audio)
        if verdict.ok:
            break
        notes.append(f"attempt {attempt + 1}: {verdict.problem}, {verdict.describe()}")
    assert best is not None
    attempts = attempt + 1
    if not math.isfinite(best[0]) or best[0] >= 10.0:
        notes.append(f"no attempt passed; kept attempt {best[1] + 1} of {attempts}, the closest")
    return Synthesis(best[2], attempts=attempts, notes=tuple(notes))


def _db(value: np.ndarray | float) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(value, 1e-6))
