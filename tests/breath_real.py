"""Real read speech with hand-made breath labels (tests/data/moonshine/README.md says how)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

FOLDER = Path(__file__).parent / "data" / "moonshine"
REAL_RECORDINGS = ("two_cities", "beckett", "endgame_nagg_nell")
Span = tuple[float, float]


def load_real(name: str) -> tuple[np.ndarray, int, list[Span], list[Span]]:
    """(mono float32 audio, sample rate, breaths, unsure stretches) of one recording."""
    audio, rate = sf.read(FOLDER / f"{name}.flac", dtype="float32")
    labels = json.loads((FOLDER / "breaths.json").read_text(encoding="utf-8"))[name]
    spans = {kind: [(float(a), float(b)) for a, b in labels[kind]] for kind in labels}
    return audio, rate, spans["breath"], spans["unsure"]


def counted(found: list[Span], unsure: list[Span]) -> list[Span]:
    """The detections that count: those overlapping no unsure stretch."""
    return [(a, b) for a, b in found if not any(a < ub and b > ua for ua, ub in unsure)]
