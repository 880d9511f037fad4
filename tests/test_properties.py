"""Whatever text comes in, ingest -> script and the feed writer keep their promises."""

from __future__ import annotations

import dataclasses
import datetime as dt

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from studio.publish.feed import Channel, Item, build_feed

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


CHANNEL = Channel(
    title="Show",
    description="About things.",
    link="https://example.com",
    feed_url="https://example.com/feed.xml",
    image_url="https://example.com/cover.png",
    language="en",
    category="Technology",
    author="Ada",
    owner_name="Ada",
    owner_email="ada@example.com",
)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)


@PROPERTY
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_any_text_gives_a_well_formed_feed(
    title: str, description: str, summary: str, chapter: str
) -> None:
    channel = dataclasses.replace(CHANNEL, title=title, description=description, author=title)
    item = Item(
        guid="g1",
        title=title,
        summary=summary,
        link="https://example.com/1",
        published=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
        audio_url="https://example.com/1.mp3",
        audio_bytes=1000,
        duration=60.0,
        chapters=((0.0, chapter), (30.0, title)),
    )
    document = build_feed(channel, [item])
    root = etree.fromstring(document)  # well-formed, or this raises
    assert root.find("channel/item/enclosure") is not None
    assert not feedparser.parse(document).bozo
