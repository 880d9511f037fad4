"""Coqui XTTS v2: a voice cloned from a few reference clips.

The model loads from a local folder (config.json, model.pth, vocab.json) with `XttsConfig` and
`Xtts.load_checkpoint`, on the GPU when there is one. Reference clips are read with soundfile and
resampled with soxr (torchaudio.load needs FFmpeg), and the cloning latents are computed from
tensors once per voice and kept on disk, keyed by the model and the clips' hashes.

Each take is seeded from the voice's seed and the attempt number, so it depends only on its text
and settings, and is checked by the hallucination guard (`guard.py`), which tries other seeds for
takes far too long, far too short or near-silent.

Nothing here imports torch until a take has to be synthesized: the cache key (`identity`) and the
token count the script is cut to need only file hashes and the `tokenizers` library.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from studio.engines.base import Synthesis
from studio.engines.coqui import (
    check_device,
    quiet_coqui,
    resolve_device,
    seed_everything,
    take_seed,
)
from studio.engines.digest import file_digest
from studio.engines.guard import GuardSettings, best_take
from studio.errors import StudioError
from studio.files import atomic_path
from studio.speech.segment import fit_to_limit

REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
# The tokenizer's per-language character limits (TTS.tts.layers.xtts.tokenizer.char_limits, which
# imports torch): past them XTTS only warns, and takes come out truncated or babbling.
CHAR_LIMITS = {
    "en": 250, "de": 253, "fr": 273, "es": 239, "it": 213, "pt": 203, "pl": 224, "zh": 82,
    "ar": 166, "cs": 186, "ru": 182, "nl": 251, "tr": 226, "ja": 71, "hu": 224, "ko": 95,
    "hi": 150,
}  # fmt: skip
MAX_TEXT_TOKENS = 400  # Xtts.inference asserts fewer than gpt_max_text_tokens (402)
MIN_REFERENCE_SECONDS = 3.0
CLONE_SAMPLE_RATE = 22050  # what XTTS computes its conditioning from
LATENTS_VERSION = 1
TEXT_VERSION = 1  # bump when `xtts_text` changes: it changes what the model is given
# Typographic punctuation XTTS was not trained on; it triggers babbling. Quotes it drops anyway.
PUNCTUATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": None, "\u201d": None, "\u00ab": None, "\u00bb": None,
     "\u2026": "...", "\u2013": ", ", "\u2014": ", ", '"': None}
)  # fmt: skip


@dataclass(frozen=True)
class Sampling:
    """Xtts.inference's sampling settings, all passed explicitly (its docstring and signature
    disagree on the defaults). These defaults are XTTS v2's own config.json values."""

    temperature: float = 0.75
    top_p: float = 0.85
    top_k: int = 50
    repetition_penalty: float = 5.0
    length_penalty: float = 1.0


def xtts_text(text: str) -> str:
    """What XTTS is given for a segment: plain punctuation, single spaces."""
    return " ".join(text.translate(PUNCTUATION).split())


def read_model_config(folder: Path) -> dict[str, Any]:
    """The model folder's config.json, after checking the folder really holds an XTTS model."""
    if not folder.is_dir():
        raise StudioError(
            f"XTTS model folder {folder} not found: download XTTS v2 (config.json, model.pth, "
            "vocab.json) and point `model` at its folder"
        )
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise StudioError(f"{folder} is not an XTTS model folder: missing {', '.join(missing)}")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise StudioError(f"cannot read {folder / 'config.json'}: {error}") from None
    kind = config.get("model") if isinstance(config, dict) else None
    if kind != "xtts":
        raise StudioError(
            f"{folder / 'config.json'} describes a '{kind}' model, not XTTS: "
            'use engine = "coqui" for other Coqui models'
        )
    return config


def clip_seconds(path: Path) -> float:
    import soundfile as sf

    if not path.is_file():
        raise StudioError(f"reference clip {path} not found")
    try:
        return float(sf.info(path).duration)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise StudioError(f"cannot read reference clip {path}: {error}") from None


def read_clip(path: Path, sample_rate: int, max_seconds: float) -> np.ndarray:
    """A clip as mono float32 at `sample_rate`, at most `max_seconds` long."""
    import soundfile as sf
    import soxr

    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (OSError, sf.LibsndfileError) as error:
        raise StudioError(f"cannot read reference clip {path}: {error}") from None
    mono = audio.mean(axis=1)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    return np.clip(mono[: int(max_seconds * sample_rate)], -1.0, 1.0).astype(np.float32)


class XttsEngine:
    """An XTTS v2 voice: a model folder, reference clips and the settings of its takes.

    Construction checks the folder, language and clips (cheap: no torch); the model loads on the
    first take that is not cached, on `device` (None: the GPU when there is one).
    """

    name = "xtts"
    accepts_ipa = False
    synthesis_threads = 1  # one model, one generator: takes are seeded one at a time

    def __init__(
        self,
        folder: Path,
        clips: tuple[Path, ...],
        *,
        language: str = "en",
        speed: float = 1.0,
        sampling: Sampling | None = None,
        seed: int = 0,
        guard: GuardSettings | None = None,
        device: str | None = None,
        work_dir: Path,
    ) -> None:
        self.folder = folder
        self.config = read_model_config(folder)
        languages = list(self.config.get("languages") or CHAR_LIMITS)
        code = "zh-cn" if language == "zh" else language
        if code not in languages:
            raise StudioError(
                f"language '{language}' is not one this XTTS model speaks: "
                f"use one of {', '.join(languages)}"
            )
        self.language = code
        if not clips:
            raise StudioError(
                "an XTTS voice needs reference clips of the voice: set `clips` in its voice.toml "
                "or create the voice with `studio voices add NAME CLIP...`"
            )
        total = sum(clip_seconds(clip) for clip in clips)
        if total < MIN_REFERENCE_SECONDS:
            raise StudioError(
                f"the reference clips hold only {total:.1f} s of audio; XTTS needs at least "
                f"{MIN_REFERENCE_SECONDS:.0f} s (6-30 s of clean speech is best)"
            )
        self.clips = tuple(clips)
        self.speed = speed
        self.sampling = sampling or Sampling()
        self.seed = seed
        self.guard = guard or GuardSettings()
        self.device = check_device(device)
        self.work_dir = work_dir
        args = self.config.get("model_args") or {}
        self.sample_rate = int(args.get("output_sample_rate", 24000))
        self.max_chars = CHAR_LIMITS.get(code.split("-")[0], 250)
        self._model: Any = None
        self._latents: Any = None
        self.latents_from_cache: bool | None = None  # known once the latents are needed
        self._lock = threading.Lock()

    def with_seed(self, seed: int) -> XttsEngine:
        """This voice with another seed (a retake), sharing the loaded model and latents."""
        other = copy.copy(self)
        other.seed = seed
        return other

    # -- cheap: no torch, no model ----------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model": self._model_digests(),
            "clips": self._clip_digests(),
            "language": self.language,
            "speed": self.speed,
            "sampling": asdict(self.sampling),
            "seed": self.seed,
            "guard": asdict(self.guard),
            "text": TEXT_VERSION,
        }

    def _model_digests(self) -> dict[str, str]:
        memo = self.work_dir / "models"
        return {name: file_digest(self.folder / name, memo) for name in REQUIRED_FILES}

    def _clip_digests(self) -> list[str]:
        return [file_digest(clip) for clip in self.clips]

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        try:
            return Tokenizer.from_file(str(self.folder / "vocab.json"))
        except Exception as error:  # the tokenizers library raises a bare Exception
            raise StudioError(f"cannot read {self.folder / 'vocab.json'}: {error}") from None

    def count_tokens(self, text: str) -> int:
        """Text tokens XTTS will see for `text`, by the model's own BPE vocabulary.

        Mirrors VoiceBpeTokenizer.encode (language tag, lowercase, quotes dropped, spaces as
        [SPACE]) without importing torch. Studio has already spelled out numbers, symbols and
        abbreviations, so XTTS's own cleaners have next to nothing left to expand.
        """
        cleaned = xtts_text(text).lower()
        tagged = f"[{self.language}]{cleaned}".replace(" ", "[SPACE]")
        return len(self._tokenizer.encode(tagged).ids)

    def fits(self, text: str) -> bool:
        """Whether one take may carry `text` (spoken form): the char limit and the token limit."""
        return len(text) <= self.max_chars and self.count_tokens(text) <= MAX_TEXT_TOKENS

    # -- the model ---------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
        return self._model

    def _load_model(self) -> Any:
        quiet_coqui()
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts

        device = resolve_device(self.device)
        config = XttsConfig()
        config.load_json(str(self.folder / "config.json"))
        model = Xtts(config)
        try:
            model.load_checkpoint(config, checkpoint_dir=str(self.folder), eval=True)
        except RuntimeError as error:
            first = str(error).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:2])[:240]
            raise StudioError(
                f"{self.folder / 'model.pth'} does not match its config.json: {detail}"
            ) from None
        except Exception as error:
            raise StudioError(
                f"cannot load {self.folder / 'model.pth'}: {type(error).__name__}: {error}"
            ) from None
        return model.to(device)

    def latents(self) -> tuple[Any, Any]:
        """(GPT conditioning latents, speaker embedding) of the clips, from disk when known."""
        if self._latents is None:
            self._latents = self._load_or_compute_latents()
        return self._latents

    def latents_path(self) -> Path:
        settings = self._clone_settings()
        key = json.dumps(
            [LATENTS_VERSION, self._model_digests(), self._clip_digests(), settings],
            sort_keys=True,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.work_dir / "xtts-latents" / f"{digest[:32]}.npz"

    def _clone_settings(self) -> dict[str, Any]:
        """How Coqui's own API would clone from these clips, read from the model's config."""
        config = self.config
        return {
            "gpt_cond_len": int(config.get("gpt_cond_len", 30)),
            "gpt_cond_chunk_len": int(config.get("gpt_cond_chunk_len", 4)),
            "max_ref_len": int(config.get("max_ref_len", 30)),
            "sound_norm_refs": bool(config.get("sound_norm_refs", False)),
        }

    def _load_or_compute_latents(self) -> tuple[Any, Any]:
        import torch

        path = self.latents_path()
        if path.is_file():
            try:
                with np.load(path) as stored:
                    gpt, speaker = stored["gpt_cond_latent"], stored["speaker_embedding"]
                self.latents_from_cache = True
                return torch.from_numpy(gpt), torch.from_numpy(speaker)
            except (OSError, KeyError, ValueError):
                pass  # damaged: compute again
        gpt, speaker = self._compute_latents()
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                gpt_cond_latent=gpt.cpu().numpy(),
                speaker_embedding=speaker.cpu().numpy(),
            )
        self.latents_from_cache = False
        return gpt.cpu(), speaker.cpu()

    def _compute_latents(self) -> tuple[Any, Any]:
        """Coqui's get_conditioning_latents, fed tensors instead of torchaudio-loaded files."""
        import torch

        model = self.load()
        settings = self._clone_settings()
        audios = []
        embeddings = []
        for clip in self.clips:
            audio = read_clip(clip, CLONE_SAMPLE_RATE, settings["max_ref_len"])
            if settings["sound_norm_refs"] and np.abs(audio).max() > 0:
                audio = audio / np.abs(audio).max() * 0.75
            tensor = torch.from_numpy(np.ascontiguousarray(audio))[None]
            embeddings.append(model.get_speaker_embedding(tensor, CLONE_SAMPLE_RATE))
            audios.append(tensor)
        gpt = model.get_gpt_cond_latents(
            torch.cat(audios, dim=-1),
            CLONE_SAMPLE_RATE,
            length=settings["gpt_cond_len"],
            chunk_length=settings["gpt_cond_chunk_len"],
        )
        return gpt, torch.stack(embeddings).mean(dim=0)

    # -- takes -------------------------------------------------------------------------------

    def synthesize(self, text: str) -> Synthesis:
        text = xtts_text(text)
        if not text:
            return Synthesis(np.zeros(0, dtype=np.float32))
        return best_take(
            lambda attempt: self.take(text, attempt), text, self.sample_rate, self.guard
        )

    def take(self, text: str, attempt: int = 0) -> np.ndarray:
        """One attempt at a take, unguarded: seeded by the voice's seed and the attempt alone."""
        text = xtts_text(text)
        model = self.load()
        gpt, speaker = self.latents()
        pieces = self._pieces(model, text)
        seed_everything(take_seed(self.seed, attempt))
        audio = []
        for index, piece in enumerate(pieces):
            if index:
                audio.append(np.zeros(int(0.15 * self.sample_rate), dtype=np.float32))
            out = model.inference(
                piece,
                self.language,
                gpt,
                speaker,
                temperature=self.sampling.temperature,
                length_penalty=self.sampling.length_penalty,
                repetition_penalty=self.sampling.repetition_penalty,
                top_k=self.sampling.top_k,
                top_p=self.sampling.top_p,
                do_sample=True,
                num_beams=1,
                speed=self.speed,
                enable_text_splitting=False,
            )
            audio.append(np.asarray(out["wav"], dtype=np.float32).reshape(-1))
        return np.concatenate(audio)

    def _pieces(self, model: Any, text: str) -> list[str]:
        """The text, split further only if XTTS's own tokenizer counts more tokens than studio's
        estimate did (its cleaners expand what studio left, e.g. a lexicon's symbols)."""
        language = self.language.split("-")[0]

        def fits(piece: str) -> bool:
            tokens = model.tokenizer.encode(piece.strip().lower(), lang=language)
            return len(tokens) <= MAX_TEXT_TOKENS

        if fits(text):
            return [text]
        return [spoken for _, spoken in fit_to_limit(text, str, self.max_chars, fits)]
