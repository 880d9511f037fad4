"""A show's config (`studio.toml`): the channel of the feed, how episodes are rendered, which essays
are episodes, and loading and checking it all. Apple's category table lives here: the feed must
spell the categories exactly as Apple does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import glob
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from studio.breath import BreathSettings
from studio.config import (
    Bitrate,
    Pauses,
    PeakDbtp,
    RenderSettings,
    SpeechOptions,
    Strict,
    TargetLufs,
    describe_validation_error,
)
from studio.errors import StudioError
from studio.text import carriable
from studio.voices import DEFAULT_VOICE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "studio.toml"
FEED_NAME = "feed.xml"
STATE_DIR = ".studio"  # the show's state, caches, lock and manifests: never published


# Apple Podcasts categories and their subcategories (case-sensitive, as the feed must spell them).
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": (
        "Careers",
        "Entrepreneurship",
        "Investing",
        "Management",
        "Marketing",
        "Non-Profit",
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health",
        "Fitness",
        "Medicine",
        "Mental Health",
        "Nutrition",
        "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga",
        "Automotive",
        "Aviation",
        "Crafts",
        "Games",
        "Hobbies",
        "Home & Garden",
        "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News",
        "Daily News",
        "Entertainment News",
        "News Commentary",
        "Politics",
        "Sports News",
        "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism",
        "Christianity",
        "Hinduism",
        "Islam",
        "Judaism",
        "Religion",
        "Spirituality",
    ),
    "Science": (
        "Astronomy",
        "Chemistry",
        "Earth Sciences",
        "Life Sciences",
        "Mathematics",
        "Natural Sciences",
        "Nature",
        "Physics",
        "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary",
        "Personal Journals",
        "Philosophy",
        "Places & Travel",
        "Relationships",
    ),
    "Sports": (
        "Baseball",
        "Basketball",
        "Cricket",
        "Fantasy Sports",
        "Football",
        "Golf",
        "Hockey",
        "Rugby",
        "Running",
        "Soccer",
        "Swimming",
        "Tennis",
        "Volleyball",
        "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_GLOB_CHARS = re.compile(r"[*?\[]")


class Owner(Strict):
    name: str = Field(min_length=1, description="who Apple and Spotify contact about the show")
    email: str = Field(description="Spotify rejects a feed without one")

    @field_validator("email")
    @classmethod
    def _email(cls, email: str) -> str:
        if not _EMAIL.fullmatch(email.strip()):
            raise ValueError(f"{email!r} is not an email address")
        return email.strip()


class ShowInfo(Strict):
    """The channel of the feed: what Apple Podcasts and Spotify show about the podcast."""

    title: str = Field(min_length=1)
    author: str = Field(min_length=1)
    description: str = Field(min_length=1, description="at most 4000 bytes (Apple)")
    language: str = Field("en", description="ISO 639 code, e.g. en or en-us")
    category: str = Field(description="an Apple Podcasts category, e.g. 'Society & Culture'")
    subcategory: str = Field("", description="one of the category's subcategories, or empty")
    explicit: bool = False
    owner: Owner
    base_url: str = Field(description="where the output folder is served, e.g. https://x.org/pod")
    link: str = Field("", description="the show's web page; default: base_url")
    image: Path = Field(Path("cover.png"), description="square JPEG/PNG, 1400-3000 px, RGB")
    type: Literal["episodic", "serial"] = "episodic"
    copyright: str = ""
    locked: bool = Field(True, description="podcast:locked: other hosts may not import the feed")

    @field_validator("title", "author", "description", "copyright")
    @classmethod
    def _text(cls, text: str) -> str:
        return text.strip()

    @field_validator("description")
    @classmethod
    def _description_size(cls, text: str) -> str:
        size = len(text.encode("utf-8"))
        if size > 4000:
            raise ValueError(f"is {size} bytes; Apple allows at most 4000")
        return text

    @field_validator("language")
    @classmethod
    def _language(cls, language: str) -> str:
        language = language.strip().lower()
        if not _LANGUAGE.fullmatch(language):
            raise ValueError(f"{language!r} is not an ISO 639 language code such as en or en-us")
        return language

    @field_validator("category")
    @classmethod
    def _category(cls, category: str) -> str:
        if category not in APPLE_CATEGORIES:
            raise ValueError(f"{category!r} is not an Apple Podcasts category{_hint(category)}")
        return category

    @field_validator("subcategory")
    @classmethod
    def _subcategory(cls, subcategory: str, info: ValidationInfo) -> str:
        category = info.data.get("category")
        if not subcategory or category is None:
            return subcategory
        allowed = APPLE_CATEGORIES[category]
        if subcategory not in allowed:
            choices = ", ".join(allowed) if allowed else "none"
            raise ValueError(
                f"{subcategory!r} is not a subcategory of {category!r} (choose from: {choices})"
            )
        return subcategory

    @field_validator("base_url", "link")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        url = url.strip().rstrip("/")
        if (url or info.field_name == "base_url") and not re.fullmatch(r"https?://\S+", url):
            raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return url


_RENDER = RenderSettings()


class ShowDefaults(Strict):
    """How every episode is rendered, unless an essay overrides it: `RenderSettings` under the
    config file's names, with the voice and lexicons, and the same defaults and bounds."""

    voice: str = DEFAULT_VOICE
    bitrate: Bitrate = _RENDER.bitrate
    loudness: TargetLufs = _RENDER.target_lufs
    true_peak: PeakDbtp = _RENDER.peak_dbtp
    lexicons: tuple[Path, ...] = Field((), description="pronunciation lexicons, show-relative")
    pauses: Pauses = _RENDER.pauses
    speech: SpeechOptions = _RENDER.speech
    breath: dict[str, Any] = Field(
        default_factory=dict,
        description="breath cleaning, as studio.breath.BreathSettings; empty: its defaults",
    )

    @field_validator("breath")
    @classmethod
    def _breath(cls, table: dict[str, Any]) -> dict[str, Any]:
        # Kept as a table and checked here, so an error reads "defaults.breath: <field>: ...".
        try:
            BreathSettings.model_validate(table)
        except ValidationError as error:
            raise ValueError(describe_validation_error(error)) from None
        return table

    def breath_settings(self) -> BreathSettings:
        """The breath settings as studio.breath.BreathSettings."""
        return BreathSettings.model_validate(self.breath)

    def render_settings(self) -> RenderSettings:
        return RenderSettings(
            bitrate=self.bitrate,
            target_lufs=self.loudness,
            peak_dbtp=self.true_peak,
            pauses=self.pauses,
            speech=self.speech,
            breath=self.breath_settings(),
        )


# Podcast directories the site links to, in the order it shows them, with their names.
DIRECTORIES = {
    "apple_podcasts": "Apple Podcasts",
    "spotify": "Spotify",
    "overcast": "Overcast",
    "pocket_casts": "Pocket Casts",
    "youtube_music": "YouTube Music",
}


class SiteSettings(Strict):
    """The show's website, written into the output folder by `studio build` (`site = false`
    turns it off): where listeners can subscribe, and templates of the show's own."""

    enabled: bool = True
    apple_podcasts: str = Field("", description="the show's Apple Podcasts URL, once listed")
    spotify: str = ""
    overcast: str = ""
    pocket_casts: str = ""
    youtube_music: str = ""
    other: dict[str, str] = Field(
        default_factory=dict, description="more directories: name = URL, in order"
    )
    templates: Path | None = Field(
        None, description="a folder of templates replacing the built-in ones of the same name"
    )

    @model_validator(mode="before")
    @classmethod
    def _on_off(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data

    @field_validator(*DIRECTORIES)
    @classmethod
    def _directory_url(cls, url: str) -> str:
        return _absolute_url(url.strip())

    @field_validator("other")
    @classmethod
    def _other_urls(cls, links: dict[str, str]) -> dict[str, str]:
        return {name.strip(): _absolute_url(url.strip()) for name, url in links.items()}

    def subscribe_links(self) -> list[tuple[str, str]]:
        """(name, URL) of every directory the show is listed in, in the order shown."""
        known = [(DIRECTORIES[key], getattr(self, key)) for key in DIRECTORIES]
        return [(name, url) for name, url in [*known, *self.other.items()] if url]


def _absolute_url(url: str) -> str:
    if url and not re.fullmatch(r"https?://\S+", url):
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    return url


class EpisodeFields(BaseModel):
    """What one essay may set for its episode: in its front matter, or its `[[essays]]` entry."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    voice: str | None = None
    date: dt.datetime | dt.date | None = None
    episode: int | None = Field(None, ge=1)
    season: int | None = Field(None, ge=1)
    episode_type: Literal["full", "trailer", "bonus"] | None = None
    explicit: bool | None = None
    draft: bool | None = None
    guid: str | None = Field(None, min_length=1, description="permanent; set once, never change")
    link: str | None = None


class EssayEntry(EpisodeFields):
    """One `[[essays]]` entry: a path or glob (show-relative) and overrides for what it matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)


class PublishSettings(Strict):
    """Where and how `studio publish` uploads the output folder (`[publish]`)."""

    to: tuple[str, ...] = Field(
        (),
        description="destinations, each published in turn: a folder, [user@]host:/path "
        "(rsync over SSH) or s3://bucket/prefix",
    )
    endpoint_url: str = Field("", description="S3-compatible storage's endpoint; empty: AWS")
    region: str = Field("", description="S3 region; empty: the profile's or environment's")
    profile: str = Field("", description="AWS credentials profile; empty: the default chain")
    ssh_command: str = Field("ssh", min_length=1, description="how rsync runs ssh")
    delete: bool = Field(
        False, description="delete remote files no longer in the output, once the feed is live"
    )
    exclude: tuple[str, ...] = Field((), description="globs of output files never to upload")
    cache_control: dict[str, str] = Field(
        default_factory=dict, description="glob -> Cache-Control, before studio's own policy"
    )

    @field_validator("to", "exclude", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _destinations(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        from studio.upload.destinations import parse_destination  # pure text, no boto3

        for value in values:
            parse_destination(value)
        return values

    @field_validator("ssh_command")
    @classmethod
    def _ssh_command(cls, command: str) -> str:
        try:
            words = shlex.split(command)
        except ValueError as error:
            raise ValueError(f"{command!r} is not a command line: {error}") from None
        if not words:
            raise ValueError("is empty: write ssh, or ssh with options")
        return command

    @field_validator("cache_control")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for pattern, header in headers.items():
            if not header.strip() or any(char in header for char in "\r\n"):
                raise ValueError(f"{pattern!r}: {header!r} is not a Cache-Control header")
        return headers

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        url = url.strip()
        if url and not re.fullmatch(r"https?://\S+", url):
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url


class ShowConfig(Strict):
    show: ShowInfo
    defaults: ShowDefaults = ShowDefaults()
    essays: tuple[EssayEntry, ...] = (EssayEntry(path="essays/*.md"),)
    output: Path = Path("public")
    site: SiteSettings = SiteSettings()
    publish: PublishSettings = PublishSettings()

    @model_validator(mode="before")
    @classmethod
    def _carriable(cls, data: Any) -> Any:
        """Every string of the config, made carriable as it enters: the feed, the cover and the
        ID3 tags can then take any setting as it is."""
        return _map_strings(data, carriable)

    @field_validator("essays", mode="before")
    @classmethod
    def _essay_entries(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [{"path": item} if isinstance(item, str) else item for item in value]
        return value


def _map_strings(data: Any, change: Callable[[str], str]) -> Any:
    """`data` (parsed TOML) with `change` applied to every string value in it."""
    if isinstance(data, str):
        return change(data)
    if isinstance(data, dict):
        return {key: _map_strings(value, change) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_map_strings(item, change) for item in data]
    return data


@dataclasses.dataclass(frozen=True)
class Show:
    """A loaded show: its folder, config file and validated config.

    `allow_outside`: the config may name paths outside the show folder (`--allow-outside`);
    otherwise every path it names must resolve inside it.
    """

    root: Path
    config_file: Path
    config: ShowConfig
    allow_outside: bool = False

    @property
    def info(self) -> ShowInfo:
        return self.config.show

    @property
    def output(self) -> Path:
        return self.root / self.config.output

    @property
    def feed(self) -> Path:
        return self.output / FEED_NAME

    @property
    def feed_url(self) -> str:
        return self.url(FEED_NAME)

    @property
    def state(self) -> Path:
        """The show's own files (guids, caches, the lock, manifests): beside the essays, never in
        the output folder, which is uploaded as it is."""
        return self.root / STATE_DIR

    @property
    def manifests(self) -> Path:
        return self.state / "manifests"

    @property
    def image(self) -> Path:
        return self.root / self.info.image

    @property
    def published_image(self) -> Path:
        suffix = self.info.image.suffix.lower()
        return self.output / f"cover{suffix}"

    @property
    def site_templates(self) -> Path | None:
        templates = self.config.site.templates
        return None if templates is None else self.root / templates

    def url(self, name: str) -> str:
        return f"{self.info.base_url}/{name}"


def load_show(config: Path | None = None, *, allow_outside: bool = False) -> Show:
    """Read and validate a show's config (a file, or a folder holding `studio.toml`).

    Every path it names must resolve inside the show folder unless `allow_outside`: a config
    from someone else must not read (and publish) files elsewhere, or write outside its folder.
    """
    path = Path(config) if config is not None else Path(CONFIG_NAME)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise StudioError(
            f"no show config at {path}: run `studio init FOLDER` to create one, "
            "or pass --config FILE"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise StudioError(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise StudioError(f"{path} is not valid TOML: {error}") from None
    try:
        parsed = ShowConfig.model_validate(data)
    except ValidationError as error:
        raise StudioError(f"{path}: {describe_validation_error(error)}") from None
    show = Show(
        root=path.parent.resolve(), config_file=path, config=parsed, allow_outside=allow_outside
    )
    _check_output(show)
    show_path(show, parsed.show.image, "show.image")
    for index, lexicon in enumerate(parsed.defaults.lexicons):
        if not show_path(show, lexicon, f"defaults.lexicons[{index}]").is_file():
            raise StudioError(f"{path}: defaults.lexicons[{index}]: {lexicon} does not exist")
    templates = parsed.site.templates
    if templates is not None and not show_path(show, templates, "site.templates").is_dir():
        raise StudioError(f"{path}: site.templates: {templates} is not a folder")
    essay_files(show)  # every listed essay exists, and no glob hands out one episode number
    return show


def show_path(show: Show, path: Path | str, setting: str) -> Path:
    """`path` from the config, resolved; refused (naming `setting`) if it leaves the show folder
    and the user did not allow that."""
    resolved = (show.root / path).resolve()
    if not show.allow_outside and not resolved.is_relative_to(show.root):
        raise StudioError(
            f"{show.config_file}: {setting}: {path} is outside the show folder {show.root}; "
            "pass --allow-outside if you mean it"
        )
    return resolved


def _check_output(show: Show) -> None:
    """The output folder is uploaded as it is: inside the show, and never holding its state."""
    output = show_path(show, show.config.output, "output")
    state = show.state.resolve()
    if show.root.is_relative_to(output) or output.is_relative_to(state):
        raise StudioError(
            f"{show.config_file}: output: {show.config.output} would publish the show's own files "
            f'({STATE_DIR}/, the essays): choose a folder inside the show, such as "public"'
        )


def _hint(category: str) -> str:
    close = difflib.get_close_matches(category, APPLE_CATEGORIES, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; choose one of: {', '.join(APPLE_CATEGORIES)}"


def essay_files(show: Show) -> list[tuple[Path, EpisodeFields]]:
    """The essay files in config order, each with the entry fields set for it (later win)."""
    found: dict[Path, dict[str, Any]] = {}
    for index, entry in enumerate(show.config.essays):
        setting = f"essays[{index}].path"
        if not show.allow_outside:  # the pattern itself, so that one matching nothing is refused
            show_path(show, entry.path, setting)
        pattern = str(show.root / entry.path)
        if _GLOB_CHARS.search(entry.path):
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
            matches = [p for p in matches if p.is_file()]
            specific = {"date", "episode", "guid"} & entry.model_fields_set
            if len(matches) > 1 and specific:
                raise StudioError(
                    f"{show.config_file}: essays[{index}]: {', '.join(sorted(specific))} "
                    f"belong to one essay, but '{entry.path}' matches {len(matches)}"
                )
        else:
            matches = [Path(pattern)]
            if not matches[0].is_file():
                raise StudioError(
                    f"{show.config_file}: essays[{index}].path: {entry.path} does not exist"
                )
        overrides = {k: getattr(entry, k) for k in entry.model_fields_set if k != "path"}
        for match in matches:
            found.setdefault(show_path(show, match, setting), {}).update(overrides)
    return [(path, EpisodeFields(**fields)) for path, fields in found.items()]
