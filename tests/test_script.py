"""Essay to spoken script: structure read aloud, pauses, and that nothing is dropped."""

from __future__ import annotations

import re
from pathlib import Path

from studio.config import Pauses, SpeechOptions
from studio.ingest import load_essay, parse_markdown
from studio.speech.script import Voicing, build_script
from studio.speech.segment import split_sentences
from studio.types import Block, Chapter, Essay, EssayMeta, Script

REPO = Path(__file__).resolve().parent.parent
VOICING = Voicing(max_chars=300, accepts_ipa=True)


def essay(*chapters: Chapter, author: str = "Ada Brook") -> Essay:
    return Essay(EssayMeta(title="On Voices", slug="on-voices", author=author), chapters)


def test_opening_reads_title_then_author_then_the_text() -> None:
    script = build_script(
        essay(Chapter("", (Block("paragraph", "It begins here with a sentence."),))), VOICING
    )
    texts = [s.text for s in script.segments]
    assert texts == ["On Voices.", "By Ada Brook.", "It begins here with a sentence."]
    assert script.chapters[0].title == "On Voices"


def test_author_can_be_left_out() -> None:
    script = build_script(
        essay(Chapter("", (Block("paragraph", "It begins here with a sentence."),))),
        VOICING,
        speech=SpeechOptions(read_author=False),
    )
    assert [s.text for s in script.segments][:2] == [
        "On Voices.",
        "It begins here with a sentence.",
    ]


def test_headings_start_chapters_and_are_read() -> None:
    script = build_script(
        essay(
            Chapter("", (Block("paragraph", "An opening paragraph to set the scene."),)),
            Chapter("The Middle", (Block("paragraph", "Something happens in the middle."),)),
        ),
        VOICING,
    )
    assert [c.title for c in script.chapters] == ["On Voices", "The Middle"]
    assert script.chapters[1].segments[0].text == "The Middle."


def test_pauses_mark_sentences_paragraphs_and_chapters() -> None:
    pauses = Pauses(sentence=0.3, paragraph=0.9, chapter=2.0, heading=0.6, title=1.1)
    script = build_script(
        essay(
            Chapter(
                "",
                (
                    Block("paragraph", "The first sentence is here. The second one follows it."),
                    Block("paragraph", "A new paragraph begins right here."),
                ),
            ),
            Chapter("Next", (Block("paragraph", "And the next chapter has words too."),)),
        ),
        VOICING,
        pauses=pauses,
        speech=SpeechOptions(read_author=False),
    )
    assert [s.pause_after for s in script.segments] == [1.1, 0.3, 0.9, 2.0, 0.6, 2.0]


def test_quotes_lists_and_code_are_announced() -> None:
    script = build_script(
        essay(
            Chapter(
                "",
                (
                    Block("quote", "Less is more, said the architect."),
                    Block("list_item", "Parse the essay into chapters.", number=1),
                    Block("list_item", "Read it aloud with a good voice.", number=2),
                    Block("code", "", language="python"),
                ),
            )
        ),
        VOICING,
        speech=SpeechOptions(read_author=False, code_note="Code omitted here."),
    )
    texts = [s.text for s in script.segments][1:]
    assert texts == [
        "Quote.",
        "Less is more, said the architect.",
        "End quote.",
        "One: Parse the essay into chapters.",
        "Two: Read it aloud with a good voice.",
        "Code omitted here.",
    ]
    assert script.segments[4].source == "1. Parse the essay into chapters."


def test_long_sentences_fit_the_engine_limit() -> None:
    long = ("This sentence goes on, and on, and on, with clause after clause, " * 6).strip() + "."
    script = build_script(
        essay(Chapter("", (Block("paragraph", long),))), Voicing(max_chars=80, accepts_ipa=True)
    )
    assert all(len(s.text) <= 80 for s in script.segments)
    assert " ".join(s.source for s in script.segments[2:]) == long


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9$%]+", text)


def assert_covered(source: Essay, script: Script, symbols: str = "") -> None:
    """Every sentence of the essay is in some segment's source, and what is spoken carries no
    digits or symbols the voice would spell or skip."""
    spoken_sources = " ".join(s.source for s in script.segments)
    for chapter in source.chapters:
        for block in chapter.blocks:
            for sentence in split_sentences(block.text):
                assert sentence in spoken_sources, sentence
    assert all(s.text.strip() for s in script.segments)
    for segment in script.segments:
        assert not re.search(rf"[0-9$%/~<>+=@#&{symbols}]", segment.text), segment.text


def test_every_source_sentence_maps_to_a_segment() -> None:
    """Coverage: nothing in the essay is silently dropped on its way to the voice."""
    source = load_essay(REPO / "examples" / "essay.md")
    assert_covered(source, build_script(source, VOICING))


def test_markdown_with_jargon_reads_naturally() -> None:
    source = parse_markdown(
        "# Pricing\n\nThe 7B model costs $15/M tokens, vs. o1 at ~$1M.\n", slug_hint="pricing"
    )
    script = build_script(source, VOICING, speech=SpeechOptions(read_author=False))
    spoken = script.segments[-1].text
    assert "seven billion" in spoken
    assert "fifteen dollars per million" in spoken
    assert "versus" in spoken and "oh one" in spoken
    assert "about one million dollars" in spoken


def test_every_block_ends_as_a_sentence() -> None:
    script = build_script(
        essay(
            Chapter(
                "",
                (
                    Block("list_item", "turning headings into chapters,", number=1),
                    Block("list_item", "saying it right", number=2),
                    Block("paragraph", 'He said "stop."'),
                ),
            )
        ),
        VOICING,
        speech=SpeechOptions(read_author=False),
    )
    assert [s.text for s in script.segments][1:] == [
        "One: turning headings into chapters.",
        "Two: saying it right.",
        'He said "stop."',
    ]


def test_coverage_holds_for_transcripts_and_notation() -> None:
    """A sentence with nothing to say (a lone timestamp) still lands in a segment's source."""
    source = parse_markdown(
        "# Interview\n\nAda [00:02:01]: Welcome back to the show.\n\n[00:02:09]\n\n"
        "Bo [00:02:15]: Thanks. We trained on 8×H100 GPUs at 3e-4.\n\n"  # noqa: RUF001
        "Call 555-1234 or pay €5,50, ₹500 or 5‰; A ≥ B and ❹ ⓷.\n\n[00:09:59]\n",
        slug_hint="interview",
    )
    script = build_script(source, VOICING, speech=SpeechOptions(read_author=False))
    assert_covered(source, script, "€₹‰≥❹⓷")
    texts = [s.text for s in script.segments]
    assert "Ada: Welcome back to the show." in texts
    assert texts[-1] == (
        "Call five five five, one two three four or pay five euros and fifty cents, five hundred"
        " rupees or five per mille; A greater than or equal to B and four three."
    )
    assert script.segments[-1].source.endswith("[00:09:59]")
