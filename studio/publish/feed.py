"""A show and its episodes → one podcast RSS feed that Apple Podcasts and Spotify accept.

A pure function of its input: the same show and episodes give the same bytes, so an unchanged
rebuild rewrites nothing. There is no build timestamp; `lastBuildDate` is the newest episode's date.

Written with lxml (feedgen refuses `itunes:explicit` true/false and has no `podcast:` namespace).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

from lxml import etree

from studio import __version__
from studio.text import carriable

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
NAMESPACES = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}

# podcast:guid is a UUIDv5 of the feed URL (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
DESCRIPTION_MAX_BYTES = 4000  # Apple's limit for channel and item descriptions

ShowType = Literal["episodic", "serial"]
EpisodeType = Literal["full", "trailer", "bonus"]


@dataclass(frozen=True)
class Channel:
    """What the feed says about the show. URLs are absolute."""

    title: str
    description: str  # plain text, at most 4000 bytes
    link: str  # the show's web page
    feed_url: str  # where this feed.xml will be served (atom:link rel=self, podcast:guid)
    image_url: str  # square JPEG/PNG, 1400-3000 px
    language: str  # ISO 639, e.g. "en" or "en-us"
    category: str  # from Apple's list, e.g. "Society & Culture"
    author: str
    owner_name: str
    owner_email: str
    subcategory: str = ""  # e.g. "Philosophy"
    explicit: bool = False
    type: ShowType = "episodic"
    copyright: str = ""
    locked: bool = True  # podcast:locked: other platforms may not import the feed


@dataclass(frozen=True)
class Item:
    """One episode in the feed. `audio_bytes` is the exact size of the published MP3."""

    guid: str
    title: str
    summary: str  # plain text from the writer; chapter timestamps are appended to it
    link: str
    published: dt.datetime  # timezone-aware
    audio_url: str
    audio_bytes: int
    duration: float  # seconds
    chapters: tuple[tuple[float, str], ...] = ()  # (start seconds, title)
    chapters_url: str = ""  # Podcasting 2.0 JSON chapters
    vtt_url: str = ""
    srt_url: str = ""
    explicit: bool = False
    episode_type: EpisodeType = "full"
    episode: int | None = None
    season: int | None = None


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 `podcast:guid` of a feed: UUIDv5 of its URL without scheme or "/"."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def build_feed(
    channel: Channel, items: Iterable[Item], kept: Iterable[etree._Element] = ()
) -> bytes:
    """The RSS 2.0 document, UTF-8, newest episode first (ties broken by episode number, guid).

    `kept`: items of an earlier feed (from `feed_items`), carried over as they were published.
    """
    entries: list[Item | etree._Element] = [*items, *kept]
    ordered = sorted(entries, key=_order)
    ordered.reverse()
    rss = etree.Element("rss", nsmap=NAMESPACES, version="2.0")
    show = _sub(rss, "channel")
    _sub(show, "title", channel.title)
    _sub(show, "description", channel.description)
    _sub(show, "link", channel.link)
    _sub(show, "language", channel.language)
    _sub(show, f"{{{ATOM}}}link", href=channel.feed_url, rel="self", type="application/rss+xml")
    if channel.copyright:
        _sub(show, "copyright", channel.copyright)
    if ordered:
        newest = _rfc2822(_order(ordered[0])[0])
        _sub(show, "pubDate", newest)
        _sub(show, "lastBuildDate", newest)
    _sub(show, "generator", f"studio {__version__}")
    image = _sub(show, "image")
    _sub(image, "url", channel.image_url)
    _sub(image, "title", channel.title)
    _sub(image, "link", channel.link)
    _sub(show, f"{{{ITUNES}}}image", href=channel.image_url)
    category = _sub(show, f"{{{ITUNES}}}category", text=channel.category)
    if channel.subcategory:
        _sub(category, f"{{{ITUNES}}}category", text=channel.subcategory)
    _sub(show, f"{{{ITUNES}}}explicit", _bool(channel.explicit))
    _sub(show, f"{{{ITUNES}}}author", channel.author)
    owner = _sub(show, f"{{{ITUNES}}}owner")
    _sub(owner, f"{{{ITUNES}}}name", channel.owner_name)
    _sub(owner, f"{{{ITUNES}}}email", channel.owner_email)
    _sub(show, f"{{{ITUNES}}}type", channel.type)
    _sub(show, f"{{{PODCAST}}}guid", podcast_guid(channel.feed_url))
    _sub(show, f"{{{PODCAST}}}locked", "yes" if channel.locked else "no")
    for entry in ordered:
        if isinstance(entry, Item):
            _item(show, entry)
        else:
            show.append(copy.deepcopy(entry))
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def feed_items(document: bytes) -> dict[str, etree._Element]:
    """The items of a feed `build_feed` wrote, by guid. Raises ValueError if it is not one."""
    parser = etree.XMLParser(
        remove_blank_text=True, strip_cdata=False, resolve_entities=False, no_network=True
    )
    try:
        root = etree.fromstring(document, parser)
        items = {item.findtext("guid"): item for item in root.iterfind("channel/item")}
        for item in items.values():
            _order(item)
    except (etree.XMLSyntaxError, TypeError, ValueError) as error:
        raise ValueError(f"not a feed studio wrote: {error}") from None
    items.pop(None, None)
    return items  # type: ignore[return-value]


def _order(entry: Item | etree._Element) -> tuple[dt.datetime, int, int, str]:
    if isinstance(entry, Item):
        return (entry.published, entry.season or 0, entry.episode or 0, entry.guid)
    published = parsedate_to_datetime(entry.findtext("pubDate") or "")
    season = entry.findtext(f"{{{ITUNES}}}season") or 0
    episode = entry.findtext(f"{{{ITUNES}}}episode") or 0
    return (published, int(season), int(episode), entry.findtext("guid") or "")


def show_notes_html(summary: str, chapters: Iterable[tuple[float, str]]) -> str:
    """The episode's description as HTML: the summary, then one "MM:SS Title" line per chapter.

    Spotify shows chapters only from timestamps in the description. The writer's text is escaped
    here, so the HTML can never contain "]]>" and always fits in a CDATA section. The summary is
    shortened (at a word, with "…") so the whole stays within Apple's 4000 bytes.
    """
    lines = [
        f"{_timestamp(start)} {html.escape(carriable(title), quote=False)}"
        for start, title in chapters
    ]
    marks = f"<p>{'<br>'.join(lines)}</p>" if lines else ""
    room = DESCRIPTION_MAX_BYTES - len(marks.encode("utf-8")) - len("<p></p>")
    text = " ".join(carriable(summary).split())
    body = html.escape(text, quote=False)
    if len(body.encode("utf-8")) > room:
        body = _shorten(text, room)
    return (f"<p>{body}</p>" if body else "") + marks


def _item(channel: etree._Element, item: Item) -> None:
    entry = _sub(channel, "item")
    _sub(entry, "title", item.title)
    notes = show_notes_html(item.summary, item.chapters)
    _sub(entry, "description", etree.CDATA(notes))
    _sub(entry, f"{{{CONTENT}}}encoded", etree.CDATA(notes))
    _sub(entry, "link", item.link)
    _sub(entry, "enclosure", url=item.audio_url, length=str(item.audio_bytes), type="audio/mpeg")
    _sub(entry, "guid", item.guid, isPermaLink="false")
    _sub(entry, "pubDate", _rfc2822(item.published))
    _sub(entry, f"{{{ITUNES}}}duration", str(round(item.duration)))
    _sub(entry, f"{{{ITUNES}}}explicit", _bool(item.explicit))
    _sub(entry, f"{{{ITUNES}}}episodeType", item.episode_type)
    if item.season is not None:
        _sub(entry, f"{{{ITUNES}}}season", str(item.season))
    if item.episode is not None:
        _sub(entry, f"{{{ITUNES}}}episode", str(item.episode))
    if item.chapters_url:
        _sub(
            entry, f"{{{PODCAST}}}chapters", url=item.chapters_url, type="application/json+chapters"
        )
    if item.vtt_url:
        _sub(entry, f"{{{PODCAST}}}transcript", url=item.vtt_url, type="text/vtt", rel="captions")
    if item.srt_url:
        _sub(
            entry,
            f"{{{PODCAST}}}transcript",
            url=item.srt_url,
            type="application/x-subrip",
            rel="captions",
        )


def _sub(
    parent: etree._Element, tag: str, content: str | etree.CDATA | None = None, /, **attributes: str
) -> etree._Element:
    """A child element with text `content` and `attributes` (`text=` is an attribute here).

    Whatever reaches the feed is made carriable here, so that no setting can make lxml refuse it.
    """
    element = etree.SubElement(parent, tag, {k: carriable(v) for k, v in attributes.items()})
    if isinstance(content, str):
        element.text = carriable(content)
    elif content is not None:
        element.text = content
    return element


def _bool(value: bool) -> str:
    return "true" if value else "false"  # Apple: true/false, not yes/no/clean


def _rfc2822(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("feed dates need a time zone")
    return format_datetime(moment)


def _timestamp(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _shorten(text: str, room: int) -> str:
    """Escaped `text` cut at a word so that it and a closing "…" fit in `room` bytes."""
    # Escaping only lengthens text, so the first `room` bytes are surely enough to start from.
    words = text.encode("utf-8")[:room].decode("utf-8", errors="ignore").split(" ")
    while words:
        words.pop()
        body = html.escape(" ".join(words), quote=False) + "…"
        if len(body.encode("utf-8")) <= room:
            return body
    return ""
