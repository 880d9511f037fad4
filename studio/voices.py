"""Voice profiles (`voices/<name>/voice.toml`) and turning a profile into an engine.

A profile names its engine and everything that shapes its takes:

- `bundled`: the offline Piper VITS voice (or another Piper `.onnx` in `model`);
- `xtts`: Coqui XTTS v2 cloning `clips` of a voice; `model` is the model's folder (config.json,
  model.pth, vocab.json) or a Coqui model name, found in Coqui's download folder;
- `coqui`: any other Coqui model, by name (`tts_models/...`) or as a checkpoint file or folder.

Profiles are pydantic models: errors name the field. Whether a valid profile is *ready* (its model
folder and clips are there) is a separate question, answered by opening its engine, which is cheap:
engines load their models on the first take that is not cached.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from studio.breath import BreathSettings
from studio.cache import default_cache_dir
from studio.config import Pauses, describe_validation_error
from studio.engines.base import Engine
from studio.engines.bundled import BundledEngine, PiperVoiceFiles
from studio.engines.coqui import CoquiEngine, downloaded_model_dir, is_model_name
from studio.engines.guard import GuardSettings, frame_levels, sounding_seconds
from studio.engines.xtts import MIN_REFERENCE_SECONDS, Sampling, XttsEngine, clip_seconds
from studio.errors import StudioError
from studio.files import write_text_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_VOICE = "joe"
REPO_VOICES = Path(__file__).resolve().parent.parent / "voices"
XTTS_V2 = "tts_models/multilingual/multi-dataset/xtts_v2"
VOICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ENGINE_FIELDS = {
    "bundled": {"noise_scale", "noise_w", "parallel_takes"},
    "xtts": {
        "clips",
        "temperature",
        "top_p",
        "top_k",
        "repetition_penalty",
        "length_penalty",
        "chars_per_second",
        "max_attempts",
    },
    "coqui": {"config", "speaker"},
}


class PauseOverrides(BaseModel):
    """A voice's own pauses (seconds), where its pacing needs other gaps than the render's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sentence: float | None = Field(None, ge=0, le=5)
    paragraph: float | None = Field(None, ge=0, le=5)
    chapter: float | None = Field(None, ge=0, le=10)
    heading: float | None = Field(None, ge=0, le=5)
    title: float | None = Field(None, ge=0, le=10)


class VoiceProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = DEFAULT_VOICE
    engine: Literal["bundled", "xtts", "coqui"] = "bundled"
    description: str = ""
    license: str = ""
    model: str | None = Field(
        None,
        description="bundled: a Piper .onnx (default: the bundled voice); xtts: the model folder "
        "or a Coqui model name (default: XTTS v2); coqui: a model name, checkpoint or folder",
    )
    config: Path | None = Field(None, description="coqui: config.json, if not beside the model")
    clips: tuple[Path, ...] = Field((), description="xtts: reference clips of the voice")
    speaker: str | None = Field(None, description="coqui: speaker of a multi-speaker model")
    language: str = Field("en", min_length=2, max_length=8)
    speed: float = Field(1.0, gt=0.25, le=4.0)
    # bundled (Piper VITS)
    noise_scale: float | None = Field(None, ge=0, le=2)
    noise_w: float | None = Field(None, ge=0, le=2)
    parallel_takes: int = Field(
        2, ge=1, le=8, description="takes synthesized at once, sharing one model (speed vs memory)"
    )
    # xtts sampling: XTTS v2's config.json values
    temperature: float = Field(0.75, gt=0, le=2)
    top_p: float = Field(0.85, gt=0, le=1)
    top_k: int = Field(50, ge=1, le=1000)
    repetition_penalty: float = Field(5.0, ge=1, le=50)
    length_penalty: float = Field(1.0, ge=-5, le=5)
    # xtts hallucination guard
    chars_per_second: float = Field(14.0, gt=2, le=40, description="speaking rate, for the guard")
    max_attempts: int = Field(3, ge=1, le=10, description="takes tried before keeping the best")
    seed: int = Field(0, ge=0, lt=2**31)
    lexicon: Path | None = None
    builtin_lexicon: bool = Field(True, description="apply studio's AI and software lexicon")
    pauses: PauseOverrides = PauseOverrides()
    breath: dict[str, Any] = Field(
        default_factory=dict,
        description="this voice's breath-cleaning overrides (fields of BreathSettings)",
    )

    @field_validator("model", mode="before")
    @classmethod
    def _model_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value

    @field_validator("breath")
    @classmethod
    def _breath_overrides(cls, table: dict[str, Any]) -> dict[str, Any]:
        try:
            BreathSettings.model_validate({**BreathSettings().model_dump(), **table})
        except ValidationError as error:
            raise ValueError(describe_validation_error(error)) from None
        return table

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z]{2,4})?", value):
            raise ValueError(f"'{value}' is not a language code such as en, de or zh-cn")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_engine(self) -> VoiceProfile:
        for engine, names in ENGINE_FIELDS.items():
            if engine == self.engine:
                continue
            stray = sorted(names & self.model_fields_set - ENGINE_FIELDS[self.engine])
            if stray:
                raise ValueError(f"{stray[0]}: only {engine} voices take `{stray[0]}`")
        if self.engine == "coqui" and not self.model:
            raise ValueError(
                "model: a coqui voice needs `model`: a Coqui model name (tts_models/...), "
                "a checkpoint file or a folder"
            )
        return self

    def apply_pauses(self, pauses: Pauses) -> Pauses:
        """The render's pauses with this voice's overrides."""
        overrides = self.pauses.model_dump(exclude_none=True)
        return pauses.model_copy(update=overrides) if overrides else pauses

    def apply_breath(self, breath: BreathSettings) -> BreathSettings:
        """The render's breath settings with this voice's overrides, validated."""
        if not self.breath:
            return breath
        return BreathSettings.model_validate({**breath.model_dump(), **self.breath})

    @property
    def guard_settings(self) -> GuardSettings:
        return GuardSettings(chars_per_second=self.chars_per_second, max_attempts=self.max_attempts)


def voice_dirs() -> list[Path]:
    """Where voices are looked up: $STUDIO_VOICES (os.pathsep-separated), ./voices, the repo's."""
    extra = [Path(p) for p in os.environ.get("STUDIO_VOICES", "").split(os.pathsep) if p]
    return [*extra, Path.cwd() / "voices", REPO_VOICES]


def load_profile(path: Path) -> VoiceProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise StudioError(f"cannot read voice profile {path}: {error}") from None
    data.setdefault("name", path.parent.name)
    _resolve_paths(data, path.parent)
    try:
        return VoiceProfile(**data)
    except ValidationError as error:
        raise StudioError(f"{path}: {describe_validation_error(error)}") from None


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Paths in a profile are relative to its folder; `~` is the user's home."""

    def resolve(value: str) -> str:
        return str((folder / Path(value).expanduser()).resolve())

    model = data.get("model")
    if isinstance(model, str) and not is_model_name(model):
        data["model"] = resolve(model)
    for key in ("lexicon", "config"):
        if isinstance(data.get(key), str):
            data[key] = resolve(data[key])
    if isinstance(data.get("clips"), list):
        data["clips"] = [resolve(c) if isinstance(c, str) else c for c in data["clips"]]


def find_voice(name: str) -> VoiceProfile:
    for folder in voice_dirs():
        path = folder / name / "voice.toml"
        if path.is_file():
            return load_profile(path)
    if name == DEFAULT_VOICE:
        return VoiceProfile()
    # Offer only voices that would render now; the rest are one command away, with the reason.
    ready = [entry.name for entry in list_voices(default_cache_dir()) if entry.ready]
    raise StudioError(
        f"unknown voice '{name}': voices ready to use are {', '.join(ready)} "
        "(studio voices list shows every voice, and why one is not ready)"
    )


def known_voices() -> list[str]:
    names = {p.parent.name for d in voice_dirs() for p in d.glob("*/voice.toml")}
    return sorted(names | {DEFAULT_VOICE})


def model_folder(profile: VoiceProfile) -> Path:
    """The XTTS folder a profile names (a Coqui model name: where Coqui downloads it)."""
    model = profile.model or XTTS_V2
    return downloaded_model_dir(model) if is_model_name(model) else Path(model)


def open_engine(
    profile: VoiceProfile, work_dir: Path, *, device: str | None = None, cores: int | None = None
) -> Engine:
    """An engine for the profile; models load lazily, on the first take that is not cached.

    `cores` caps the cores the bundled voice uses (None: all this process may run on).

    Opening checks what can be checked cheaply (files, config, language, clip lengths), so a
    voice that can't work fails here with one line, before any rendering starts.
    """
    if profile.engine == "xtts":
        return _open_xtts(profile, work_dir, device)
    if profile.engine == "coqui":
        assert profile.model is not None
        return CoquiEngine(
            profile.model,
            config=profile.config,
            speaker=profile.speaker,
            language=profile.language,
            speed=profile.speed,
            seed=profile.seed,
            device=device,
            work_dir=work_dir,
        )
    files = None
    if profile.model is not None:
        model = Path(profile.model)
        files = PiperVoiceFiles(model, model.with_name(model.name + ".json"))
    return BundledEngine(
        files,
        speed=profile.speed,
        noise_scale=profile.noise_scale,
        noise_w=profile.noise_w,
        seed=profile.seed,
        parallel_takes=profile.parallel_takes,
        cores=cores,
        work_dir=work_dir / "models",
    )


def _open_xtts(profile: VoiceProfile, work_dir: Path, device: str | None) -> Engine:
    folder = model_folder(profile)
    model = profile.model or XTTS_V2
    if is_model_name(model) and not folder.is_dir():
        raise StudioError(
            f"{model} is not downloaded (looked in {folder}): download it (README, XTTS v2 "
            "set-up) or set `model` to your XTTS v2 folder (config.json, model.pth, vocab.json)"
        )
    sampling = Sampling(
        temperature=profile.temperature,
        top_p=profile.top_p,
        top_k=profile.top_k,
        repetition_penalty=profile.repetition_penalty,
        length_penalty=profile.length_penalty,
    )
    return XttsEngine(
        folder,
        profile.clips,
        language=profile.language,
        speed=profile.speed,
        sampling=sampling,
        seed=profile.seed,
        guard=profile.guard_settings,
        device=device,
        work_dir=work_dir,
    )


# A passage of ordinary sentences, long enough that onsets and releases don't skew the rate.
CALIBRATION = (
    "The first thing you notice about a small model is how quickly it answers.",
    "Nobody waits for it anymore, and that changes what people ask of it.",
    "I wrote this essay over a long weekend, mostly in the mornings, with coffee.",
)


def calibrate_rate(profile: VoiceProfile, work_dir: Path, *, device: str | None = None) -> float:
    """The voice's speaking rate in characters per second, measured on a test passage."""
    rate = measure_rate(open_engine(profile, work_dir, device=device))
    if rate is None:
        raise StudioError(f"voice '{profile.name}' made no sound on the calibration passage")
    return rate


def measure_rate(engine: Engine) -> float | None:
    """Characters per second of sound over the calibration passage (None: no sound at all)."""
    chars = 0
    seconds = 0.0
    for text in CALIBRATION:
        if isinstance(engine, XttsEngine):
            audio = engine.take(text)  # unguarded: the guard's own yardstick is being measured
        else:
            audio = engine.synthesize(text).audio
        seconds += sounding_seconds(frame_levels(audio, engine.sample_rate))
        chars += len(text)
    return chars / seconds if seconds > 0 else None


@dataclass(frozen=True)
class VoiceEntry:
    """One voice as `studio voices list` shows it."""

    name: str
    path: Path | None
    profile: VoiceProfile | None
    ready: bool
    detail: str  # why it is not ready, or a note about it


def list_voices(work_dir: Path) -> list[VoiceEntry]:
    """Every voice that `--voice` can name (the first of each name wins, as in find_voice)."""
    entries = []
    for name in known_voices():
        found = (d / name / "voice.toml" for d in voice_dirs())
        path = next((p for p in found if p.is_file()), None)
        try:
            profile = load_profile(path) if path else VoiceProfile()
        except StudioError as error:
            entries.append(VoiceEntry(name, path, None, False, str(error)))
            continue
        ready, detail = voice_status(profile, work_dir)
        entries.append(VoiceEntry(name, path, profile, ready, detail))
    return entries


def voice_status(profile: VoiceProfile, work_dir: Path) -> tuple[bool, str]:
    """Whether a profile can render now, and if not, why (one line, saying what to do)."""
    try:
        engine = open_engine(profile, work_dir)
    except StudioError as error:
        return False, str(error)
    if not getattr(engine, "downloaded", True):
        return True, f"{profile.model} downloads on first use (needs the network once)"
    return True, ""


def add_voice(
    name: str,
    clips: list[Path],
    *,
    folder: Path,
    model: str | None = None,
    language: str = "en",
    force: bool = False,
) -> Path:
    """Create `folder/<name>/voice.toml`, an XTTS profile cloning `clips` (copied beside it)."""
    if not VOICE_NAME.match(name):
        raise StudioError(f"'{name}' can't be a voice name: use lowercase letters, digits, - and _")
    target = folder / name
    if (target / "voice.toml").exists() and not force:
        raise StudioError(f"voice '{name}' already exists in {target}: use --force to replace it")
    try:
        VoiceProfile(name=name, engine="xtts", model=model, language=language)
    except ValidationError as error:
        raise StudioError(describe_validation_error(error)) from None
    if not clips:
        raise StudioError("give at least one reference clip (WAV or FLAC, 6-30 s in all)")
    total = sum(clip_seconds(clip) for clip in clips)
    if total < MIN_REFERENCE_SECONDS:
        raise StudioError(
            f"the clips hold only {total:.1f} s of audio; XTTS needs at least "
            f"{MIN_REFERENCE_SECONDS:.0f} s (6-30 s of clean speech is best)"
        )
    if model is not None and not _is_name(model):
        model = str(Path(model).expanduser().resolve())
    names = _clip_names(clips)
    try:
        (target / "clips").mkdir(parents=True, exist_ok=True)
        for clip, clip_name in zip(clips, names, strict=True):
            shutil.copyfile(clip, target / "clips" / clip_name)
        toml = _profile_toml(name, names, model or XTTS_V2, language)
        write_text_atomic(target / "voice.toml", toml)
    except OSError as error:
        raise StudioError(f"cannot write voice '{name}' in {folder}: {error.strerror}") from None
    return target / "voice.toml"


def _is_name(model: str) -> bool:
    return is_model_name(model)


def _clip_names(clips: list[Path]) -> list[str]:
    names: list[str] = []
    for index, clip in enumerate(clips, 1):
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", clip.stem).strip("-") or "clip"
        candidate = f"{stem}{clip.suffix.lower()}"
        if candidate in names:
            candidate = f"{stem}-{index}{clip.suffix.lower()}"
        names.append(candidate)
    return names


def _profile_toml(name: str, clips: list[str], model: str, language: str) -> str:
    listed = ", ".join(f'"clips/{clip}"' for clip in clips)
    return f"""# Voice '{name}': Coqui XTTS v2 cloning the clips below. Made by `studio voices add`.
# Check the clips with `studio voices check {name}`; see voices/example-xtts/voice.toml for
# every setting.
engine = "xtts"
description = "{name}, cloned with XTTS v2"
license = "XTTS v2 weights: Coqui Public Model License (non-commercial)"
model = {_toml_string(model)}
clips = [{listed}]
language = "{language}"
seed = 0
# chars_per_second = 14.0  # speaking rate the guard expects: `studio voices check --calibrate`
"""


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
