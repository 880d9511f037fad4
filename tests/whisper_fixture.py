"""A tiny Whisper model with random weights, converted to CTranslate2 as a user's would be.

Real Whisper weights can't be fetched in tests, but every line of `studio check --whisper` —
faster-whisper loading a CTranslate2 folder (model.bin, tokenizer.json, preprocessor config),
transcribing with word timestamps, the words and their probabilities coming back — runs the same
on a model of one layer of 64 channels. It is built with transformers' own Whisper classes and
converted with ctranslate2's TransformersConverter, the route `ct2-transformers-converter` takes.
It hears nothing sensible, which is what calibration against a voice is there to cope with.

The tokenizer is Whisper's byte-level BPE with no merges (one token per byte, so any text can
be written) and Whisper's special tokens; the timestamp tokens follow `<|notimestamps|>`, as in
the real vocabulary, which makes the model English-only (no language tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)
TIMESTAMPS = 1501  # <|0.00|> to <|30.00|>, as in every Whisper vocabulary


def _write_tokenizer(folder: Path) -> int:
    """vocab.json and merges.txt of a bytes-only BPE; returns the vocabulary's size with the
    special and timestamp tokens."""
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    vocab = {char: i for i, char in enumerate(bytes_to_unicode().values())}
    vocab[SPECIAL_TOKENS[0]] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return len(vocab) + len(SPECIAL_TOKENS) - 1 + TIMESTAMPS


def build_tiny_whisper(folder: Path, *, seed: int = 0) -> Path:
    """Write a CTranslate2 Whisper model folder (model.bin, config.json, vocabulary.json,
    tokenizer.json, preprocessor_config.json) of a random one-layer model into `folder`."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
        WhisperTokenizerFast,
    )

    source = folder.parent / f"{folder.name}-transformers"
    source.mkdir(parents=True, exist_ok=True)
    vocab_size = _write_tokenizer(source)
    slow = WhisperTokenizer(
        str(source / "vocab.json"),
        str(source / "merges.txt"),
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
    )
    slow.save_pretrained(source)
    WhisperTokenizerFast.from_pretrained(source).save_pretrained(source)  # tokenizer.json
    eot = slow.convert_tokens_to_ids("<|endoftext|>")
    sot = slow.convert_tokens_to_ids("<|startoftranscript|>")
    assert slow.convert_tokens_to_ids("<|notimestamps|>") == vocab_size - TIMESTAMPS - 1

    config = WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=128,
        max_source_positions=1500,  # 30 s of features: faster-whisper always feeds 30 s
        max_target_positions=448,
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    # What the converter reads into the model's suppress lists (faster-whisper adds its own).
    model.generation_config.suppress_tokens = []
    model.generation_config.begin_suppress_tokens = [eot]
    model.save_pretrained(source)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(source)

    converter = TransformersConverter(
        str(source), copy_files=["tokenizer.json", "preprocessor_config.json"]
    )
    converter.convert(str(folder), force=True)
    return folder
