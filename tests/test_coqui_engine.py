"""The `coqui` engine: any Coqui model, here a tiny two-speaker VITS built from Coqui's own config
classes with random weights (it makes noise, in the right shape, from the right code path)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.engines.coqui import CoquiEngine, downloaded_model_dir
from studio.errors import StudioError
from studio.voices import VoiceProfile, load_profile, open_engine, voice_status
from tests.conftest import run_studio

pytestmark = pytest.mark.slow  # builds and runs real Coqui models


def build_tiny_vits(folder: Path) -> Path:
    """model.pth + config.json of a random two-speaker VITS (speakers "ana" and "ben"), 16 kHz."""
    import torch
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "speakers.json").write_text(json.dumps({"ana": 0, "ben": 1}), encoding="utf-8")
    args = VitsArgs(
        hidden_channels=32,
        hidden_channels_ffn_text_encoder=64,
        num_layers_text_encoder=1,
        num_layers_flow=1,
        num_layers_posterior_encoder=1,
        out_channels=65,  # fft_size / 2 + 1
        upsample_initial_channel_decoder=32,
        resblock_type_decoder="2",
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]],
        upsample_rates_decoder=[8, 8, 4],  # = hop_length
        upsample_kernel_sizes_decoder=[16, 16, 8],
        use_speaker_embedding=True,
        speaker_embedding_channels=16,
        speakers_file=str(folder / "speakers.json"),
        init_discriminator=False,
    )
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters",
        pad="_",
        eos="",
        bos="",
        blank=None,
        characters="abcdefghijklmnopqrstuvwxyz",
        punctuations=" .,!?'-",
        phonemes=None,
    )
    config = VitsConfig(
        model_args=args, use_phonemes=False, text_cleaner="basic_cleaners", characters=characters
    )
    config.audio.sample_rate = 16000
    config.audio.fft_size = config.audio.win_length = 128
    config.audio.hop_length = 256
    torch.manual_seed(0)
    model = Vits.init_from_config(config)
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vits(tmp_path_factory.mktemp("vits") / "tiny-vits")


@pytest.fixture(scope="module")
def ben(tiny_vits: Path, tmp_path_factory: pytest.TempPathFactory) -> CoquiEngine:
    return CoquiEngine(str(tiny_vits), speaker="ben", work_dir=tmp_path_factory.mktemp("work"))


def test_a_multi_speaker_model_speaks_as_the_chosen_speaker(
    ben: CoquiEngine, tiny_vits: Path
) -> None:
    assert ben.sample_rate == 16000 and not ben.loaded  # read from config.json, not the model
    first = ben.synthesize("A sentence for the tiny voice.").audio
    ben.synthesize("Something else in between.")
    assert np.array_equal(first, ben.synthesize("A sentence for the tiny voice.").audio)
    assert first.dtype == np.float32 and first.ndim == 1 and len(first) > 1000
    assert first[-200:].any()  # Coqui's padding after the sentence is gone
    ana = CoquiEngine(str(tiny_vits), speaker="ana", work_dir=ben.work_dir)
    ana._tts = ben.load()  # the same model, another speaker
    assert not np.array_equal(first, ana.synthesize("A sentence for the tiny voice.").audio)


def test_speaker_choice_is_checked_against_the_model(ben: CoquiEngine, tiny_vits: Path) -> None:
    for speaker, message in ((None, "needs a `speaker`"), ("cleo", "has no speaker 'cleo'")):
        engine = CoquiEngine(str(tiny_vits), speaker=speaker, work_dir=ben.work_dir)
        with pytest.raises(StudioError, match="pick one of ana, ben") as caught:
            engine._check_speaker(ben.load())
        assert message in str(caught.value)


def test_speed_scales_the_model_length(ben: CoquiEngine, tiny_vits: Path) -> None:
    fast = CoquiEngine(str(tiny_vits), speaker="ben", speed=2.0, work_dir=ben.work_dir)
    text = "A sentence for the tiny voice."
    ratio = len(fast.synthesize(text).audio) / len(ben.synthesize(text).audio)
    assert 0.35 < ratio < 0.7


def test_identity_is_cheap_and_follows_the_settings(ben: CoquiEngine, tiny_vits: Path) -> None:
    engine = CoquiEngine(str(tiny_vits / "model.pth"), speaker="ben", work_dir=ben.work_dir)
    identity = engine.identity()
    assert not engine.loaded and identity == ben.identity()  # a folder or its checkpoint
    for change in ({"speaker": "ana"}, {"seed": 3}, {"speed": 1.2}):
        other = CoquiEngine(str(tiny_vits), **{"speaker": "ben", **change}, work_dir=ben.work_dir)
        assert other.identity() != identity


def test_profiles_open_coqui_models_by_path_or_name(
    tiny_vits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vits-ben" / "voice.toml"
    path.parent.mkdir()
    relative = os.path.relpath(tiny_vits, path.parent)  # paths are relative to the profile
    path.write_text(f'engine = "coqui"\nmodel = "{relative}"\nspeaker = "ben"\n')
    engine = open_engine(load_profile(path), tmp_path)
    assert isinstance(engine, CoquiEngine)
    assert engine.model_path == (tiny_vits / "model.pth").resolve()
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "tts-home"))
    named = VoiceProfile(engine="coqui", model="tts_models/en/ljspeech/vits")
    engine = open_engine(named, tmp_path)
    assert engine.identity()["model"] == "tts_models/en/ljspeech/vits"
    assert downloaded_model_dir(named.model or "") == (
        tmp_path / "tts-home" / "tts" / "tts_models--en--ljspeech--vits"
    )
    ready, detail = voice_status(named, tmp_path)
    assert ready and "downloads on first use" in detail


def test_bad_coqui_models_fail_in_one_line(tiny_vits: Path, tmp_path: Path) -> None:
    xtts = tmp_path / "xtts"
    xtts.mkdir()
    (xtts / "model.pth").write_bytes(b"x")
    (xtts / "config.json").write_text('{"model": "xtts"}')
    cases = (
        (str(tmp_path / "nowhere"), "Coqui model .* not found"),
        (str(xtts), 'use engine = "xtts"'),
        (str(tmp_path), "no checkpoint in"),
    )
    for model, message in cases:
        with pytest.raises(StudioError, match=message):
            CoquiEngine(model, work_dir=tmp_path)


def test_say_with_a_coqui_voice(
    tiny_vits: Path, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    voices = tmp_path / "voices"
    (voices / "ben").mkdir(parents=True)
    (voices / "ben" / "voice.toml").write_text(
        f'engine = "coqui"\nmodel = "{tiny_vits}"\nspeaker = "ben"\n'
    )
    monkeypatch.setenv("STUDIO_VOICES", str(voices))
    wav = tmp_path / "ben.wav"
    result = run_studio("say", "Hello from a tiny voice.", "-v", "ben", "-o", str(wav))
    assert result.returncode == 0, result.stderr
    assert sf.info(wav).samplerate == 44100 and sf.info(wav).duration > 0.3
