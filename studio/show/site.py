"""The show's website, written beside the feed: the episodes the feed lists, as pages.

What goes on the pages is gathered here from what the build left on disk (manifests, MP3s, the
feed just written) and the essays themselves (their show notes), then handed to
`studio.site.render.render_site` as plain values. A page is written only when its bytes change,
so an unchanged rebuild rewrites nothing; and when what the pages are made from (the feed, the
plans, the sizes and times of the essays and episode files, the templates) and the files written
last time are all as they were (`.studio/site.json`), no essay is read and nothing is rendered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree

from studio import __version__
from studio.errors import StudioError
from studio.files import write_bytes_atomic, write_text_atomic
from studio.ingest import load_essay
from studio.manifest import Manifest
from studio.publish.feed import ITUNES, feed_items
from studio.publish.sidecars import caption_cues
from studio.show.config import Show
from studio.show.feed import episode_paths
from studio.show.plan import EpisodePlan
from studio.site.model import (
    Cue,
    Link,
    SiteChapter,
    SiteEpisode,
    SiteShow,
    TranscriptSection,
    embed_snippet,
)
from studio.site.paths import EMBEDS, INDEX, PAGES, STATIC, TEMPLATES, embed_path, page_path
from studio.types import Placement

PAGE_FOLDERS = (PAGES, EMBEDS)  # studio's own: a page there that no episode has is removed
SITE_STATE = "site.json"  # in the show's state: what the site was last made from, and its files


@dataclasses.dataclass(frozen=True)
class SiteReport:
    index: Path
    pages: int  # episode pages on the site
    written: tuple[str, ...]  # paths in the output folder written this time
    removed: tuple[str, ...]  # pages of episodes the feed no longer lists
    snippets: tuple[tuple[str, str], ...]  # (slug, <iframe> snippet) of embeds written this time

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def write_site(
    show: Show, plans: list[EpisodePlan], *, failed: frozenset[str] = frozenset()
) -> SiteReport | None:
    """Write the site of the episodes feed.xml lists (None if the show's site is off).

    An essay that cannot be built this time (a plan error, or its name in `failed`) is still
    listed on the index as the feed keeps it, and keeps the page it had.
    """
    if not show.config.site.enabled:
        return None
    try:
        feed = show.feed.read_bytes()
        listed = feed_items(feed)
    except (OSError, ValueError):
        feed, listed = b"", {}  # no feed yet (or not one of ours): no episode is published
    shown = [p for p in plans if not p.draft and p.guid in listed]
    site = _site_show(show)
    key = _inputs_key(show, site, shown, feed, failed)
    state = show.state / SITE_STATE
    recorded = _unchanged_files(show, state, key)
    if recorded is not None:  # nothing the pages are made from changed: read no essay again
        pages = sum(1 for path in recorded if path.startswith(f"{PAGES}/"))
        return SiteReport(show.output / INDEX, pages, (), (), ())
    episodes = []
    for plan in shown:
        episode = None
        if plan.error is None and plan.name not in failed:
            episode = _episode(show, plan)
        episodes.append(episode or _kept_episode(plan, listed[plan.guid]))
    from studio.site.render import render_site  # Jinja2: only when something may have changed

    rendered = render_site(site, episodes, templates=show.site_templates)
    written = tuple(path for path, data in rendered.items() if _write(show.output / path, data))
    files = {path: len(data) for path, data in rendered.items()}
    state.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(state, json.dumps({"key": key, "files": files}, indent=1))
    keep = {path(e.slug) for e in episodes for path in (page_path, embed_path)}
    removed = _remove_stale_pages(show, keep)
    snippets = tuple(
        (episode.slug, embed_snippet(site, episode))
        for episode in episodes
        if embed_path(episode.slug) in written
    )
    pages = sum(1 for episode in episodes if episode.page)
    return SiteReport(show.output / INDEX, pages, written, removed, snippets)


def _inputs_key(
    show: Show, site: SiteShow, shown: list[EpisodePlan], feed: bytes, failed: frozenset[str]
) -> str:
    """A digest of everything the pages are made from, cheap to take: the show's values, the
    feed, each episode's plan and its files' sizes and times (not their contents: an essay
    touched but unchanged costs a render and a comparison, and nothing is rewritten), the
    templates (a show's and studio's) and studio's version."""
    config = show.config
    digest = hashlib.sha256(repr((__version__, site, config.defaults, sorted(failed))).encode())
    digest.update(feed)
    for plan in shown:
        paths = episode_paths(show, plan.slug)
        files = (plan.source, paths["manifest"], paths["mp3"], paths["vtt"], paths["chapters"])
        digest.update(repr((plan, [_stamp(path) for path in files])).encode())
    folders = [TEMPLATES, STATIC] + ([show.site_templates] if show.site_templates else [])
    for folder in folders:
        for path in sorted(folder.rglob("*")):  # a template may include one from a subfolder
            if path.is_file():
                digest.update(f"\n{path.relative_to(folder).as_posix()}\n".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _unchanged_files(show: Show, state: Path, key: str) -> dict[str, int] | None:
    """The site's files, if the last build made them from `key` and they are still there as
    written (by size); None if the site must be rendered (and compared) again."""
    try:
        recorded = json.loads(state.read_text(encoding="utf-8"))
        files = recorded["files"]
        if recorded["key"] != key or not isinstance(files, dict):
            return None
        for path, size in files.items():
            if (show.output / path).stat().st_size != size:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record, a damaged one, or a file gone: render and compare
    return files


def _site_show(show: Show) -> SiteShow:
    info = show.info
    return SiteShow(
        title=info.title,
        description=info.description,
        author=info.author,
        language=info.language,
        base_url=info.base_url,
        feed_url=show.feed_url,
        cover=show.published_image.name,
        subscribe=tuple(Link(name, url) for name, url in show.config.site.subscribe_links()),
        copyright=info.copyright,
    )


def _episode(show: Show, plan: EpisodePlan) -> SiteEpisode | None:
    """The page of a plan's episode from its files on disk; None if it has none."""
    paths = episode_paths(show, plan.slug)
    manifest = Manifest.read(paths["manifest"])
    if manifest is None or plan.published is None:
        return None
    try:
        audio_bytes = paths["mp3"].stat().st_size
    except OSError:
        return None
    level = show.config.defaults.speech.chapter_level
    try:
        notes = load_essay(plan.source, chapter_level=level).notes
    except StudioError:
        notes = ""  # changed since it was rendered, and unreadable now: the page goes without
    pauses = show.config.defaults.pauses
    return SiteEpisode(
        slug=plan.slug,
        title=plan.title,
        published=plan.published,
        duration=manifest.duration,
        audio=paths["mp3"].name,
        audio_bytes=audio_bytes,
        summary=plan.summary,
        chapters=tuple(SiteChapter(c.start, c.title or plan.title) for c in manifest.chapters),
        transcript=transcript(manifest, (pauses.sentence + pauses.paragraph) / 2),
        notes=notes,
        essay_url=plan.fields.link or "",
        episode=plan.fields.episode,
        season=plan.fields.season,
        vtt=paths["vtt"].name if paths["vtt"].is_file() else "",
        chapters_file=paths["chapters"].name if paths["chapters"].is_file() else "",
    )


def transcript(manifest: Manifest, paragraph_gap: float) -> tuple[TranscriptSection, ...]:
    """The episode's captions, by chapter, in paragraphs: a silence of `paragraph_gap` seconds
    or more between two captions starts a new paragraph (the render pauses longer there)."""
    segments = manifest.segments
    placements = [Placement(s.start, s.end, s.text, s.source) for s in segments]
    sections: dict[int, list[list[Cue]]] = {}
    previous_end = None
    for index, start, end, words in caption_cues(placements):
        cue = Cue(start / 1000, end / 1000, words)
        paragraphs = sections.setdefault(segments[index].chapter, [])
        if not paragraphs or previous_end is None or cue.start - previous_end >= paragraph_gap:
            paragraphs.append([])
        paragraphs[-1].append(cue)
        previous_end = cue.end
    titles = [c.title for c in manifest.chapters]
    result = []
    for index, paragraphs in sorted(sections.items()):
        title = titles[index] if index < len(titles) else ""
        heading = None
        first = paragraphs[0]
        if title and first[0].text.rstrip(".").casefold() == title.rstrip(".").casefold():
            heading = first.pop(0)  # the title read aloud: the section's heading
            if not first:
                paragraphs.pop(0)
        result.append(TranscriptSection(title, tuple(map(tuple, paragraphs)), heading))
    return tuple(result)


def _kept_episode(plan: EpisodePlan, element: etree._Element) -> SiteEpisode:
    """An episode the feed keeps as published (its essay failed this time): listed, page kept."""
    enclosure = element.find("enclosure")
    audio = (enclosure.get("url", "") if enclosure is not None else "").rsplit("/", 1)[-1]
    published = plan.published
    if published is None:
        published = parsedate_to_datetime(element.findtext("pubDate") or "")
    return SiteEpisode(
        slug=audio.removesuffix(".mp3") or plan.slug,  # the page it was published with
        title=element.findtext("title") or plan.title,
        published=published,
        duration=float(element.findtext(f"{{{ITUNES}}}duration") or 0),
        audio=audio,
        page=False,
    )


def _write(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; whether it wrote."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, data)
    return True


def _remove_stale_pages(show: Show, keep: set[str]) -> tuple[str, ...]:
    """Remove the pages of episodes no longer listed (studio's own folders only)."""
    removed = []
    for folder in PAGE_FOLDERS:
        for page in sorted((show.output / folder).glob("*.html")):
            name = f"{folder}/{page.name}"
            if name not in keep:
                page.unlink()
                removed.append(name)
    return tuple(removed)
