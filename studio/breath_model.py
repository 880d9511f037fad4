"""The breath classifier: a small neural network that scores each 10 ms frame as breath or not
from level-free frame features and their surroundings, run in numpy.

It is trained by `benchmarks/breath_train.py` on generated scenes only (several independent
breath families, voices, floors and sample rates; tests/breath_scenes.py), deterministically,
and stored as JSON beside this module (`breath_model.json`). Why a network and not rules: which
frames are breath depends on several features at once (a quiet flat frame is a breath next to a
pause and an /f/ inside a word), and hand-set thresholds on each alone found 1 in 5 breaths of a
synthesis they were not tuned on. Why not sklearn or torch: inference is two matrix products,
not worth a heavy import in the render.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("breath_model.json")

# Per frame, all relative (to the speech around, to the floor) or spectral shape: nothing that
# depends on the recording's absolute level or sample rate. Nothing above 5 kHz either: how much
# hiss a breath has up there varies most between breaths and microphones (a model that used it
# missed the breaths of a family it had not seen).
FEATURE_NAMES = (
    "level_re_speech",  # dB
    "level_re_floor",  # dB
    "flatness",  # dB, 300-8000 Hz
    "band_ratio",  # dB, 1-5 kHz vs 80-1000 Hz
    "zcr_octaves",  # log2(zero-crossing frequency / 1 kHz)
    "aperiodicity",  # YIN, 0 voiced .. 1 noise
    "flatness_50ms",  # the same, averaged over +-50 ms
    "band_ratio_50ms",
    "aperiodicity_50ms",
    "voiced_share_100ms",  # share of voiced frames within +-100 ms
    "voiced_before_s",  # seconds since the last voiced frame (capped)
    "voiced_after_s",  # seconds to the next voiced frame (capped)
    "level_50ms_re_speech",  # dB
    "louder_around_db",  # loudest frame within +-150 ms minus this frame
    "level_spread_db",  # standard deviation of the level over +-50 ms
)
VOICED_APERIODICITY = 0.2
VOICED_ABOVE_FLOOR_DB = 6.0
_CAP_SECONDS = 0.5


@dataclass(frozen=True, eq=False)
class BreathModel:
    mean: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weights, bias): tanh hidden, then logit

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        x = (matrix - self.mean) / self.scale
        *hidden, (w_out, b_out) = self.layers
        for weights, bias in hidden:
            x = np.tanh(x @ weights + bias)
        logit = x @ w_out + b_out
        return 1.0 / (1.0 + np.exp(-np.clip(logit[:, 0], -30, 30)))

    def to_json(self) -> dict:
        return {
            "features": list(FEATURE_NAMES),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "layers": [
                {"weights": w.round(6).tolist(), "bias": b.round(6).tolist()}
                for w, b in self.layers
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> BreathModel:
        if tuple(data["features"]) != FEATURE_NAMES:
            raise ValueError("the breath model was trained on other features; retrain it")
        layers = tuple(
            (np.asarray(layer["weights"], dtype=np.float64), np.asarray(layer["bias"]))
            for layer in data["layers"]
        )
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), layers)


@cache
def default_model() -> BreathModel:
    return BreathModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def feature_matrix(
    level: np.ndarray,
    flatness: np.ndarray,
    band_ratio: np.ndarray,
    high_ratio: np.ndarray,
    zcr_hz: np.ndarray,
    aperiodicity: np.ndarray,
    speech_level: np.ndarray,
    floor: np.ndarray,
    frames_per_second: float,
) -> np.ndarray:
    """(frames, len(FEATURE_NAMES)) float64: the model's input, from per-frame features and the
    local speech level and noise floor (dBFS)."""
    from scipy import ndimage  # imported where used: ~0.2 s, only for code that analyses audio

    def frames(seconds: float) -> int:
        return max(1, 2 * round(seconds * frames_per_second) + 1)

    def mean(values: np.ndarray, seconds: float) -> np.ndarray:
        return ndimage.uniform_filter1d(values.astype(np.float64), frames(seconds), mode="nearest")

    level = level.astype(np.float64)
    voiced = (aperiodicity < VOICED_APERIODICITY) & (level > floor + VOICED_ABOVE_FLOOR_DB)
    cap = round(_CAP_SECONDS * frames_per_second)
    index = np.arange(len(level))
    last = np.maximum.accumulate(np.where(voiced, index, -cap - 1))
    following = np.minimum.accumulate(np.where(voiced, index, len(level) + cap)[::-1])[::-1]
    before = np.minimum(index - last, cap) / frames_per_second
    after = np.minimum(following - index, cap) / frames_per_second
    power = 10 ** (level / 10)
    level_50 = 10 * np.log10(np.maximum(mean(power, 0.05), 1e-12))
    spread = np.sqrt(np.maximum(mean(level**2, 0.05) - mean(level, 0.05) ** 2, 0.0))
    loudest = ndimage.maximum_filter1d(level, frames(0.15), mode="nearest")
    columns = (
        np.clip(level - speech_level, -80, 10),
        np.clip(level - floor, 0, 60),
        flatness,
        np.clip(band_ratio, -40, 30),
        np.log2(np.maximum(zcr_hz, 50.0) / 1000.0),
        aperiodicity,
        mean(flatness, 0.05),
        mean(np.clip(band_ratio, -40, 30), 0.05),
        mean(aperiodicity, 0.05),
        mean(voiced.astype(np.float64), 0.1),
        before,
        after,
        np.clip(level_50 - speech_level, -80, 10),
        np.clip(loudest - level, 0, 60),
        spread,
    )
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)
