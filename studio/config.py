"""Settings users can change, as pydantic models: validated, with errors that name the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from studio.breath import BreathSettings

# Below 56 kbps libsndfile's LAME writes no Info header, so decoders cannot trim the encoder
# delay: the decoded episode comes out ~1600 samples long and its duration is misreported.
MP3_BITRATES_KBPS = (56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def check_mp3_bitrate(bitrate: int) -> int:
    """A bitrate studio can encode (CBR, with the Info header decoders need), or ValueError."""
    if bitrate not in MP3_BITRATES_KBPS:
        allowed = ", ".join(map(str, MP3_BITRATES_KBPS))
        raise ValueError(f"{bitrate} kbps is not an MP3 bitrate; use one of {allowed}")
    return bitrate


# The render settings a show's config repeats under other names: their bounds are stated once.
Bitrate = Annotated[
    int,
    AfterValidator(check_mp3_bitrate),
    Field(description="MP3 bitrate in kbps (constant bitrate)"),
]
TargetLufs = Annotated[float, Field(ge=-30, le=-10, description="integrated loudness, LUFS")]
PeakDbtp = Annotated[float, Field(ge=-6, le=0, description="true-peak ceiling, dBTP")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pauses(Strict):
    """Silence placed after each take, in seconds (takes are trimmed of their own silence first)."""

    sentence: float = Field(0.35, ge=0, le=5, description="between sentences of a paragraph")
    paragraph: float = Field(0.8, ge=0, le=5, description="after the last sentence of a paragraph")
    chapter: float = Field(1.5, ge=0, le=10, description="before a new chapter's heading")
    heading: float = Field(0.7, ge=0, le=5, description="after a chapter heading is read")
    title: float = Field(1.2, ge=0, le=10, description="after the episode's opening title")


class SpeechOptions(Strict):
    """How the essay's structure is read aloud."""

    chapter_level: int = Field(2, ge=1, le=6, description="heading level that starts a chapter")
    read_author: bool = Field(True, description='open with "By <author>" after the title')
    quote_intro: str = Field("Quote.", description="said before a block quote")
    quote_outro: str = Field("End quote.", description="said after a block quote")
    code_note: str = Field(
        "There is a code example here; you'll find it in the written version.",
        description="said in place of a code block",
    )
    min_sentence_chars: int = Field(
        18, ge=0, description="shorter sentences are read together with a neighbour"
    )
    builtin_lexicon: bool = Field(
        True, description="apply studio's AI and software lexicon under the show's and voice's"
    )
    read_timestamps: bool = Field(
        False,
        description='read transcript timestamps such as "[00:02:01]" instead of dropping them',
    )


class RenderSettings(Strict):
    """Everything about one render that is not the essay or the voice."""

    bitrate: Bitrate = 96
    target_lufs: TargetLufs = -16.0
    peak_dbtp: PeakDbtp = -1.0
    sample_rate: int = Field(44100, description="episode sample rate")
    pauses: Pauses = Pauses()
    speech: SpeechOptions = SpeechOptions()
    breath: BreathSettings = BreathSettings()


def describe_validation_error(error: ValidationError) -> str:
    """The first problem as "field.path: what is wrong", e.g. "show.owner.email: ..."; the one
    formatter for every settings file and option studio validates."""
    # A misspelt key also leaves its real one missing: name the misspelling, it is the cause.
    first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting (check its spelling and the table it is in)"
    if not where or message.startswith(f"{where}:"):  # a model's own check names its field
        return message
    return f"{where}: {message}"
