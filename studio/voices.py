"""Voice profiles (`voices/<name>/voice.toml`) and turning a profile into an engine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio.engines.base import Engine
from studio.errors import StudioError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_VOICE = "joe"
REPO_VOICES = Path(__file__).resolve().parent.parent / "voices"


class VoiceProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = DEFAULT_VOICE
    engine: Literal["bundled"] = "bundled"
    description: str = ""
    model: Path | None = Field(None, description="Piper-format .onnx; default: the bundled voice")
    language: str = "en"
    speed: float = Field(1.0, gt=0.25, le=4.0)
    noise_scale: float | None = Field(None, ge=0, le=2)
    noise_w: float | None = Field(None, ge=0, le=2)
    seed: int = 0
    sessions: int = Field(1, ge=1, le=8, description="parallel ONNX sessions (speed vs memory)")
    lexicon: Path | None = None
    license: str = ""


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
    for key in ("model", "lexicon"):
        if isinstance(data.get(key), str):
            data[key] = (path.parent / data[key]).resolve()
    try:
        return VoiceProfile(**data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "profile"
        raise StudioError(f"{path}: {field}: {first['msg']}") from None


def find_voice(name: str) -> VoiceProfile:
    for folder in voice_dirs():
        path = folder / name / "voice.toml"
        if path.is_file():
            return load_profile(path)
    if name == DEFAULT_VOICE:
        return VoiceProfile()
    known = sorted({p.parent.name for d in voice_dirs() for p in d.glob("*/voice.toml")})
    raise StudioError(
        f"unknown voice '{name}': known voices are {', '.join(known) or DEFAULT_VOICE}"
    )


def open_engine(profile: VoiceProfile, work_dir: Path) -> Engine:
    """An engine for the profile; models load lazily, on the first take that is not cached."""
    from studio.engines.bundled import BundledEngine, PiperVoiceFiles

    files = None
    if profile.model is not None:
        files = PiperVoiceFiles(
            profile.model, profile.model.with_name(profile.model.name + ".json")
        )
    return BundledEngine(
        files,
        speed=profile.speed,
        noise_scale=profile.noise_scale,
        noise_w=profile.noise_w,
        seed=profile.seed,
        sessions=profile.sessions,
        work_dir=work_dir / "models",
    )
