"""Real read speech with hand-made breath labels (each folder's README.md says how)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

DATA = Path(__file__).parent / "data"
# Recording name -> its folder; the moonshine reads hold no clear breath, the LibriVox one does.
FOLDERS = {
    "two_cities": "moonshine",
    "beckett": "moonshine",
    "endgame_nagg_nell": "moonshine",
    "sonnet_1": "librivox",
}
REAL_RECORDINGS = tuple(FOLDERS)
Span = tuple[float, float]


def load_real(name: str) -> tuple[np.ndarray, int, list[Span], list[Span]]:
    """(mono float32 audio, sample rate, breaths, unsure stretches) of one recording."""
    folder = DATA / FOLDERS[name]
    audio, rate = sf.read(folder / f"{name}.flac", dtype="float32")
    labels = json.loads((folder / "breaths.json").read_text(encoding="utf-8"))[name]
    spans = {kind: [(float(a), float(b)) for a, b in labels[kind]] for kind in labels}
    return audio, rate, spans["breath"], spans["unsure"]


def counted(found: list[Span], unsure: list[Span]) -> list[Span]:
    """The detections that count: those overlapping no unsure stretch."""
    return [(a, b) for a, b in found if not any(a < ub and b > ua for ua, ub in unsure)]
