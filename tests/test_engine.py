"""The bundled voice, run for real through Coqui's VITS ONNX path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from piper.phoneme_ids import phonemes_to_ids as piper_phonemes_to_ids

from studio.engines.bundled import BundledEngine, phonemes_to_ids, phonemize


@pytest.fixture(scope="module")
def engine(cache_dir: Path) -> BundledEngine:
    return BundledEngine(work_dir=cache_dir / "models")


def test_phoneme_ids_follow_the_voice_training_layout(engine: BundledEngine) -> None:
    phonemes = phonemize("Hello, world.", engine.espeak_voice)
    ids = phonemes_to_ids(phonemes, engine.phoneme_id_map)
    id_map = engine.phoneme_id_map
    assert ids[:2] == [*id_map["^"], *id_map["_"]]
    assert ids[-1] == id_map["$"][0]
    assert ids[3:-1:2] == [id_map["_"][0]] * len(ids[3:-1:2])  # pad after every phoneme
    assert ids == piper_phonemes_to_ids(phonemes, id_map)


def test_espeak_ipa_is_what_piper_trained_on(engine: BundledEngine) -> None:
    assert "".join(phonemize("Hello, world.", engine.espeak_voice)) == "həlˈoʊ, wˈɜːld."


def test_ipa_blocks_pass_through_as_raw_phonemes(engine: BundledEngine) -> None:
    phonemes = phonemize("Say [[kˈoʊki]] now.", engine.espeak_voice)
    assert "".join(phonemes) == "sˈeɪ kˈoʊki nˈaʊ."


def test_synthesis_is_deterministic_and_text_dependent(engine: BundledEngine) -> None:
    first = engine.synthesize("The same sentence twice.").audio
    engine.synthesize("Something else in between, to move any hidden random state.")
    second = engine.synthesize("The same sentence twice.").audio
    assert engine.sample_rate == 22050
    assert first.dtype == np.float32 and first.ndim == 1
    assert np.array_equal(first, second)
    assert 0.8 < len(first) / engine.sample_rate < 3.0
    assert np.sqrt(np.mean(first**2)) > 0.01  # real speech, not silence


def test_speed_changes_duration(cache_dir: Path) -> None:
    normal = BundledEngine(work_dir=cache_dir / "models")
    fast = BundledEngine(work_dir=cache_dir / "models", speed=1.5)
    text = "Reading a little faster makes a shorter take."
    ratio = len(fast.synthesize(text).audio) / len(normal.synthesize(text).audio)
    assert 0.55 < ratio < 0.8


def test_identity_changes_with_settings_but_needs_no_model_load(cache_dir: Path) -> None:
    a = BundledEngine(work_dir=cache_dir / "models")
    b = BundledEngine(work_dir=cache_dir / "models", speed=1.2)
    assert a.identity() != b.identity()
    assert a.identity()["model"] == b.identity()["model"]
    assert not a.loaded  # computing a cache key must not load the model
