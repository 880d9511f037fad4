"""The bundled voice, run for real through Coqui's VITS ONNX path."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from piper.phoneme_ids import phonemes_to_ids as piper_phonemes_to_ids

from studio.engines import bundled
from studio.engines.bundled import (
    BundledEngine,
    InferenceGate,
    available_cores,
    phonemes_to_ids,
    phonemize,
)

pytestmark = pytest.mark.slow  # synthesizes with the bundled voice


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
    options = engine._loaded_vits().onnx_sess.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    # the parallel takes split the cores between them
    assert options.intra_op_num_threads == max(1, available_cores() // engine.parallel_takes)


def test_takes_made_at_once_on_the_shared_session_match_takes_made_alone(
    engine: BundledEngine,
) -> None:
    texts = [
        "A long sentence goes first, so that the short ones overlap with it on the other thread.",
        "A short one.",
        "Another short sentence here.",
        "And a last one, of middling length, to finish.",
    ]
    assert engine.parallel_takes == min(2, available_cores())
    alone = [engine.synthesize(text).audio for text in texts]
    with ThreadPoolExecutor(engine.parallel_takes) as pool:
        together = list(pool.map(lambda text: engine.synthesize(text).audio, texts))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


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


def test_the_gate_bounds_takes_and_ids_in_flight_and_lets_short_takes_pass_long_ones() -> None:
    gate = InferenceGate(slots=2, ids_cap=800)
    started: list[str] = []
    finish = {name: threading.Event() for name in "ABCDE"}
    lock = threading.Lock()

    def take(name: str, ids: int) -> threading.Thread:
        def run() -> None:
            with gate.admit(ids):
                with lock:
                    started.append(name)
                finish[name].wait(timeout=10)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.1)  # let it reach the gate (and start, if it may) before the next one
        return thread

    def done(name: str) -> None:
        finish[name].set()
        time.sleep(0.1)

    threads = [take("A", 200)]
    threads.append(take("B", 700))  # 200 + 700 > 800: waits for room
    threads.append(take("C", 300))  # fits beside A, but would then hold B back: waits
    assert started == ["A"]
    done("A")
    assert started == ["A", "B"]  # B first; C does not fit beside it
    threads.append(take("D", 50))  # C cannot start, and D leaves room for it: D passes C
    threads.append(take("E", 10))  # two are running: no slot, however short
    assert started == ["A", "B", "D"]
    done("B")
    assert started == ["A", "B", "D", "C"]
    done("D")
    assert started == ["A", "B", "D", "C", "E"]
    done("C")
    done("E")
    for thread in threads:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads)


def test_a_take_longer_than_the_cap_runs_alone() -> None:
    gate = InferenceGate(slots=2, ids_cap=800)
    with gate.admit(1200):
        assert not gate._fits(10)
    assert gate._fits(1200)
