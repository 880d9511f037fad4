"""The plain values the site's pages are made from, and the embed snippet (no Jinja2 here: a
build that finds its site unchanged never imports it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html

from studio.site.paths import embed_path

EMBED_HEIGHT = 180  # px: the embed's iframe, its cover, title, controls and chapter menu


@dataclasses.dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclasses.dataclass(frozen=True)
class SiteShow:
    """The show, as its pages present it. URLs are absolute; `cover` is a file of the output."""

    title: str
    description: str
    author: str
    language: str
    base_url: str  # where the output folder is served, without a trailing "/"
    feed_url: str
    cover: str  # e.g. "cover.png"
    subscribe: tuple[Link, ...] = ()  # podcast directories (Apple Podcasts, Spotify ...)
    copyright: str = ""


@dataclasses.dataclass(frozen=True)
class Cue:
    """One caption: a sentence (or part of one) and when it is spoken, in seconds."""

    start: float
    end: float
    text: str


@dataclasses.dataclass(frozen=True)
class TranscriptSection:
    """A chapter of the transcript: its title ("" for none), the caption in which the title is
    read aloud (shown as the heading, if it was read), and paragraphs of cues."""

    title: str
    paragraphs: tuple[tuple[Cue, ...], ...]
    heading: Cue | None = None


@dataclasses.dataclass(frozen=True)
class SiteChapter:
    start: float
    title: str


@dataclasses.dataclass(frozen=True)
class SiteEpisode:
    """One episode. `audio` (and `vtt`, `chapters_file`) are file names in the output folder.

    `notes` is sanitized HTML (the essay's own markup, links kept), published as it is.
    `page` False: the episode is listed, but its page is not written (it failed to build this
    time, and keeps the page it had).
    """

    slug: str
    title: str
    published: dt.datetime
    duration: float  # seconds
    audio: str
    audio_bytes: int = 0
    summary: str = ""
    chapters: tuple[SiteChapter, ...] = ()
    transcript: tuple[TranscriptSection, ...] = ()
    notes: str = ""
    essay_url: str = ""  # the essay's own web page
    episode: int | None = None
    season: int | None = None
    vtt: str = ""
    chapters_file: str = ""
    page: bool = True


def embed_snippet(show: SiteShow, episode: SiteEpisode) -> str:
    """The <iframe> a writer pastes into a post to play the episode there."""
    url = f"{show.base_url}/{embed_path(episode.slug)}"
    title = html.escape(f"{episode.title} ({show.title})")
    return (
        f'<iframe src="{html.escape(url)}" title="{title}" width="100%" '
        f'height="{EMBED_HEIGHT}" style="border:0;max-width:640px" loading="lazy"></iframe>'
    )
