"""XTTS v2 through studio, on a tiny random-weight checkpoint built with Coqui's own classes.

The model says nothing sensible (it makes ~0.4 s of noise per take), but every step studio takes
with a real XTTS v2 folder runs for real: XttsConfig + Xtts.load_checkpoint, cloning latents from
soundfile-read clips, the disk cache of latents, the tokenizer limits, seeded sampling, the
hallucination guard's retries, and a full render through the CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.engines.guard import GuardSettings
from studio.engines.xtts import XttsEngine, xtts_text
from studio.errors import StudioError
from tests.conftest import run_studio
from tests.xtts_fixture import TAKE_SECONDS, build_tiny_xtts, write_voice_clip

pytestmark = [pytest.mark.xtts, pytest.mark.slow]


@pytest.fixture(scope="session")
def tiny_xtts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_xtts(tmp_path_factory.mktemp("xtts") / "tiny-xtts")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    folder = tmp_path_factory.mktemp("clips")
    mono = write_voice_clip(folder / "mono-44k.wav", 4.0)
    # A stereo 48 kHz FLAC: clips are mixed down and resampled before cloning.
    audio, rate = sf.read(write_voice_clip(folder / "tmp.wav", 3.0, 48000), dtype="float32")
    stereo = folder / "stereo-48k.flac"
    sf.write(stereo, np.stack([audio, audio * 0.5], axis=1), rate)
    return mono, stereo


@pytest.fixture(scope="module")
def engine(tiny_xtts: Path, clips: tuple[Path, ...], cache_dir: Path) -> XttsEngine:
    """One loaded model for the in-process tests; its latents land in the session's cache,
    where the end-to-end render (another process) finds them."""
    return XttsEngine(tiny_xtts, clips, work_dir=cache_dir)


def test_loads_with_coqui_classes_clones_and_speaks_at_24k(engine: XttsEngine) -> None:
    config = json.loads((engine.folder / "config.json").read_text())
    assert config["model_args"]["gpt_layers"] == 1
    take = engine.synthesize("Hello.")
    assert engine.loaded and engine.latents_from_cache is False  # computed from the clips
    assert engine.sample_rate == 24000 == config["model_args"]["output_sample_rate"]
    assert take.audio.dtype == np.float32 and take.audio.ndim == 1
    assert len(take.audio) / engine.sample_rate == pytest.approx(TAKE_SECONDS, rel=0.15)
    assert float(np.sqrt(np.mean(take.audio**2))) > 1e-3
    assert take.attempts == 1 and take.notes == ()


def test_the_same_text_and_settings_give_the_same_take(engine: XttsEngine) -> None:
    first = engine.take("The same sentence twice.")
    engine.take("Something else in between, to move any random state.", attempt=1)
    again = engine.take("The same sentence twice.")
    assert np.array_equal(first, again)


def test_latents_are_cached_on_disk_by_model_and_clips(
    engine: XttsEngine, tiny_xtts: Path, clips: tuple[Path, ...]
) -> None:
    gpt, speaker = engine.latents()
    assert engine.latents_path().is_file()
    fresh = XttsEngine(tiny_xtts, clips, work_dir=engine.work_dir)
    cached_gpt, cached_speaker = fresh.latents()
    assert fresh.latents_from_cache is True and not fresh.loaded  # no model needed for them
    assert np.array_equal(gpt.numpy(), cached_gpt.numpy())
    assert np.array_equal(speaker.numpy(), cached_speaker.numpy())
    one_clip = XttsEngine(tiny_xtts, clips[:1], work_dir=engine.work_dir)
    assert one_clip.latents_path() != engine.latents_path()


def test_token_count_matches_the_models_own_tokenizer(engine: XttsEngine) -> None:
    tokenizer = engine.load().tokenizer
    for text in (
        "The o one model costs fifteen dollars per million tokens.",
        "Quote. It's what we said, isn't it? End quote.",
        "\u201cHello,\u201d she said \u2014 and then\u2026 nothing.",
    ):
        expected = tokenizer.encode(xtts_text(text).lower(), lang="en")
        assert engine.count_tokens(text) == len(expected), text


def test_script_segments_fit_the_token_limit(
    engine: XttsEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.engines import xtts
    from studio.speech.script import Voicing, build_script
    from studio.types import Block, Chapter, Essay, EssayMeta

    words = " ".join(f"clause number {n} goes on for a while," for n in range(1, 25))
    essay = Essay(EssayMeta("T", "t"), (Chapter("", (Block("paragraph", f"{words} done."),)),))
    by_chars = build_script(essay, Voicing(engine.max_chars, False), opening_enabled=False)
    monkeypatch.setattr(xtts, "MAX_TEXT_TOKENS", 60)
    voicing = Voicing(engine.max_chars, False, None, engine.fits)
    by_tokens = build_script(essay, voicing, opening_enabled=False)
    assert len(by_tokens.segments) > len(by_chars.segments)
    assert all(engine.count_tokens(s.text) <= 60 for s in by_tokens.segments)
    assert all(len(s.text) <= 250 for s in by_chars.segments)


def test_takes_far_from_their_expected_length_are_tried_again(
    engine: XttsEngine, tiny_xtts: Path, clips: tuple[Path, ...]
) -> None:
    # The tiny model's takes are ~0.4 s long whatever the text: at 3 characters a second this
    # sentence should take ~13 s, so every take is "too short".
    strict = XttsEngine(
        tiny_xtts,
        clips,
        guard=GuardSettings(chars_per_second=3.0, max_attempts=2),
        work_dir=engine.work_dir,
    )
    strict._model = engine.load()  # share the loaded model: only the guard differs
    made: list[np.ndarray] = []

    def take(text: str, attempt: int = 0) -> np.ndarray:
        made.append(XttsEngine.take(strict, text, attempt))
        return made[-1]

    strict.take = take  # type: ignore[method-assign]
    result = strict.synthesize("Forty characters of text, give or take.")
    assert result.attempts == 2 and len(made) == 2
    assert result.notes[0].startswith("attempt 1: too short, 0.4 s of sound where ~13.0 s")
    assert result.notes[1].startswith("attempt 2: too short")
    assert result.notes[2] == "no attempt passed; kept attempt 1 of 2, the closest"
    assert np.array_equal(result.audio, made[0])
    assert not np.array_equal(made[0], made[1])  # another seed, another take


def test_bad_model_folders_and_settings_fail_in_one_line(
    tiny_xtts: Path, clips: tuple[Path, ...], tmp_path: Path
) -> None:
    with pytest.raises(StudioError, match="language 'de' is not one this XTTS model speaks"):
        XttsEngine(tiny_xtts, clips, language="de", work_dir=tmp_path)
    with pytest.raises(StudioError, match=r"missing model\.pth"):
        folder = tmp_path / "partial"
        folder.mkdir()
        shutil.copy(tiny_xtts / "config.json", folder)
        shutil.copy(tiny_xtts / "vocab.json", folder)
        XttsEngine(folder, clips, work_dir=tmp_path)
    # model.pth holds a 1-layer GPT; a config that says 2 layers does not match it.
    mismatch = tmp_path / "mismatch"
    mismatch.mkdir()
    (mismatch / "model.pth").symlink_to(tiny_xtts / "model.pth")
    shutil.copy(tiny_xtts / "vocab.json", mismatch)
    config = json.loads((tiny_xtts / "config.json").read_text())
    config["model_args"]["gpt_layers"] = 2
    (mismatch / "config.json").write_text(json.dumps(config))
    engine = XttsEngine(mismatch, clips, work_dir=tmp_path)
    with pytest.raises(StudioError, match=r"does not match its config\.json") as caught:
        engine.synthesize("Hello.")
    assert "\n" not in str(caught.value)


def test_calibration_measures_the_speaking_rate(
    engine: XttsEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio import voices

    sentence = "The first thing you notice about a small model is how quickly it answers."
    monkeypatch.setattr(voices, "CALIBRATION", (sentence,))
    # The same length of sound for every take, whatever the text.
    assert voices.measure_rate(engine) == pytest.approx(len(sentence) / TAKE_SECONDS, rel=0.25)


def test_render_an_essay_with_a_cloned_voice_end_to_end(
    engine: XttsEngine,
    tiny_xtts: Path,
    clips: tuple[Path, ...],
    tmp_path: Path,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    voices = tmp_path / "voices"
    added = run_studio(
        "voices", "add", "tiny", str(clips[0]), str(clips[1]), "--model", str(tiny_xtts),
        "--dir", str(voices),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    profile = voices / "tiny" / "voice.toml"
    profile.write_text(profile.read_text() + "max_attempts = 2\n")
    essay = tmp_path / "tiny.md"
    essay.write_text(
        "# Tiny\n\nThis sentence is long enough that a take of the tiny model looks cut off.\n",
        encoding="utf-8",
    )
    # The clips were copied into the new voice: same bytes, same latents as the in-process tests.
    engine.latents()
    latents = engine.latents_path()  # other tests' voices keep latents in the same cache
    latents_written = latents.stat().st_mtime_ns
    known_latents = set((cache_dir / "xtts-latents").glob("*.npz"))
    monkeypatch.setenv("STUDIO_VOICES", str(voices))
    out = tmp_path / "out"
    args = ("render", str(essay), "--voice", "tiny", "--out", str(out), "--device", "cpu")
    result = run_studio(*args)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "tiny.json").read_text())
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    again = run_studio(*args)
    assert manifest["voice"]["engine"] == "xtts" and manifest["voice"]["name"] == "tiny"
    segments = {s["text"]: s for s in manifest["segments"]}
    assert segments["Tiny."]["attempts"] == 1
    long = next(s for text, s in segments.items() if text.startswith("This sentence"))
    assert long["attempts"] == 2 and "too short" in long["notes"][0]
    assert manifest["cache"]["retries"] == 1
    assert sf.info(out / "tiny.mp3").duration > 1.5
    assert set((cache_dir / "xtts-latents").glob("*.npz")) == known_latents  # none computed anew
    assert latents.stat().st_mtime_ns == latents_written  # the worker found them on disk
    # An unchanged re-render is up to date without importing torch or loading the model.
    assert again.returncode == 0 and "up to date" in again.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines()}
    assert "torch" not in imported and "TTS" not in imported
