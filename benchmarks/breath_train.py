"""Train the breath model (studio/breath_model.json) on generated scenes, deterministically.

    .venv/bin/python benchmarks/breath_train.py            # writes studio/breath_model.json
    .venv/bin/python benchmarks/breath_train.py --check    # trains, compares, writes nothing

The scenes (tests/breath_scenes.py) are the bundled voice at three speeds saying the training
sentences, with breaths of every family. Nothing else is seen in training: not the benchmark's
sentences, speeds or espeak-ng voices, not the real recordings in tests/data. benchmarks/breath.py
trains the same way with one family left out, and scores that family.

The network: standardized frame features, one tanh layer, a logistic output; full-batch Adam
from a fixed seed, weighted so that each family's breath frames count alike and breath and
non-breath frames weigh the same in total.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# One BLAS thread: the sums in the matrix products then come out in one order, so a retrain
# gives the committed file byte for byte (threaded BLAS differs in the last digits).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.breath import (
    SILENCE_DBFS,
    BreathSettings,
    frame_features,
    frame_margin_db,
    model_inputs,
)
from studio.breath_model import MODEL_PATH, BreathModel
from tests.breath_scenes import FAMILIES, Scene, Voice, build_scene, bundled_voice

TRAIN_SPEEDS = (0.85, 1.0, 1.2)
TRAIN_SEEDS = (0, 1)
EDGE_SECONDS = 0.02  # frames this close to a breath's ends are left out of training
HIDDEN = 16
STEPS = 800


def training_voices(work_dir: Path) -> list[Voice]:
    return [bundled_voice(work_dir, speed) for speed in TRAIN_SPEEDS]


def training_scenes(voices: list[Voice], families: tuple[str, ...] = FAMILIES) -> list[Scene]:
    return [
        build_scene(voice, family, seed=seed)
        for family in families
        for voice in voices
        for seed in TRAIN_SEEDS
    ]


def scene_frames(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, keep) for the frames of a scene that could be breath at all (above the
    floor), with the frames near a breath's ends left out."""
    settings = BreathSettings()
    features = frame_features(scene.audio, scene.sample_rate, settings)
    matrix, _, floor = model_inputs(features)
    times = (np.arange(len(features.level)) + 0.5) * features.hop / scene.sample_rate
    target = np.zeros(len(times), dtype=bool)
    near_edge = np.zeros(len(times), dtype=bool)
    for label in scene.labels:
        target |= (times >= label.start + EDGE_SECONDS) & (times <= label.end - EDGE_SECONDS)
        near_edge |= (times > label.start - EDGE_SECONDS) & (times < label.end + EDGE_SECONDS)
    eligible = (features.level > SILENCE_DBFS) & (
        features.level >= floor + frame_margin_db(settings)
    )
    keep = eligible & (target | ~near_edge)
    keep[1::2] = False  # neighbouring frames overlap by half: every other one is enough
    return matrix[keep], target[keep], np.full(int(keep.sum()), FAMILIES.index(scene.family))


def fit(
    inputs: np.ndarray, targets: np.ndarray, family: np.ndarray, *, seed: int = 0
) -> BreathModel:
    weight = np.zeros(len(targets))
    positives = [f for f in np.unique(family[targets])]
    for f in positives:
        chosen = targets & (family == f)
        weight[chosen] = 0.5 / (len(positives) * chosen.sum())
    weight[~targets] = 0.5 / max(1, (~targets).sum())
    mean = inputs.mean(axis=0)
    scale = inputs.std(axis=0) + 1e-6
    x = (inputs - mean) / scale
    y = targets.astype(np.float64)
    rng = np.random.default_rng(seed)
    params = [
        rng.normal(0, 1 / np.sqrt(x.shape[1]), (x.shape[1], HIDDEN)),
        np.zeros(HIDDEN),
        rng.normal(0, 1 / np.sqrt(HIDDEN), (HIDDEN, 1)),
        np.zeros(1),
    ]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    rate, beta1, beta2, decay = 0.03, 0.9, 0.999, 1e-3
    for step in range(1, STEPS + 1):
        w1, b1, w2, b2 = params
        hidden = np.tanh(x @ w1 + b1)
        logit = (hidden @ w2 + b2)[:, 0]
        p = 1 / (1 + np.exp(-np.clip(logit, -30, 30)))
        d_logit = (weight * (p - y))[:, None]
        d_hidden = (d_logit @ w2.T) * (1 - hidden**2)
        grads = [
            x.T @ d_hidden + decay * w1,
            d_hidden.sum(axis=0),
            hidden.T @ d_logit + decay * w2,
            d_logit.sum(axis=0),
        ]
        for i, grad in enumerate(grads):
            moments[i] = beta1 * moments[i] + (1 - beta1) * grad
            squares[i] = beta2 * squares[i] + (1 - beta2) * grad**2
            corrected = moments[i] / (1 - beta1**step)
            params[i] -= rate * corrected / (np.sqrt(squares[i] / (1 - beta2**step)) + 1e-8)
    w1, b1, w2, b2 = params
    return BreathModel(mean, scale, ((w1, b1), (w2, b2)))


def train(scenes: list[Scene], leave_out: str | None = None) -> BreathModel:
    parts = [scene_frames(s) for s in scenes if s.family != leave_out]
    inputs = np.concatenate([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    family = np.concatenate([p[2] for p in parts])
    return fit(inputs, targets, family)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="train and compare; write nothing")
    args = parser.parse_args()
    from studio.cache import default_cache_dir

    scenes = training_scenes(training_voices(default_cache_dir() / "models"))
    model = train(scenes)
    text = json.dumps(model.to_json(), indent=1) + "\n"
    if args.check:
        same = MODEL_PATH.is_file() and MODEL_PATH.read_text() == text
        print("the committed model matches" if same else "the committed model differs")
        sys.exit(0 if same else 1)
    MODEL_PATH.write_text(text)
    print(f"wrote {MODEL_PATH} ({len(text)} bytes) from {len(scenes)} scenes")


if __name__ == "__main__":
    main()
