"""A show folder: its config (`studio.toml`), its essays, building every episode, and its feed.

    studio.toml + essays/*.md ──plan──▶ EpisodePlan* ──render──▶ public/<slug>.mp3 (+ sidecars)
                                              └──────── feed ──▶ public/feed.xml, public/cover.png

Planning is cheap (essays are parsed, nothing is synthesized) and decides which essays are
published, their slugs, dates, episode numbers and permanent guids. Rendering is `studio.render`,
one essay at a time or in parallel processes. The feed is written from what is on disk, so it
always describes the files that will be served.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import fcntl
import glob
import json
import multiprocessing
import queue
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

import studio
from studio.breath import BreathSettings
from studio.config import Pauses, RenderSettings, SpeechOptions, Strict, check_mp3_bitrate
from studio.errors import StudioError
from studio.files import write_bytes_atomic, write_text_atomic
from studio.voices import DEFAULT_VOICE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "studio.toml"
FEED_NAME = "feed.xml"
LOCK_NAME = ".studio-build.lock"
GUIDS_PATH = Path(".studio") / "guids.json"
ESSAYS_CACHE_PATH = Path(".studio") / "essays-cache.json"
SEEDS = Path(studio.__file__).resolve().parent.parent / "seeds"
SEED_AUTHOR = "Your Name"  # in seeds/studio.toml and the sample essay, replaced by init --author
# A date-only episode is published at noon UTC: the same calendar day from UTC-11 to UTC+11.
PUBLISH_TIME = dt.time(12, 0, tzinfo=dt.timezone.utc)

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
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's is ten times faster


# --- the config file ------------------------------------------------------------------------


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


class ShowDefaults(Strict):
    """How every episode is rendered, unless an essay overrides it."""

    voice: str = DEFAULT_VOICE
    bitrate: int = Field(96, description="MP3 bitrate in kbps (constant bitrate)")
    loudness: float = Field(-16.0, ge=-30, le=-10, description="integrated loudness, LUFS")
    true_peak: float = Field(-1.0, ge=-6, le=0, description="true-peak ceiling, dBTP")
    lexicons: tuple[Path, ...] = Field((), description="pronunciation lexicons, show-relative")
    pauses: Pauses = Pauses()
    speech: SpeechOptions = SpeechOptions()
    breath: dict[str, Any] = Field(
        default_factory=dict,
        description="breath cleaning, as studio.breath.BreathSettings; empty: its defaults",
    )

    @field_validator("bitrate")
    @classmethod
    def _bitrate(cls, bitrate: int) -> int:
        return check_mp3_bitrate(bitrate)

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


class ShowConfig(Strict):
    show: ShowInfo
    defaults: ShowDefaults = ShowDefaults()
    essays: tuple[EssayEntry, ...] = (EssayEntry(path="essays/*.md"),)
    output: Path = Path("public")

    @field_validator("essays", mode="before")
    @classmethod
    def _essay_entries(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [{"path": item} if isinstance(item, str) else item for item in value]
        return value


@dataclasses.dataclass(frozen=True)
class Show:
    """A loaded show: its folder, config file and validated config."""

    root: Path
    config_file: Path
    config: ShowConfig

    @property
    def info(self) -> ShowInfo:
        return self.config.show

    @property
    def output(self) -> Path:
        return self.root / self.config.output

    @property
    def feed_url(self) -> str:
        return f"{self.info.base_url}/{FEED_NAME}"

    @property
    def image(self) -> Path:
        return self.root / self.info.image

    @property
    def published_image(self) -> Path:
        suffix = self.info.image.suffix.lower()
        return self.output / f"cover{suffix}"

    def url(self, name: str) -> str:
        return f"{self.info.base_url}/{name}"


def load_show(config: Path | None = None) -> Show:
    """Read and validate a show's config (a file, or a folder holding `studio.toml`)."""
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
    show = Show(root=path.parent.resolve(), config_file=path, config=parsed)
    for index, lexicon in enumerate(parsed.defaults.lexicons):
        if not (show.root / lexicon).is_file():
            raise StudioError(f"{path}: defaults.lexicons[{index}]: {lexicon} does not exist")
    _essay_files(show)  # every listed essay exists, and no glob hands out one episode number
    return show


def describe_validation_error(error: ValidationError) -> str:
    """The first problem as "field.path: what is wrong", e.g. "show.owner.email: ..."."""
    # A misspelt key also leaves its real one missing: name the misspelling, it is the cause.
    problems = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = problems[0]
    where = ""
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting (check its spelling and the table it is in)"
    return f"{where.lstrip('.') or 'config'}: {message}"


def _hint(category: str) -> str:
    close = difflib.get_close_matches(category, APPLE_CATEGORIES, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; choose one of: {', '.join(APPLE_CATEGORIES)}"


# --- a new show -------------------------------------------------------------------------------


def init_show(folder: Path, *, title: str | None = None, author: str | None = None) -> list[Path]:
    """Create a show in `folder` from seeds/: config, a sample essay, a lexicon and a cover."""
    from studio.cover import make_cover

    if not (SEEDS / CONFIG_NAME).is_file():
        raise StudioError(
            f"studio's seeds folder is missing ({SEEDS}); install studio from its repository "
            "checkout (pip install -e .)"
        )
    config = (SEEDS / CONFIG_NAME).read_text(encoding="utf-8")
    if title is not None:
        config = _set_show_key(config, "title", title)
    if author is not None:  # the author, the owner's name and the copyright line
        config = config.replace(SEED_AUTHOR, json.dumps(author, ensure_ascii=False)[1:-1])
    try:
        info = ShowConfig.model_validate(tomllib.loads(config)).show
    except ValidationError as error:
        raise StudioError(f"--title/--author: {describe_validation_error(error)}") from None

    files: dict[Path, bytes] = {
        folder / CONFIG_NAME: config.encode("utf-8"),
        folder / "lexicon.toml": (SEEDS / "lexicon.toml").read_bytes(),
        folder / info.image: make_cover(info.title, info.author),
    }
    for essay in sorted((SEEDS / "essays").iterdir()):
        text = essay.read_text(encoding="utf-8")
        if author is not None:
            text = text.replace(f"author: {SEED_AUTHOR}", f"author: {json.dumps(author)}")
        files[folder / "essays" / essay.name] = text.encode("utf-8")
    for path in files:
        if path.exists():
            raise StudioError(f"{path} already exists: init a new show into an empty folder")
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
    except OSError as error:
        raise StudioError(f"cannot create the show in {folder}: {error.strerror}") from None
    return list(files)


def _set_show_key(config: str, key: str, value: str) -> str:
    """Replace `key = "..."` in the [show] table of the seed config (JSON strings are TOML)."""
    pattern = re.compile(rf'(?m)^{key} = ".*"$')
    show_table = config.index("[show]")
    match = pattern.search(config, show_table)
    assert match is not None, f"seeds/{CONFIG_NAME} has no {key} in [show]"
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    return config[: match.start()] + line + config[match.end() :]


# --- planning: which essays, with what settings and identity ---------------------------------


@dataclasses.dataclass(frozen=True)
class EpisodePlan:
    """One essay of the show, as the next build will treat it. `error` set: it cannot be built."""

    source: Path
    name: str  # the essay's path relative to the show folder, as shown to the user
    fields: EpisodeFields
    slug: str
    title: str = ""
    summary: str = ""
    published: dt.datetime | None = None
    error: str | None = None
    guid: str = ""

    @property
    def draft(self) -> bool:
        return bool(self.fields.draft)


def plan_episodes(show: Show) -> list[EpisodePlan]:
    """Every essay the config names, in order, parsed and checked (nothing is synthesized).

    What an essay file says about itself (front matter, slug, title, summary, date) is kept in
    `.studio/essays-cache.json` against the file's size and mtime, so a show of a thousand essays
    is planned without parsing a thousand essays.
    """
    info = show.info
    cache_path = show.root / ESSAYS_CACHE_PATH
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    fresh: dict[str, Any] = {}
    plans: list[EpisodePlan] = []
    slugs: dict[str, str] = {}
    for source, fields in _essay_files(show):
        name = _show_relative(show, source)
        try:
            stamp = _essay_stamp(show, source)
            read = cached.get(name)
            if not isinstance(read, dict) or read.get("stamp") != stamp:
                read = {"stamp": stamp, **_read_essay(show, source)}
            fields = EpisodeFields.model_validate({**read["front"], **_set(fields)})
        except StudioError as error:
            plans.append(EpisodePlan(source, name, fields, source.stem, error=str(error)))
            continue
        fresh[name] = read
        meta_date = dt.date.fromisoformat(read["date"]) if read["date"] else None
        plan = EpisodePlan(
            source,
            name,
            fields,
            read["slug"],
            title=read["title"],
            summary=read["summary"],
            published=_publication_time(fields.date or meta_date),
        )
        if not plan.draft:
            problem = None
            if plan.published is None:
                problem = f"{name} has no date: add `date: YYYY-MM-DD` to its front matter"
            elif info.type == "serial" and fields.episode is None:
                problem = (
                    f"{name} has no episode number, which a serial show needs on every episode: "
                    "add `episode: N` to its front matter"
                )
            elif plan.slug in slugs:
                problem = (
                    f"{name} has the slug '{plan.slug}' of {slugs[plan.slug]}: give one of them "
                    "another `slug:` in its front matter"
                )
            if problem:
                plan = dataclasses.replace(plan, error=problem)
            else:
                slugs[plan.slug] = name
        plans.append(plan)
    if fresh != cached:
        with contextlib.suppress(OSError):  # only a cache: the next plan parses again
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(cache_path, json.dumps(fresh, indent=1, ensure_ascii=False))
    return plans


def _essay_stamp(show: Show, source: Path) -> list[Any]:
    """What must not change for an essay's cached reading to hold."""
    try:
        stat = source.stat()
    except OSError as error:
        raise StudioError(f"cannot read {source}: {error.strerror}") from None
    level = show.config.defaults.speech.chapter_level
    return [stat.st_size, stat.st_mtime_ns, level, studio.__version__]


def _read_essay(show: Show, source: Path) -> dict[str, Any]:
    """Parse an essay for what planning needs, as JSON-ready values."""
    from studio.ingest import load_essay

    front = _front_matter(source).model_dump(mode="json", exclude_none=True)
    essay = load_essay(source, chapter_level=show.config.defaults.speech.chapter_level)
    meta = essay.meta
    return {
        "front": front,
        "slug": meta.slug,
        "title": meta.title,
        "summary": meta.description or _first_paragraph(essay),
        "date": meta.date.isoformat() if meta.date else None,
    }


def _essay_files(show: Show) -> list[tuple[Path, EpisodeFields]]:
    """The essay files in config order, each with the entry fields set for it (later win)."""
    found: dict[Path, dict[str, Any]] = {}
    for index, entry in enumerate(show.config.essays):
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
            found.setdefault(match.resolve(), {}).update(overrides)
    return [(path, EpisodeFields(**fields)) for path, fields in found.items()]


def _set(fields: EpisodeFields) -> dict[str, Any]:
    return {k: getattr(fields, k) for k in fields.model_fields_set}


def _front_matter(source: Path) -> EpisodeFields:
    """The episode fields a Markdown essay sets in its front matter (none for other formats)."""
    if source.suffix.lower() not in (".md", ".markdown"):
        return EpisodeFields()
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return EpisodeFields()  # load_essay explains what is wrong with the file
    match = re.match(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", text, re.DOTALL)
    if not match:
        return EpisodeFields()
    try:
        data = yaml.load(match.group(1), Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return EpisodeFields()  # load_essay explains it
    if not isinstance(data, dict):
        return EpisodeFields()
    data.pop("date", None)  # the essay's date is read (and checked) by ingest
    if isinstance(data.get("guid"), (int, float)):
        data["guid"] = str(data["guid"])
    try:
        return EpisodeFields.model_validate(data)
    except ValidationError as error:
        name = source.name
        raise StudioError(f"{name}: front matter {describe_validation_error(error)}") from None


def _first_paragraph(essay: Any) -> str:
    for chapter in essay.chapters:
        for block in chapter.blocks:
            if block.kind == "paragraph" and block.text.strip():
                return block.text.strip()
    return ""


def _publication_time(date: dt.date | dt.datetime | None) -> dt.datetime | None:
    if date is None:
        return None
    if isinstance(date, dt.datetime):
        return date if date.tzinfo else date.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.combine(date, PUBLISH_TIME)


def _show_relative(show: Show, path: Path) -> str:
    try:
        return path.relative_to(show.root).as_posix()
    except ValueError:
        return str(path)


# --- permanent episode guids -----------------------------------------------------------------


def assign_guids(show: Show, plans: list[EpisodePlan]) -> list[EpisodePlan]:
    """Give every publishable essay its permanent guid, stored in `.studio/guids.json`.

    A guid set in front matter (or the essay's entry) is used as is. Otherwise an essay keeps the
    guid first assigned to it: it is found by its path (so retitling keeps it), then by its slug
    (so renaming a file with a fixed `slug:` keeps it), then by its title among entries whose file
    is gone (so renaming a file keeps it). A new essay gets a new random UUID.
    """
    store_path = show.root / GUIDS_PATH
    try:
        stored = json.loads(store_path.read_text(encoding="utf-8"))["episodes"]
    except FileNotFoundError:
        stored = []
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StudioError(
            f"{store_path} is damaged ({error}); restore it from version control: it holds the "
            "permanent guids of published episodes"
        ) from None
    before = json.dumps(stored, sort_keys=True)
    guids: dict[int, str] = {}
    wanted = [
        i for i, p in enumerate(plans) if not p.draft and p.error is None and not p.fields.guid
    ]
    used: set[int] = set()

    def match(key: Callable[[dict[str, Any]], bool], plan_index: int) -> None:
        for store_index, entry in enumerate(stored):
            if store_index not in used and key(entry):
                used.add(store_index)
                guids[plan_index] = entry["guid"]
                plan = plans[plan_index]
                entry.update(path=plan.name, slug=plan.slug, title=plan.title)
                return

    for i in wanted:
        match(lambda e, i=i: e.get("path") == plans[i].name, i)
    for i in wanted:
        if i not in guids:
            match(lambda e, i=i: e.get("slug") == plans[i].slug, i)
    for i in wanted:
        if i not in guids:
            match(
                lambda e, i=i: (
                    e.get("title") == plans[i].title
                    and not (show.root / str(e.get("path"))).exists()
                ),
                i,
            )
    for i in wanted:
        if i not in guids:
            guids[i] = str(uuid.uuid4())
            plan = plans[i]
            stored.append(
                {"guid": guids[i], "path": plan.name, "slug": plan.slug, "title": plan.title}
            )
    stored.sort(key=lambda e: (str(e.get("path")), str(e.get("guid"))))
    if json.dumps(stored, sort_keys=True) != before:
        store_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"episodes": stored}, indent=2, ensure_ascii=False) + "\n"
        write_text_atomic(store_path, text)
    return [
        dataclasses.replace(p, guid=p.fields.guid or guids.get(i, "")) for i, p in enumerate(plans)
    ]


# --- the lock ---------------------------------------------------------------------------------


@contextlib.contextmanager
def output_lock(show: Show) -> Iterator[None]:
    """Hold the output folder's lock: one build (or feed) writes into it at a time."""
    try:
        show.output.mkdir(parents=True, exist_ok=True)
        handle = (show.output / LOCK_NAME).open("a")
    except OSError as error:
        raise StudioError(
            f"cannot write to the output folder {show.output}: {error.strerror}"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudioError(
                f"another studio build is writing to {show.output}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- building ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EssayOutcome:
    """What happened to one essay in a build."""

    slug: str
    name: str  # the essay's show-relative path
    status: Literal["rendered", "up to date", "failed"]
    seconds: float = 0.0
    duration: float = 0.0  # of the episode
    synthesized: int = 0
    error: str = ""


@dataclasses.dataclass(frozen=True)
class BuildEvent:
    """Progress of a build, for a progress display.

    kinds: "planned" (total = essays to render), "segments" (an essay's takes: done of total,
    seconds of audio), "done" (outcome set).
    """

    kind: Literal["planned", "segments", "done"]
    slug: str = ""
    done: int = 0
    total: int = 0
    seconds: float = 0.0
    outcome: EssayOutcome | None = None


BuildProgress = Callable[[BuildEvent], None]


@dataclasses.dataclass(frozen=True)
class FeedReport:
    path: Path
    episodes: int
    changed: bool
    missing: tuple[str, ...]  # publishable essays with no rendered episode yet


@dataclasses.dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[EssayOutcome, ...]
    feed: FeedReport
    drafts: int

    @property
    def failed(self) -> tuple[EssayOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


@dataclasses.dataclass(frozen=True)
class _Job:
    slug: str
    name: str
    request: Any  # RenderRequest
    cache_dir: Path


def build(
    show: Show,
    *,
    only: str | None = None,
    jobs: int = 1,
    force: bool = False,
    cache_dir: Path | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Render every publishable essay (or just `only`), then write the cover and the feed.

    An essay that fails is reported and the others carry on; the feed lists every episode whose
    files are on disk. `jobs` > 1 renders that many essays at once in separate processes.
    """
    from studio.cache import default_cache_dir
    from studio.render import RenderRequest

    cache_dir = cache_dir or default_cache_dir()
    emit = progress or (lambda event: None)
    with output_lock(show):
        plans = plan_episodes(show)
        chosen = [p for p in plans if not p.draft]
        if only is not None:
            chosen = [p for p in plans if only in (p.slug, p.name)]
            if not chosen:
                known = ", ".join(p.slug for p in plans) or "none"
                raise StudioError(f"no essay with slug '{only}' in this show (slugs: {known})")
        plans = assign_guids(show, plans)
        cover = publish_cover(show)
        defaults = show.config.defaults
        settings = defaults.render_settings()
        lexicons = tuple(show.root / p for p in defaults.lexicons)
        outcomes: dict[str, EssayOutcome] = {}
        work: list[_Job] = []
        for plan in chosen:
            if plan.error is not None:
                outcomes[plan.name] = EssayOutcome(plan.slug, plan.name, "failed", error=plan.error)
                continue
            request = RenderRequest(
                essay=plan.source,
                out_dir=show.output,
                voice=plan.fields.voice or defaults.voice,
                settings=settings,
                lexicons=lexicons,
                cover=cover,
                force=force,
            )
            work.append(_Job(plan.slug, plan.name, request, cache_dir))
        emit(BuildEvent("planned", total=len(chosen)))
        for outcome in outcomes.values():
            emit(BuildEvent("done", slug=outcome.slug, outcome=outcome))
        for outcome in _run_jobs(work, jobs, emit):
            outcomes[outcome.name] = outcome
        feed = write_feed(show, plans)
    ordered = tuple(outcomes[p.name] for p in chosen if p.name in outcomes)
    return BuildReport(ordered, feed, drafts=sum(1 for p in plans if p.draft))


def feed_only(show: Show) -> FeedReport:
    """Rewrite the cover and the feed from the episodes already rendered; render nothing."""
    with output_lock(show):
        plans = assign_guids(show, plan_episodes(show))
        publish_cover(show)
        return write_feed(show, plans)


def _run_jobs(work: list[_Job], jobs: int, emit: BuildProgress) -> Iterator[EssayOutcome]:
    """Render each job, in this process or `jobs` worker processes, yielding outcomes."""
    stale = work
    if jobs > 1:
        # Deciding what is up to date is cheap; only real work is worth a process.
        stale = []
        for job in work:
            if _up_to_date(job):
                outcome = _render_job(job, emit)
                emit(BuildEvent("done", slug=job.slug, outcome=outcome))
                yield outcome
            else:
                stale.append(job)
    if jobs <= 1 or len(stale) <= 1:
        for job in stale:
            outcome = _render_job(job, emit)
            emit(BuildEvent("done", slug=job.slug, outcome=outcome))
            yield outcome
        return

    context = multiprocessing.get_context("spawn")
    events: multiprocessing.Queue = context.Queue()

    def drain() -> None:
        while True:
            try:
                emit(events.get_nowait())
            except queue.Empty:
                return

    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(stale)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(events,),
    )
    try:
        futures: dict[Future[EssayOutcome], _Job] = {
            pool.submit(_render_job, job): job for job in stale
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            drain()
            for future in finished:
                job = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = EssayOutcome(
                        job.slug, job.name, "failed", error="its render process died (memory?)"
                    )
                emit(BuildEvent("done", slug=job.slug, outcome=outcome))
                yield outcome
        drain()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


_WORKER_EVENTS: multiprocessing.Queue | None = None


def _init_worker(events: multiprocessing.Queue) -> None:
    global _WORKER_EVENTS
    _WORKER_EVENTS = events


def _up_to_date(job: _Job) -> bool:
    from studio.render import is_up_to_date, prepare

    if job.request.force:
        return False
    try:
        return is_up_to_date(prepare(job.request, job.cache_dir))
    except StudioError:
        return False  # the render reports it


def _render_job(job: _Job, emit: BuildProgress | None = None) -> EssayOutcome:
    """Render one essay; never raises for a problem with that essay, reports it instead."""
    from studio.render import render

    events = _WORKER_EVENTS

    def report(done: int, total: int, seconds: float) -> None:
        event = BuildEvent("segments", job.slug, done, total, seconds)
        if events is not None:
            events.put(event)
        elif emit is not None:
            emit(event)

    started = time.perf_counter()
    try:
        result = render(job.request, cache_dir=job.cache_dir, progress=report)
    except StudioError as error:
        message = str(error)
    except Exception as error:  # one essay's bug must not stop the show
        message = f"{type(error).__name__}: {error}"
    else:
        return EssayOutcome(
            job.slug,
            job.name,
            "up to date" if result.up_to_date else "rendered",
            seconds=time.perf_counter() - started,
            duration=result.duration,
            synthesized=result.synthesized,
        )
    return EssayOutcome(
        job.slug, job.name, "failed", seconds=time.perf_counter() - started, error=message
    )


# --- the cover and the feed -------------------------------------------------------------------


def publish_cover(show: Show) -> Path:
    """Check the show's cover and copy it into the output folder (only if it changed)."""
    from studio.cover import check_cover

    image = show.image
    try:
        check_cover(image)
    except StudioError as error:
        raise StudioError(f"{show.config_file}: show.image: {error}") from None
    data = image.read_bytes()
    target = show.published_image
    if not target.is_file() or target.read_bytes() != data:
        write_bytes_atomic(target, data)
    return image


def write_feed(show: Show, plans: list[EpisodePlan]) -> FeedReport:
    """Write feed.xml from the published essays whose episodes are on disk (only if it changed)."""
    from studio.publish.feed import Channel, Item, build_feed
    from studio.render import output_paths

    info = show.info
    channel = Channel(
        title=info.title,
        description=info.description,
        link=info.link or info.base_url,
        feed_url=show.feed_url,
        image_url=show.url(show.published_image.name),
        language=info.language,
        category=info.category,
        subcategory=info.subcategory,
        author=info.author,
        owner_name=info.owner.name,
        owner_email=info.owner.email,
        explicit=info.explicit,
        type=info.type,
        copyright=info.copyright,
        locked=info.locked,
    )
    items = []
    missing = []
    for plan in plans:
        if plan.draft or plan.error is not None or plan.published is None:
            if not plan.draft:
                missing.append(plan.name)
            continue
        paths = output_paths(show.output, plan.slug)
        try:
            manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
            audio_bytes = paths["mp3"].stat().st_size
        except (OSError, ValueError):
            missing.append(plan.name)
            continue
        season = plan.fields.season
        if season is None and info.type == "serial":
            season = 1  # Apple orders a serial show by season and episode
        items.append(
            Item(
                guid=plan.guid,
                title=plan.title,
                summary=plan.summary,
                link=plan.fields.link or info.link or info.base_url,
                published=plan.published,
                audio_url=show.url(paths["mp3"].name),
                audio_bytes=audio_bytes,
                duration=float(manifest["duration"]),
                chapters=tuple(
                    (float(c["start"]), c["title"] or plan.title) for c in manifest["chapters"]
                ),
                chapters_url=_url_if_file(show, paths["chapters"]),
                vtt_url=_url_if_file(show, paths["vtt"]),
                srt_url=_url_if_file(show, paths["srt"]),
                explicit=info.explicit if plan.fields.explicit is None else plan.fields.explicit,
                episode_type=plan.fields.episode_type or "full",
                episode=plan.fields.episode,
                season=season,
            )
        )
    document = build_feed(channel, items)
    path = show.output / FEED_NAME
    changed = not path.is_file() or path.read_bytes() != document
    if changed:
        write_bytes_atomic(path, document)
    return FeedReport(path, len(items), changed, tuple(missing))


def _url_if_file(show: Show, path: Path) -> str:
    return show.url(path.name) if path.is_file() else ""
