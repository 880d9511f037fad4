"""Pages from plain values: `render_site` turns a show and its episodes into the site's files.

Every link between the pages, and to the audio, cover and assets, is relative, so the same files
work from `file://`, from a folder on any static host and behind any base URL; only what must be
absolute (Open Graph and Twitter tags, the feed's address, canonical links) uses `base_url`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from studio.errors import StudioError
from studio.site.model import EMBED_HEIGHT, SiteEpisode, SiteShow, embed_snippet
from studio.site.paths import ASSETS, INDEX, STATIC, TEMPLATES, embed_path, page_path


def render_site(
    show: SiteShow, episodes: Sequence[SiteEpisode], *, templates: Path | None = None
) -> dict[str, bytes]:
    """Every file of the site by its path in the output folder: the index, a page and an embed
    per episode (newest first on the index), the stylesheet and the script.

    `templates`: a folder whose files replace the built-in ones of the same name (`index.html`,
    `episode.html`, `embed.html`, `base.html`, `studio.css`, `studio.js`...).
    """
    environment = _environment(templates)
    ordered = sorted(episodes, key=lambda e: (e.published, e.season or 0, e.episode or 0, e.slug))
    ordered.reverse()
    shared = {"show": show, "episodes": ordered, "embed_height": EMBED_HEIGHT}
    files: dict[str, bytes] = {}
    files[INDEX] = _render(environment, "index.html", root="", **shared)
    for episode in ordered:
        if not episode.page:
            continue
        context = {
            **shared,
            "root": "../",
            "episode": episode,
            "page_url": f"{show.base_url}/{page_path(episode.slug)}",
            "embed_url": f"{show.base_url}/{embed_path(episode.slug)}",
            "snippet": embed_snippet(show, episode),
        }
        files[page_path(episode.slug)] = _render(environment, "episode.html", **context)
        files[embed_path(episode.slug)] = _render(environment, "embed.html", **context)
    for target, name in ASSETS.items():
        files[target] = _static(templates, name)
    return files


def _environment(templates: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(templates))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in an override fails the build, not the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(clock=clock, day=_day, size=_size, notes=_notes)
    environment.globals.update(page_path=page_path, embed_path=embed_path)
    return environment


def _render(environment: jinja2.Environment, name: str, **context: object) -> bytes:
    try:
        return environment.get_template(name).render(**context).encode("utf-8")
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}, line {error.lineno}"
        raise StudioError(f"site template {where}: {error.message}") from None
    except jinja2.TemplateError as error:
        raise StudioError(f"site template {name}: {error}") from None


def _static(templates: Path | None, name: str) -> bytes:
    if templates is not None and (templates / name).is_file():
        return (templates / name).read_bytes()
    return (STATIC / name).read_bytes()


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _notes(notes: str) -> Markup:
    """Sanitized show notes, their headings one level down: they sit under the page's own
    "Show notes" heading (<h2>)."""
    return Markup(_HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}>", notes))


def clock(seconds: float) -> str:
    """12.5 → "0:12", 3725 → "1:02:05"."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _day(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
