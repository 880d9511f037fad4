"""The bundled voice, run for real through Coqui's VITS ONNX path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from piper.phoneme_ids import phonemes_to_ids as piper_phonemes_to_ids

from studio.engines import bundled
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


def test_onnx_threads_sleep_rather_than_spin(engine: BundledEngine) -> None:
    engine.synthesize("Loaded once.")
    options = engine._thread_vits().onnx_sess.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_a_failed_background_import_is_raised_by_synthesize(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_import() -> None:
        raise ImportError("no torch today")

    real_import = bundled._import_vits
    monkeypatch.setattr(bundled, "_vits_import", None)  # as in a fresh process
    monkeypatch.setattr(bundled, "_import_vits", broken_import)
    engine = BundledEngine(work_dir=cache_dir / "models")
    with pytest.raises(ImportError, match="no torch today"):
        engine.synthesize("This take never loads.")
    monkeypatch.setattr(bundled, "_import_vits", real_import)
    assert len(engine.synthesize("The next try imports again.").audio) > 0
