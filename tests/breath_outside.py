"""Breaths from syntheses that neither the breath model nor any rule of the detector was built
on: a further held-out check beside tests/breath_scenes.py's six families (benchmarks/breath.py
section 2, "outside families"). Each is its own recipe, with envelopes and spectra the six
families do not use:

- hiss: a bright close-microphone inhalation, white noise high-passed at 1-2.5 kHz, a flat
  trapezoid envelope (slow attack, long sustain);
- whisper: noise through three to five random resonances anywhere in 300-5000 Hz with a random
  tilt, rising like a crescendo and stopping abruptly;
- flutter: dark noise (brown and pink) fluttering at 12-35 Hz, low-passed at 2.5-6 kHz;
- gasp: plain full-band white noise under a Gaussian envelope, long (0.4-1.2 s);
- fixture: tests/breath_fixtures.py's own inhalation (vocal-tract resonances and hiss).

    scene = build_scene(voice, "hiss", seed=5, maker=OUTSIDE["hiss"], texts=EVAL_TEXTS)

Nothing here is used in training (benchmarks/breath_train.py) and nothing was tuned on its scores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.signal

from tests.breath_fixtures import synthetic_breath
from tests.breath_scenes import BASE_RATE


def _normalized(breath: np.ndarray, level_db: float) -> np.ndarray:
    breath = breath - np.linspace(breath[0], breath[-1], len(breath))
    rms = np.sqrt(np.mean(breath**2)) + 1e-20
    return (breath * 10 ** (level_db / 20) / rms).astype(np.float32)


def _filtered(sos: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return scipy.signal.sosfiltfilt(sos, noise)


def hiss(rng: np.random.Generator, level_db: float) -> np.ndarray:
    n = round(rng.uniform(0.3, 0.9) * BASE_RATE)
    sos = scipy.signal.butter(2, rng.uniform(1000, 2500), "highpass", fs=BASE_RATE, output="sos")
    sound = _filtered(sos, rng.standard_normal(n))
    sound = _filtered(
        scipy.signal.butter(1, rng.uniform(7000, 10000), fs=BASE_RATE, output="sos"), sound
    )
    attack, release = round(rng.uniform(0.04, 0.12) * n), round(rng.uniform(0.03, 0.08) * n)
    envelope = np.ones(n)
    envelope[:attack] = np.linspace(0, 1, attack)
    envelope[n - release :] = np.linspace(1, 0, release)
    return _normalized(sound * envelope, level_db)


def whisper(rng: np.random.Generator, level_db: float) -> np.ndarray:
    n = round(rng.uniform(0.2, 0.8) * BASE_RATE)
    source = rng.standard_normal(n)
    sound = np.zeros(n)
    for _ in range(int(rng.integers(3, 6))):
        centre = float(np.exp(rng.uniform(np.log(300), np.log(5000))))
        width = rng.uniform(100, 1000)
        low, high = max(50.0, centre - width / 2), min(0.45 * BASE_RATE, centre + width / 2)
        sos = scipy.signal.butter(2, [low, high], "bandpass", fs=BASE_RATE, output="sos")
        sound += 10 ** (rng.uniform(-12, 0) / 20) * scipy.signal.sosfilt(sos, source)
    if rng.random() < 0.5:  # brighter: a first difference (+6 dB/octave) mixed in
        sound = sound + rng.uniform(1, 4) * np.diff(sound, prepend=0.0)
    t = np.linspace(0, 1, n)
    envelope = t ** rng.uniform(1.0, 3.0)
    stop = round(0.015 * BASE_RATE)
    envelope[n - stop :] *= np.linspace(1, 0, stop)
    return _normalized(sound * envelope, level_db)


def flutter(rng: np.random.Generator, level_db: float) -> np.ndarray:
    n = round(rng.uniform(0.3, 1.0) * BASE_RATE)
    white = rng.standard_normal(n)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(512) / 512, "same")  # no drift below ~40 Hz
    freqs = np.fft.rfftfreq(n, 1 / BASE_RATE)
    pink = np.fft.irfft(np.fft.rfft(white) / np.sqrt(np.maximum(freqs, 30.0)), n)
    sound = brown / np.std(brown) + rng.uniform(0.5, 2.0) * pink / np.std(pink)
    sos = scipy.signal.butter(4, rng.uniform(2500, 6000), fs=BASE_RATE, output="sos")
    sound = _filtered(sos, sound)
    t = np.arange(n) / BASE_RATE
    rate, depth = rng.uniform(12, 35), rng.uniform(0.3, 0.7)
    envelope = np.sin(np.pi * np.arange(n) / n) * (1 + depth * np.sin(2 * np.pi * rate * t))
    return _normalized(sound * envelope, level_db)


def gasp(rng: np.random.Generator, level_db: float) -> np.ndarray:
    n = round(rng.uniform(0.4, 1.2) * BASE_RATE)
    t = np.linspace(-1, 1, n)
    envelope = np.exp(-0.5 * ((t - rng.uniform(-0.3, 0.3)) / rng.uniform(0.3, 0.5)) ** 2)
    return _normalized(rng.standard_normal(n) * envelope, level_db)


def fixture(rng: np.random.Generator, level_db: float) -> np.ndarray:
    return _normalized(
        synthetic_breath(rng, rng.uniform(0.18, 0.7), BASE_RATE, level_db).astype(np.float64),
        level_db,
    )


OUTSIDE: dict[str, Callable[[np.random.Generator, float], np.ndarray]] = {
    "hiss": hiss,
    "whisper": whisper,
    "flutter": flutter,
    "gasp": gasp,
    "fixture": fixture,
}
