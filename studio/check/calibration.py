"""What the recognizer does on known-good audio of a voice: the bar a segment is judged against.

A recognizer hears a synthetic voice imperfectly, and some voices far worse than others; judged
against a perfect score, a weak pairing would flag half of a good episode. So each voice is
calibrated once: the voice reads a fixed passage, the recognizer listens with a vocabulary the
size of an essay's (the passage and as many other sentences it never hears), and the scores it
gets, the voice's speaking rate and its longest pause inside a sentence set the thresholds. The
result is kept in the cache, keyed by the voice's identity and the recognizer's.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.check.signals import measure
from studio.check.words import align, tokens, word_score
from studio.files import write_text_atomic

VERSION = 2

# Read by the voice: ordinary prose, a question, a list, numbers and an acronym as a script
# speaks them.
PASSAGE = (
    "The first thing you notice about a small model is how quickly it answers.",
    "Nobody waits for it anymore, and that changes what people ask of it.",
    "I wrote this essay over a long weekend, mostly in the mornings, with coffee.",
    "What would you do with a tool that never gets tired of your questions?",
    "The library opened in nineteen ninety-eight and closed for good last spring.",
    "She packed three things: a notebook, a torch, and a map of the old town.",
    "Every sentence should earn its place, or it should go.",
    "The report came back from the N-H-S on a Tuesday, two weeks late.",
    "Rain moved in from the west, and the harbour lights came on one by one.",
    "We measured it twice, and both times the answer was about forty percent.",
)
# Never spoken: they give the recognizer's vocabulary an essay's breadth, so calibration hears
# with the same freedom to mishear as a real check.
DISTRACTORS = (
    "Markets rarely reward patience in the short run, but they do in the long one.",
    "He said the bridge would be finished by autumn, which nobody believed.",
    "A good editor cuts the paragraph you are proudest of.",
    "The orchestra tuned for a minute before the conductor walked on.",
    "Most of the data came from a survey of small farms in the north.",
    "If the server fails at night, the second one takes over without a sound.",
    "Children learn the rules of a game faster than adults learn to lose it.",
    "The museum keeps its oldest maps in a cold room under the stairs.",
    "Training the model took eleven days on a single machine.",
    "Her grandmother grew tomatoes on a balcony six floors above the street.",
    "The committee voted against the plan by a narrow margin.",
    "Light from that star left it before the pyramids were built.",
)


@dataclass(frozen=True)
class Calibration:
    scores: tuple[float, ...]  # word scores of the passage's sentences
    min_score: float  # a segment scoring below this is flagged `words`
    chars_per_second: float  # the voice's speaking rate (spoken text over sounding seconds)
    longest_gap: float  # seconds: its longest pause inside a sentence

    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration | None:
        if data.get("version") != VERSION:
            return None
        try:
            return cls(
                scores=tuple(float(s) for s in data["scores"]),
                min_score=float(data["min_score"]),
                chars_per_second=float(data["chars_per_second"]),
                longest_gap=float(data["longest_gap"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


# The bar is set well below what good takes score, never above MAX_BAR (a voice the recognizer
# hears perfectly still has its odd misheard word) nor under MIN_BAR (a voice it hears badly is
# still judged: audio that is not the sentence scores near zero).
MAX_BAR = 0.7
MIN_BAR = 0.25


def bar_from_scores(scores: Sequence[float]) -> float:
    mean = statistics.fmean(scores)
    spread = statistics.pstdev(scores) if len(scores) > 1 else 0.1
    return round(min(MAX_BAR, max(MIN_BAR, mean - 3.0 * spread - 0.1)), 3)


# Speaking rates a voice can have (characters of spoken text a second); a calibration outside
# them, or one the recognizer could not follow, measured something other than speech.
RATE_RANGE = (6.0, 35.0)
INTELLIGIBLE = 0.5  # mean passage score under which the recognizer did not follow the voice


def calibrate(
    takes: Sequence[tuple[np.ndarray, int]],
    listen: Callable[[list[np.ndarray], Sequence[str]], list[Any]],
    to_16k: Callable[[np.ndarray, int], np.ndarray],
    *,
    fallback_rate: float = 14.0,
) -> Calibration:
    """Calibration from the voice's takes of `PASSAGE` (audio, sample rate), one per sentence.

    When the recognizer could not follow the voice (or the rate is not a speaking rate), the
    lengths it measured are not of speech: `fallback_rate` (the voice profile's) is used."""
    heard = listen([to_16k(audio, rate) for audio, rate in takes], [*PASSAGE, *DISTRACTORS])
    scores = []
    for text, h in zip(PASSAGE, heard, strict=True):
        scores.append(word_score(align(tokens(text), h.words, h.confidence)))
    signals = [measure(audio, rate) for audio, rate in takes]
    rates = [len(text) / s.seconds for text, s in zip(PASSAGE, signals, strict=True) if s.seconds]
    rate = float(statistics.median(rates)) if rates else fallback_rate
    if statistics.fmean(scores) < INTELLIGIBLE or not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        rate = fallback_rate
    return Calibration(
        scores=tuple(scores),
        min_score=bar_from_scores(scores),
        chars_per_second=round(rate, 2),
        longest_gap=round(max(s.longest_gap for s in signals), 2),
    )


def calibration_path(cache_dir: Path, voice: dict[str, Any], recognizer: dict[str, Any]) -> Path:
    key = json.dumps([VERSION, voice, recognizer, PASSAGE, DISTRACTORS], sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return cache_dir / "check" / "calibration" / f"{digest[:32]}.json"


def load(path: Path) -> Calibration | None:
    try:
        return Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def save(path: Path, calibration: Calibration) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(calibration.to_json()))
