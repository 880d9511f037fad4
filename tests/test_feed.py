"""The feed builder as a pure function: synthetic episodes in, RSS that podcast apps accept out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import io
import uuid

import feedparser
import podcastparser
import pytest
from lxml import etree

from studio.publish.feed import (
    ATOM,
    CONTENT,
    DESCRIPTION_MAX_BYTES,
    ITUNES,
    PODCAST,
    Channel,
    Item,
    build_feed,
    podcast_guid,
    show_notes_html,
)

NS = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}
NASTY = "Tom & Jerry <b>not bold</b> ]]> the end"
BASE = "https://example.com/pod"

CHANNEL = Channel(
    title="Small & Loud <Radio> ]]>",
    description="A show about small things & big <ideas>.",
    link="https://example.com",
    feed_url=f"{BASE}/feed.xml",
    image_url=f"{BASE}/cover.png",
    language="en-us",
    category="Society & Culture",
    subcategory="Philosophy",
    author="Ada Brook",
    owner_name="Ada Brook",
    owner_email="ada@example.com",
    copyright="© 2026 Ada Brook",
)


def item(number: int, **changes: object) -> Item:
    base = Item(
        guid=f"guid-{number}",
        title=f"Episode title {number}",
        summary=f"What episode {number} is about.",
        link=f"https://example.com/essays/{number}",
        published=dt.datetime(2026, 11, number, 12, tzinfo=dt.timezone.utc),
        audio_url=f"{BASE}/e{number}.mp3",
        audio_bytes=100_000 + number,
        duration=61.6 + number,
        chapters=((0.0, "Opening"), (62.5, "Cost & <speed>"), (3723.0, "Late")),
        chapters_url=f"{BASE}/e{number}.chapters.json",
        vtt_url=f"{BASE}/e{number}.vtt",
        srt_url=f"{BASE}/e{number}.srt",
    )
    return dataclasses.replace(base, **changes)


ITEMS = [item(1), item(3, explicit=True, episode=3, season=2, episode_type="bonus"), item(2)]


@pytest.fixture(scope="module")
def document() -> bytes:
    return build_feed(CHANNEL, ITEMS)


@pytest.fixture(scope="module")
def root(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text or ""


def test_rss_2_utf8_with_every_namespace(document: bytes, root: etree._Element) -> None:
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.nsmap == {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}
    assert b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"' in document


def test_channel_tags(root: etree._Element) -> None:
    channel = root.find("channel")
    assert text(channel, "title") == CHANNEL.title
    assert text(channel, "description") == CHANNEL.description
    assert text(channel, "link") == "https://example.com"
    assert text(channel, "language") == "en-us"
    assert text(channel, "copyright") == "© 2026 Ada Brook"
    self_link = channel.find("atom:link", NS)
    assert self_link.get("rel") == "self" and self_link.get("href") == f"{BASE}/feed.xml"
    assert self_link.get("type") == "application/rss+xml"
    assert channel.find("itunes:image", NS).get("href") == f"{BASE}/cover.png"
    category = channel.find("itunes:category", NS)
    assert category.get("text") == "Society & Culture" and not (category.text or "").strip()
    assert category.find("itunes:category", NS).get("text") == "Philosophy"
    assert text(channel, "itunes:explicit") == "false"
    assert text(channel, "itunes:author") == "Ada Brook"
    assert text(channel, "itunes:owner/itunes:name") == "Ada Brook"
    assert text(channel, "itunes:owner/itunes:email") == "ada@example.com"
    assert text(channel, "itunes:type") == "episodic"
    assert text(channel, "podcast:guid") == podcast_guid(f"{BASE}/feed.xml")
    assert text(channel, "podcast:locked") == "yes"
    # no build timestamp: the channel's dates are the newest episode's
    assert text(channel, "lastBuildDate") == "Tue, 03 Nov 2026 12:00:00 +0000"


def test_podcast_guid_is_uuid5_of_the_url_without_scheme() -> None:
    # the Podcasting 2.0 namespace's own example
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://podnews.net/rss/") == podcast_guid("https://podnews.net/rss")
    assert uuid.UUID(podcast_guid(f"{BASE}/feed.xml")).version == 5


def test_item_tags(root: etree._Element) -> None:
    items = root.findall("channel/item")
    assert [text(i, "guid") for i in items] == ["guid-3", "guid-2", "guid-1"]  # newest first
    third = items[0]
    assert text(third, "title") == "Episode title 3"
    assert text(third, "link") == "https://example.com/essays/3"
    enclosure = third.find("enclosure")
    assert enclosure.attrib == {
        "url": f"{BASE}/e3.mp3",
        "length": "100003",
        "type": "audio/mpeg",
    }
    assert third.find("guid").get("isPermaLink") == "false"
    published = email.utils.parsedate_to_datetime(text(third, "pubDate"))
    assert published == dt.datetime(2026, 11, 3, 12, tzinfo=dt.timezone.utc)
    assert text(third, "pubDate") == "Tue, 03 Nov 2026 12:00:00 +0000"
    assert text(third, "itunes:duration") == "65"  # 64.6 s, in whole seconds
    assert text(third, "itunes:explicit") == "true"
    assert text(third, "itunes:episodeType") == "bonus"
    assert text(third, "itunes:episode") == "3" and text(third, "itunes:season") == "2"
    chapters = third.find("podcast:chapters", NS)
    assert chapters.attrib == {
        "url": f"{BASE}/e3.chapters.json",
        "type": "application/json+chapters",
    }
    transcripts = {t.get("type"): t.get("url") for t in third.findall("podcast:transcript", NS)}
    assert transcripts == {"text/vtt": f"{BASE}/e3.vtt", "application/x-subrip": f"{BASE}/e3.srt"}

    second = items[1]
    assert text(second, "itunes:explicit") == "false"
    assert text(second, "itunes:episodeType") == "full"
    assert second.find("itunes:episode", NS) is None and second.find("itunes:season", NS) is None


def test_description_carries_chapter_timestamps_for_spotify(root: etree._Element) -> None:
    first = root.find("channel/item")
    notes = text(first, "description")
    assert notes == text(first, "content:encoded")
    assert notes.startswith("<p>What episode 3 is about.</p>")
    assert "00:00 Opening<br>01:02 Cost &amp; &lt;speed&gt;<br>1:02:03 Late" in notes


def test_descriptions_are_html_in_cdata(document: bytes) -> None:
    assert b"<description><![CDATA[<p>What episode 3" in document


def test_escaping_survives_every_parser() -> None:
    nasty = dataclasses.replace(item(1), title=NASTY, summary=NASTY)
    document = build_feed(dataclasses.replace(CHANNEL, title=NASTY, description=NASTY), [nasty])
    root = etree.fromstring(document)  # well-formed
    assert text(root, "channel/title") == NASTY
    assert text(root, "channel/item/title") == NASTY
    notes = text(root, "channel/item/description")
    assert "Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; ]]&gt; the end" in notes

    parsed = feedparser.parse(document)
    assert not parsed.bozo
    assert parsed.feed.title == NASTY
    assert parsed.entries[0].title == NASTY
    assert "Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; ]]&gt; the end" in parsed.entries[0].summary

    podcast = podcastparser.parse(f"{BASE}/feed.xml", io.BytesIO(document))
    assert podcast["title"] == NASTY
    episode = podcast["episodes"][0]
    assert episode["title"] == NASTY
    assert "]]&gt; the end" in episode["description_html"]


def test_long_summary_is_cut_to_fit_4000_bytes_keeping_the_chapters() -> None:
    summary = "Ünïcode words & more " * 400
    chapters = tuple((60.0 * i, f"Chapter {i}") for i in range(30))
    notes = show_notes_html(summary, chapters)
    assert len(notes.encode("utf-8")) <= DESCRIPTION_MAX_BYTES
    assert "…</p>" in notes and "29:00 Chapter 29</p>" in notes
    short = show_notes_html("Short & sweet.", ())
    assert short == "<p>Short &amp; sweet.</p>"


def test_same_input_same_bytes_whatever_the_order(document: bytes) -> None:
    assert build_feed(CHANNEL, list(reversed(ITEMS))) == document
    assert build_feed(CHANNEL, ITEMS) == document


def test_serial_show_and_explicit_channel() -> None:
    channel = dataclasses.replace(CHANNEL, type="serial", explicit=True, locked=False)
    episodes = [item(1, episode=1, season=1), item(2, episode=2, season=1)]
    root = etree.fromstring(build_feed(channel, episodes))
    assert text(root, "channel/itunes:type") == "serial"
    assert text(root, "channel/itunes:explicit") == "true"
    assert text(root, "channel/podcast:locked") == "no"
    for entry in root.findall("channel/item"):
        assert int(text(entry, "itunes:episode")) >= 1
        assert int(text(entry, "itunes:season")) >= 1


def test_empty_show_is_a_valid_feed() -> None:
    root = etree.fromstring(build_feed(CHANNEL, []))
    assert root.find("channel/item") is None and root.find("channel/lastBuildDate") is None


def test_feedparser_reads_the_feed(document: bytes) -> None:
    parsed = feedparser.parse(document)
    assert not parsed.bozo
    feed = parsed.feed
    assert feed.title == CHANNEL.title and feed.language == "en-us"
    assert feed.image.href == f"{BASE}/cover.png"
    assert feed.author_detail.name == "Ada Brook"
    assert feed.publisher_detail.email == "ada@example.com"
    assert feed.itunes_type == "episodic"
    assert [t.term for t in feed.tags] == ["Society & Culture", "Philosophy"]
    assert feed.podcast_guid == podcast_guid(f"{BASE}/feed.xml")
    entry = parsed.entries[0]
    assert entry.id == "guid-3" and not entry.guidislink
    (enclosure,) = entry.enclosures
    assert enclosure.href == f"{BASE}/e3.mp3" and enclosure.length == "100003"
    assert enclosure.type == "audio/mpeg"
    assert entry.itunes_duration == "65"
    assert entry.itunes_episodetype == "bonus"
    assert entry.itunes_episode == "3" and entry.itunes_season == "2"
    assert entry.published_parsed[:4] == (2026, 11, 3, 12)
    assert entry.podcast_chapters["type"] == "application/json+chapters"


def test_podcastparser_reads_the_feed(document: bytes) -> None:
    podcast = podcastparser.parse(f"{BASE}/feed.xml", io.BytesIO(document))
    assert podcast["title"] == CHANNEL.title
    assert podcast["cover_url"] == f"{BASE}/cover.png"
    assert podcast["itunes_owner"] == {"name": "Ada Brook", "email": "ada@example.com"}
    assert podcast["itunes_categories"] == [["Society & Culture", "Philosophy"]]
    assert podcast["explicit"] is False and podcast["type"] == "episodic"
    episode = podcast["episodes"][0]
    assert episode["guid"] == "guid-3"
    assert episode["total_time"] == 65
    assert episode["enclosures"] == [
        {"url": f"{BASE}/e3.mp3", "file_size": 100003, "mime_type": "audio/mpeg"}
    ]
    assert episode["explicit"] is True
    assert episode["type"] == "bonus" and episode["number"] == 3 and episode["season"] == 2
    assert episode["published"] == dt.datetime(2026, 11, 3, 12, tzinfo=dt.timezone.utc).timestamp()


def test_podcastparser_reads_the_podcast_namespace_under_its_old_url(document: bytes) -> None:
    """podcastparser 0.6 knows the namespace only by its first (GitHub) URL, which the spec
    declares identical to https://podcastindex.org/namespace/1.0; under it, it reads our tags."""
    old = b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    podcast = podcastparser.parse(
        f"{BASE}/feed.xml", io.BytesIO(document.replace(PODCAST.encode(), old))
    )
    assert podcast["import_prohibited"] is True
    episode = podcast["episodes"][0]
    assert episode["chapters_json_url"] == f"{BASE}/e3.chapters.json"
    assert episode["transcript_url"] in (f"{BASE}/e3.vtt", f"{BASE}/e3.srt")


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_feed(CHANNEL, [item(1, published=dt.datetime(2026, 11, 1))])
