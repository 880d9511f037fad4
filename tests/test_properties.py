# ruff: noqa: RUF001 - look-alike characters are what these tests feed in.
"""Whatever text comes in, ingest -> script and the feed writer keep their promises."""

from __future__ import annotations

import dataclasses
import re

import feedparser
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from studio.errors import StudioError
from studio.ingest import parse_html, parse_markdown, parse_text
from studio.publish.feed import build_feed
from studio.speech.script import Voicing, build_script
from studio.speech.segment import split_sentences
from tests.test_feed import CHANNEL, item

VOICING = Voicing(max_chars=300, accepts_ipa=True)
# What essays are made of, weighted toward what trips normalization: digits, currency, math,
# typographic and control characters, and markup.
PIECES = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        *"0123456789" * 3,
        *" " * 12,
        *".,;:?!'\"-()[]{}/\\*_`~#@&%$€£¥₹+=<>^|",
        *"–—…‘’“”±×÷≈≠≥≤→←°‰§©µπΣ½¾²❹⓷①",
        "\x01", "\x0b", "\x1b", "\x7f", "\t", "\n", "\n\n", "\n\n## ", "\n- ", "\n1. ", "\n> ",
        "$15/M", "7B", "o1", "GPT-4o", "3.14", "1,234", "2025-04-30", "9:30 pm", "50%",
        "v0.2.1", "e.g.", "U.S.", "https://example.com/a?b=1", "ada@example.com",
    ]
)  # fmt: skip
TEXTS = st.lists(PIECES, min_size=1, max_size=80).map("".join)
# All a voice is given: words and punctuation, and [[IPA]] for voices that read phonemes.
SPOKEN = re.compile(r"(?:[A-Za-z\s.,;:?!'\"-]|\[\[[^\[\]]+\]\])*")

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_script(essay_text: str, parse) -> None:
    try:
        essay = parse(essay_text, slug_hint="fuzz")
    except StudioError:
        return  # refused with a one-line reason (nothing to read, a bad date...): allowed
    script = build_script(essay, VOICING)
    sources = " ".join(segment.source for segment in script.segments)
    for chapter in essay.chapters:
        for block in chapter.blocks:
            for sentence in split_sentences(block.text):
                if re.search(r"[^\W_]", sentence):  # a lone "(" or "_" has nothing to say
                    assert sentence in sources, sentence
    for segment in script.segments:
        assert segment.text.strip(), segment
        assert SPOKEN.fullmatch(segment.text), segment.text


@PROPERTY
@given(TEXTS)
@example("<a'>")  # a last paragraph with nothing to say: its source joins the title's segment
def test_any_markdown_becomes_a_speakable_script(text: str) -> None:
    _check_script("# Title\n\n" + text, parse_markdown)


@PROPERTY
@given(TEXTS)
def test_any_plain_text_becomes_a_speakable_script(text: str) -> None:
    _check_script(text, parse_text)


@PROPERTY
@given(TEXTS)
def test_any_html_becomes_a_speakable_script(text: str) -> None:
    _check_script(f"<article><h1>Title</h1><p>{text}</p></article>", parse_html)


ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)


@PROPERTY
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_any_text_gives_a_well_formed_feed(
    title: str, description: str, summary: str, chapter: str
) -> None:
    channel = dataclasses.replace(CHANNEL, title=title, description=description, author=title)
    episode = item(1, title=title, summary=summary, chapters=((0.0, chapter), (30.0, title)))
    document = build_feed(channel, [episode])
    root = etree.fromstring(document)  # well-formed, or this raises
    assert root.find("channel/item/enclosure") is not None
    assert not feedparser.parse(document).bozo
