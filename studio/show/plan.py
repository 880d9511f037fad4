"""Planning a build: which essays are episodes, with what settings, slugs, dates and numbers.

Planning is cheap: essays are parsed (and what they say about themselves is cached), nothing is
synthesized.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import studio
from studio.config import describe_validation_error
from studio.errors import StudioError
from studio.files import write_text_atomic
from studio.ingest import load_essay
from studio.show.config import EpisodeFields, Show, essay_files
from studio.types import Essay

ESSAYS_CACHE_PATH = Path(".studio") / "essays-cache.json"
_CACHE_FORMAT = 2  # 2: front matter keys read case-insensitively, as ingest reads them

# A date-only episode is published at noon UTC: the same calendar day from UTC-11 to UTC+11.
PUBLISH_TIME = dt.time(12, 0, tzinfo=dt.timezone.utc)


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
    cached = _read_cache(cache_path)
    fresh: dict[str, Any] = {}
    plans: list[EpisodePlan] = []
    slugs: dict[str, str] = {}
    for source, fields in essay_files(show):
        name = _show_relative(show, source)
        try:
            stamp = _essay_stamp(show, source)
            read = cached.get(name)
            if not _is_reading(read) or read["stamp"] != stamp:
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


def _read_cache(path: Path) -> dict[str, Any]:
    """The essays cache; empty if it is missing or damaged (it is rebuilt as essays are read)."""
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def _is_reading(entry: Any) -> bool:
    """Whether a cache entry has the shape `_read_essay` gives it (a damaged one is read again)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("front"), dict):
        return False
    if not all(isinstance(entry.get(key), str) for key in ("slug", "title", "summary")):
        return False
    try:
        EpisodeFields.model_validate(entry["front"])
        if entry.get("date") is not None:
            dt.date.fromisoformat(entry["date"])
    except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        return False
    return isinstance(entry.get("stamp"), list)


def _essay_stamp(show: Show, source: Path) -> list[Any]:
    """What must not change for an essay's cached reading to hold."""
    try:
        stat = source.stat()
    except OSError as error:
        raise StudioError(f"cannot read {source}: {error.strerror}") from None
    level = show.config.defaults.speech.chapter_level
    return [stat.st_size, stat.st_mtime_ns, level, studio.__version__, _CACHE_FORMAT]


def _read_essay(show: Show, source: Path) -> dict[str, Any]:
    """Parse an essay for what planning needs, as JSON-ready values."""
    essay = load_essay(source, chapter_level=show.config.defaults.speech.chapter_level)
    meta = essay.meta
    front = _episode_fields(meta.front_matter, source.name)
    return {
        "front": front,
        "slug": meta.slug,
        "title": meta.title,
        "summary": meta.description or _first_paragraph(essay),
        "date": meta.date.isoformat() if meta.date else None,
    }


def _set(fields: EpisodeFields) -> dict[str, Any]:
    return {k: getattr(fields, k) for k in fields.model_fields_set}


def _episode_fields(front_matter: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The episode fields an essay's front matter sets, as JSON-ready values."""
    data = dict(front_matter)
    data.pop("date", None)  # the essay's date is read (and checked) by ingest
    if isinstance(data.get("guid"), (int, float)):
        data["guid"] = str(data["guid"])
    try:
        fields = EpisodeFields.model_validate(data)
    except ValidationError as error:
        raise StudioError(f"{name}: front matter {describe_validation_error(error)}") from None
    return fields.model_dump(mode="json", exclude_none=True)


def _first_paragraph(essay: Essay) -> str:
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
