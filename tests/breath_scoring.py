"""Scores for generated breath scenes (tests/breath_scenes.py): reduction inside the labelled
breaths, what changed outside them, and what an ASR hears."""

from __future__ import annotations

import re

import numpy as np
import soxr

from tests.breath_fixtures import interior_reductions_db
from tests.breath_scenes import Scene


def scene_reductions_db(scene: Scene, cleaned: np.ndarray) -> list[float]:
    """Per labelled breath: how far its interior came down, dB (see `reductions_db`; the floor
    inside it counts too, as a listener hears it)."""
    spans = [(label.start, label.end) for label in scene.labels]
    return interior_reductions_db(scene.audio, cleaned, scene.sample_rate, spans)


def scene_snr_parts(scene: Scene, cleaned: np.ndarray) -> tuple[float, float]:
    """(signal energy, change energy) outside the labelled breaths."""
    outside = ~scene.breath_mask()
    signal = scene.audio[outside].astype(np.float64)
    error = cleaned[outside].astype(np.float64) - signal
    return float(np.sum(signal**2)), float(np.sum(error**2))


def heard(audio: np.ndarray, sample_rate: int) -> str:
    """What pocketsphinx's bundled English model hears."""
    from pocketsphinx import Decoder

    pcm = soxr.resample(audio.astype(np.float32), sample_rate, 16000)
    pcm = (np.clip(pcm, -1, 1) * 32767).astype(np.int16)
    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    return decoder.hyp().hypstr if decoder.hyp() else ""


def plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split())


def transcript_wer(scene: Scene, audio: np.ndarray) -> float:
    import jiwer

    return float(jiwer.wer(plain(" ".join(scene.texts)), plain(heard(audio, scene.sample_rate))))
