"""A tiny XTTS checkpoint with random weights, built with Coqui's own classes.

Real XTTS v2 weights (1.8 GB, Coqui Public Model License) can't be fetched in tests, but every line
of studio's XTTS code path — loading with `XttsConfig` + `Xtts.load_checkpoint`, cloning latents
from tensors, the tokenizer limits, seeded sampling, decoding — runs the same on a model with one
GPT layer of 64 channels. It says nothing sensible: it makes noise, of a length capped by
`gpt_max_audio_tokens`, which is exactly what the hallucination guard needs to be tested against.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import soundfile as sf

SPECIAL_TOKENS = ["[STOP]", "[UNK]", "[SPACE]", "[START]", "[en]"]
# Audio tokens the tiny GPT may generate per take: the cap less 3 (start, stop and conditioning
# slots), each 1024 samples at 22.05 kHz, so a take is at most about 0.4 s of (noisy) audio. A
# random model almost never samples the stop token, so takes are that long: decoding them with
# XTTS's full-size HiFi-GAN is most of what a take costs (about a second on two CPU cores).
MAX_AUDIO_TOKENS = 12
TAKE_SECONDS = (MAX_AUDIO_TOKENS - 3) * 1024 / 22050


def write_vocab(path: Path) -> None:
    """A byte-pair vocabulary in the `tokenizers` JSON format XTTS reads from vocab.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        special_tokens=SPECIAL_TOKENS, vocab_size=200, show_progress=False
    )
    corpus = [
        string.ascii_lowercase,
        string.punctuation,
        "the price of a sentence is what it costs to say it well",
        "small models are getting better every month and this one runs on a laptop",
        "a voice is cloned from a few clips of the writer reading aloud",
    ]
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.save(str(path))


def build_tiny_xtts(folder: Path, *, languages: tuple[str, ...] = ("en",)) -> Path:
    """Write config.json, model.pth and vocab.json of a random one-layer XTTS into `folder`."""
    import torch
    from TTS.tts.configs.xtts_config import XttsArgs, XttsConfig
    from TTS.tts.models.xtts import Xtts

    folder.mkdir(parents=True, exist_ok=True)
    write_vocab(folder / "vocab.json")
    args = XttsArgs(
        gpt_layers=1,
        gpt_n_model_channels=64,
        gpt_n_heads=2,
        gpt_max_audio_tokens=MAX_AUDIO_TOKENS,
        gpt_max_text_tokens=402,
        gpt_use_perceiver_resampler=True,  # as in XTTS v2
        decoder_input_dim=64,
        tokenizer_file=str(folder / "vocab.json"),
    )
    config = XttsConfig(model_args=args, languages=list(languages))
    torch.manual_seed(0)
    model = Xtts.init_from_config(config)
    model.tokenizer = type(model.tokenizer)(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.model_args.tokenizer_file = ""  # like the real folder: vocab.json sits beside it
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    return folder


def write_voice_clip(
    path: Path, seconds: float = 7.0, sample_rate: int = 44100, *, noise: float = 0.0005
) -> Path:
    """A speech-like test clip: voiced, pitch-gliding "words" of ~0.4 s with short pauses
    between them, over a quiet room-noise floor (-66 dBFS by default)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 120 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    word = np.clip(np.sin(2 * np.pi * t / 0.55) * 3, 0, 1)  # 0.55 s cycles: word, then a pause
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t) ** 2
    room = np.random.default_rng(1).normal(0, noise, t.size)
    audio = (0.25 * voiced * syllables * word + room).astype(np.float32)
    sf.write(path, audio, sample_rate, subtype="PCM_16")
    return path


def write_unloadable_xtts(folder: Path, *, languages: tuple[str, ...] = ("en",)) -> Path:
    """An XTTS folder that passes every check short of loading: a real config.json and vocab.json,
    and a placeholder model.pth. Enough for readiness, cache keys and scripts (none load it)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_vocab(folder / "vocab.json")
    config = {
        "model": "xtts",
        "languages": list(languages),
        "model_args": {"output_sample_rate": 24000, "gpt_max_text_tokens": 402},
        "gpt_cond_len": 30,
        "gpt_cond_chunk_len": 4,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "model.pth").write_bytes(b"not loaded by these tests")
    return folder
