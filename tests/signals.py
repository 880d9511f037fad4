"""Synthetic, speech-like test signals: harmonic voice in syllables, hot clicks, silence."""

from __future__ import annotations

import numpy as np


def speech_like(
    seconds: float,
    rate: int,
    *,
    seed: int = 0,
    lead: float = 0.3,
    trail: float = 0.4,
    clicks: int = 3,
    level: float = 0.2,
) -> np.ndarray:
    """`seconds` of voice between `lead` and `trail` seconds of digital silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    f0 = rng.uniform(100, 180) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 25))
    syllables = np.sin(np.pi * rng.uniform(3, 5) * t) ** 2  # starts and ends at zero
    audio = level * voice * syllables
    for at in rng.uniform(0.2, max(0.3, seconds - 0.2), clicks):
        i = round(at * rate)
        audio[i : i + 30] += rng.uniform(0.7, 0.9) * np.hanning(len(audio[i : i + 30]))
    silent = (np.zeros(round(lead * rate)), np.zeros(round(trail * rate)))
    return np.concatenate((silent[0], audio, silent[1])).astype(np.float32)
