"""Scores for generated breath scenes (tests/breath_scenes.py): reduction inside the labelled
breaths, what changed outside them, and what an ASR hears."""

from __future__ import annotations

import re

import numpy as np
import scipy.signal
import soxr

from tests.breath_scenes import Scene


def _highpass(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    sos = scipy.signal.butter(4, 80, "highpass", fs=sample_rate, output="sos")
    return scipy.signal.sosfiltfilt(sos, audio.astype(np.float64))


def scene_reductions_db(scene: Scene, cleaned: np.ndarray) -> list[float]:
    """Per labelled breath: how far its interior (10 % in from each end, at least 20 ms) came
    down, dB, after an 80 Hz high-pass (the floor inside it counts too, as a listener hears it)."""
    rate = scene.sample_rate
    before, after = _highpass(scene.audio, rate), _highpass(cleaned, rate)
    out = []
    for label in scene.labels:
        inset = max(0.02, 0.1 * (label.end - label.start))
        a, b = round((label.start + inset) * rate), round((label.end - inset) * rate)
        energy_in = float(np.sum(before[a:b] ** 2))
        energy_out = float(np.sum(after[a:b] ** 2)) + 1e-20
        out.append(10 * np.log10(energy_in / energy_out))
    return out


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
