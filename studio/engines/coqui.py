"""Any Coqui TTS model: `TTS(model_name)` or `TTS(model_path=..., config_path=...)`.

For users who have a Coqui model other than XTTS (VITS, Tacotron 2, YourTTS, ...): single- or
multi-speaker (`speaker`), single- or multi-lingual (`language`). Studio does its own sentence
splitting and pauses, so Coqui's (English-only pysbd splitting, ~0.4 s of zeros after every
sentence) is switched off and its padding dropped.

Also home to what both Coqui engines share: where Coqui keeps downloaded models, and the device.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from studio.engines.base import Synthesis
from studio.engines.digest import file_digest
from studio.errors import StudioError

MODEL_NAME = re.compile(r"^(tts_models|voice_conversion_models)/[^/\s]+/[^/\s]+/[^/\s]+$")
DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
CHECKPOINT_NAMES = ("model.pth", "best_model.pth", "model_file.pth", "checkpoint.pth")


def is_model_name(model: str) -> bool:
    """`tts_models/<lang>/<dataset>/<model>`: a model Coqui knows by name and can download."""
    return bool(MODEL_NAME.match(model))


def coqui_data_dir() -> Path:
    """Where Coqui keeps downloaded models: trainer.io.get_user_data_dir, minus its torch import."""
    if home := os.environ.get("TTS_HOME"):
        return Path(home).expanduser() / "tts"
    if data := os.environ.get("XDG_DATA_HOME"):
        return Path(data).expanduser() / "tts"
    if sys.platform == "win32":  # pragma: no cover
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "tts"
    if sys.platform == "darwin":  # pragma: no cover
        return Path.home() / "Library" / "Application Support" / "tts"
    return Path.home() / ".local" / "share" / "tts"


def downloaded_model_dir(name: str) -> Path:
    """The folder `TTS(name)` downloads a named model into."""
    return coqui_data_dir() / name.replace("/", "--")


def check_device(device: str | None) -> str | None:
    """Validate a `--device` value without importing torch; None means "auto"."""
    if device is None or device == "auto":
        return None
    if not DEVICE.match(device):
        raise StudioError(f"unknown device '{device}': use auto, cpu, cuda, cuda:N or mps")
    return device


def resolve_device(device: str | None) -> str:
    """The torch device to run on: the GPU when there is one, unless told otherwise."""
    import torch

    device = check_device(device)
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise StudioError(f"--device {device}: PyTorch sees no CUDA GPU here; use --device cpu")
    if device == "mps" and not torch.backends.mps.is_available():
        raise StudioError("--device mps: this PyTorch has no Apple GPU support; use --device cpu")
    return device


def seed_everything(seed: int) -> None:
    """Seed every generator a Coqui model may draw from, so a take depends only on its inputs."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def take_seed(seed: int, attempt: int) -> int:
    """The seed of one attempt at a take: a function of the voice's seed and the attempt only."""
    return (seed * 1_000_003 + attempt * 7919) % 2**31


def quiet_coqui() -> None:
    """Keep Coqui's and transformers' chatter off the progress bar (errors still surface)."""
    import logging

    for name in ("TTS", "trainer", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


class CoquiEngine:
    """A Coqui model run through its high-level `TTS` API, seeded per take."""

    name = "coqui"
    accepts_ipa = False
    synthesis_threads = 1
    max_chars = 300

    def __init__(
        self,
        model: str,
        *,
        config: Path | None = None,
        speaker: str | None = None,
        language: str | None = None,
        speed: float = 1.0,
        seed: int = 0,
        device: str | None = None,
        work_dir: Path,
    ) -> None:
        self.speaker = speaker
        self.language = language
        self.speed = speed
        self.seed = seed
        self.device = check_device(device)
        self.work_dir = work_dir
        self.model_name = ""
        self.model_path: Path | None = None
        self.config_path: Path | None = None
        if is_model_name(model):
            self.model_name = model
        else:
            self.model_path, self.config_path = _local_model(Path(model), config)
            config_data = _read_json(self.config_path)
            if config_data.get("model") == "xtts":
                raise StudioError(f'{self.config_path} is an XTTS model: use engine = "xtts"')
        self._tts: Any = None
        self._sample_rate: int | None = None
        self._lock = threading.Lock()

    def with_seed(self, seed: int) -> CoquiEngine:
        """This voice with another seed (a retake), sharing the loaded model."""
        other = copy.copy(self)
        other.seed = seed
        return other

    @property
    def downloaded(self) -> bool:
        return not self.model_name or downloaded_model_dir(self.model_name).is_dir()

    def identity(self) -> dict[str, Any]:
        memo = self.work_dir / "models"
        if self.model_name:
            model = self.model_name  # a named release: its weights never change under the name
        else:
            assert self.model_path is not None and self.config_path is not None
            model = file_digest(self.model_path, memo)
        return {
            "engine": self.name,
            "model": model,
            "config": file_digest(self.config_path) if self.config_path else None,
            "speaker": self.speaker,
            "language": self.language,
            "speed": self.speed,
            "seed": self.seed,
        }

    @property
    def sample_rate(self) -> int:
        if self._sample_rate is None:
            if self.config_path is not None:
                self._sample_rate = int(_read_json(self.config_path)["audio"]["sample_rate"])
            else:
                self._sample_rate = int(self.load().synthesizer.output_sample_rate)
        return self._sample_rate

    @property
    def loaded(self) -> bool:
        return self._tts is not None

    def load(self) -> Any:
        with self._lock:
            if self._tts is None:
                self._tts = self._load()
        return self._tts

    def _load(self) -> Any:
        quiet_coqui()
        from TTS.api import TTS

        device = resolve_device(self.device)
        try:
            if self.model_name:
                tts = TTS(self.model_name, progress_bar=False)
            else:
                tts = TTS(
                    model_path=str(self.model_path),
                    config_path=str(self.config_path),
                    progress_bar=False,
                )
        except (RuntimeError, KeyError, ValueError, OSError) as error:
            where = self.model_name or self.model_path
            first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            raise StudioError(f"cannot load Coqui model {where}: {first}") from None
        tts.to(device)
        self._check_speaker(tts)
        if tts.is_multi_lingual and self.language not in (tts.languages or []):
            known = ", ".join(tts.languages or [])
            raise StudioError(f"language '{self.language}' is not one this model speaks ({known})")
        if self.speed != 1.0:
            model = tts.synthesizer.tts_model
            if not hasattr(model, "length_scale"):
                raise StudioError("this Coqui model has no speed control: remove `speed`")
            model.length_scale = float(model.length_scale) / self.speed
        self._sample_rate = int(tts.synthesizer.output_sample_rate)
        return tts

    def _check_speaker(self, tts: Any) -> None:
        speakers = list(tts.speakers or []) if tts.is_multi_speaker else []
        if speakers and self.speaker not in speakers:
            shown = ", ".join(speakers[:12]) + (", ..." if len(speakers) > 12 else "")
            what = (
                "needs a `speaker`" if self.speaker is None else f"has no speaker '{self.speaker}'"
            )
            raise StudioError(f"this Coqui model {what}: pick one of {shown}")
        if not speakers and self.speaker is not None:
            raise StudioError("this Coqui model has a single speaker: remove `speaker`")

    def synthesize(self, text: str) -> Synthesis:
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        tts = self.load()
        seed_everything(take_seed(self.seed, 0))
        wav = tts.tts(
            text,
            speaker=self.speaker,
            language=self.language if tts.is_multi_lingual else None,
            split_sentences=False,
        )
        audio = np.asarray(wav, dtype=np.float32).reshape(-1)
        if len(audio) > PAD_SILENCE_SAMPLES and not audio[-PAD_SILENCE_SAMPLES:].any():
            audio = audio[:-PAD_SILENCE_SAMPLES]  # the silence Coqui appends after each sentence
        return Synthesis(audio)


def _local_model(model: Path, config: Path | None) -> tuple[Path, Path]:
    """A checkpoint file (config.json beside it unless given) or a folder holding both."""
    if model.is_dir():
        found = next((model / n for n in CHECKPOINT_NAMES if (model / n).is_file()), None)
        if found is None:
            names = ", ".join(CHECKPOINT_NAMES)
            raise StudioError(f"no checkpoint in {model}: expected one of {names}")
        model_file = found
    elif model.is_file():
        model_file = model
    else:
        raise StudioError(
            f"Coqui model {model} not found: give a checkpoint file or folder, or a model name "
            "like tts_models/en/ljspeech/vits"
        )
    config = config or model_file.parent / "config.json"
    if not config.is_file():
        raise StudioError(f"config {config} not found: set `config` to the model's config.json")
    return model_file, config


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise StudioError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise StudioError(f"{path} is not a Coqui model config")
    return data
