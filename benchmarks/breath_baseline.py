"""The issue's yardstick: a 15-line breath detector from energy gaps between words, with no
spectral feature and nothing trained. `benchmarks/breath.py` scores it beside the detector.

Its numbers were fixed before it was first run (a breath is sound 6 dB over the file's quiet
level and 15 dB under its loud level for 100 ms to 2 s), and never changed after."""

from __future__ import annotations

import numpy as np


def energy_gap_breaths(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of sound between words: over the floor, well under
    the speech, as long as a breath."""
    hop, window = round(0.01 * sample_rate), round(0.025 * sample_rate)
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), window)[::hop]
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    level = 10 * np.log10(np.convolve(10 ** (level / 10), np.ones(5) / 5, mode="same") + 1e-12)
    floor, speech = np.percentile(level, 5), np.percentile(level, 95)
    sound = np.concatenate(([False], (level > floor + 6) & (level < speech - 15), [False]))
    edges = np.flatnonzero(np.diff(sound.astype(np.int8)))
    return [
        (a * hop / sample_rate, (b * hop + window) / sample_rate)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if 0.1 <= (b - a) * hop / sample_rate <= 2.0
    ]
