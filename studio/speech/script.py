"""Essay to Script: what the voice says, segment by segment, with the pause after each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

from studio.config import Pauses, SpeechOptions
from studio.speech.lexicon import Lexicon
from studio.speech.normalize import normalize
from studio.speech.segment import fit_to_limit, merge_short, split_sentences
from studio.types import Block, Chapter, Essay, Script, ScriptChapter, Segment


@dataclass(frozen=True)
class Voicing:
    """What the script needs to know about the voice that will read it."""

    max_chars: int
    accepts_ipa: bool
    lexicon: Lexicon | None = None
    # The engine's own measure of what one take may carry, on top of `max_chars` (XTTS counts
    # text tokens with its tokenizer); called with spoken text, after normalization.
    fits: Callable[[str], bool] | None = None


def build_script(
    essay: Essay,
    voicing: Voicing,
    *,
    speech: SpeechOptions | None = None,
    pauses: Pauses | None = None,
    opening_enabled: bool = True,
) -> Script:
    """Turn an essay into spoken segments; every sentence of the essay lands in one of them.

    With `opening_enabled`, the episode starts by reading the title (and the author, if configured).
    """

    speech = speech or SpeechOptions()
    pauses = pauses or Pauses()

    def speak(text: str) -> str:
        return normalize(
            text,
            voicing.lexicon,
            allow_ipa=voicing.accepts_ipa,
            read_timestamps=speech.read_timestamps,
        )

    reader = _Reader(speak, voicing.max_chars, speech, pauses, voicing.fits)
    opening = reader.opening(essay) if opening_enabled else []
    chapters: list[ScriptChapter] = []
    for index, chapter in enumerate(essay.chapters):
        segments = reader.chapter(chapter)
        if index == 0:
            segments = opening + segments
        if segments:
            chapters.append(ScriptChapter(chapter.title or essay.meta.title, tuple(segments)))
    if not chapters and opening:
        chapters.append(ScriptChapter(essay.meta.title, tuple(opening)))
    if reader.unspoken and chapters:  # the essay ends on sentences with nothing to say
        *head, last = chapters[-1].segments
        ending = _with_source(last, after=reader.unspoken)
        chapters[-1] = ScriptChapter(chapters[-1].title, (*head, ending))
    return Script(essay.meta.title, _close_chapters(chapters, pauses))


def _close_chapters(chapters: list[ScriptChapter], pauses: Pauses) -> tuple[ScriptChapter, ...]:
    """The last segment of each chapter is followed by the chapter gap."""
    closed = []
    for chapter in chapters:
        *body, last = chapter.segments
        last = Segment(last.text, last.source, max(last.pause_after, pauses.chapter))
        closed.append(ScriptChapter(chapter.title, (*body, last)))
    return tuple(closed)


class _Reader:
    def __init__(
        self,
        speak: Callable[[str], str],
        limit: int,
        speech: SpeechOptions,
        pauses: Pauses,
        fits: Callable[[str], bool] | None = None,
    ) -> None:
        self.speak = speak
        self.limit = limit
        self.fits = fits
        self.speech = speech
        self.pauses = pauses
        # Sentences with nothing to say (a lone "[00:02:09]" stamp) still belong to a segment's
        # source, so captions and the manifest account for every sentence of the essay.
        self.unspoken: list[str] = []

    def opening(self, essay: Essay) -> list[Segment]:
        segments = self.sentences(_as_sentence(essay.meta.title), self.pauses.title)
        if self.speech.read_author and essay.meta.author:
            segments[-1:] = [
                _with_pause(segments[-1], self.pauses.sentence),
                *self.sentences(f"By {essay.meta.author}.", self.pauses.title),
            ]
        return segments

    def chapter(self, chapter: Chapter) -> list[Segment]:
        segments: list[Segment] = []
        if chapter.title:
            segments += self.sentences(_as_sentence(chapter.title), self.pauses.heading)
        blocks = chapter.blocks
        index = 0
        while index < len(blocks):
            block = blocks[index]
            if block.kind == "quote":
                end = index
                while end < len(blocks) and blocks[end].kind == "quote":
                    end += 1
                segments += self.quote(blocks[index:end])
                index = end
                continue
            segments += self.block(block)
            index += 1
        if self.unspoken and segments:
            segments[-1] = _with_source(segments[-1], after=self.unspoken)
            self.unspoken = []
        return segments

    def quote(self, blocks: tuple[Block, ...]) -> list[Segment]:
        segments = self.sentences(self.speech.quote_intro, self.pauses.sentence)
        for block in blocks:
            segments += self.block(block)
        segments[-1:] = [_with_pause(segments[-1], self.pauses.sentence)]
        return segments + self.sentences(self.speech.quote_outro, self.pauses.paragraph)

    def block(self, block: Block) -> list[Segment]:
        if block.kind == "code":
            return self.sentences(self.speech.code_note, self.pauses.paragraph)
        segments = self.sentences(block.text, self.pauses.paragraph)
        if block.kind == "list_item" and block.number is not None and segments:
            first = segments[0]
            label = num2words(block.number).capitalize()
            segments[0] = Segment(
                f"{label}: {first.text}", f"{block.number}. {first.source}", first.pause_after
            )
        return segments

    def sentences(self, text: str, pause_after_last: float) -> list[Segment]:
        """One paragraph's sentences as segments: short ones merged, long ones split."""
        parts: list[tuple[str, str]] = []
        for sentence in split_sentences(text):
            fitted = fit_to_limit(sentence, self.speak, self.limit, self.fits)
            if not fitted:
                self.unspoken.append(sentence)
            parts += fitted
        spoken = [text for _, text in parts]
        segments = []
        minimum = self.speech.min_sentence_chars
        for group in merge_short(spoken, minimum, self.limit, self.fits):
            source = " ".join(parts[i][0] for i in group)
            segments.append(
                Segment(" ".join(spoken[i] for i in group), source, self.pauses.sentence)
            )
        if segments:
            last = segments[-1]
            segments[-1] = Segment(_closed(last.text), last.source, pause_after_last)
            if self.unspoken:
                segments[0] = _with_source(segments[0], before=self.unspoken)
                self.unspoken = []
        return segments


def _closed(spoken: str) -> str:
    """End a block's last take as a sentence: without it the voice trails off mid-thought
    (list items and captions often end in a comma or nothing at all)."""
    stripped = spoken.rstrip(" ,;:-")
    if stripped[-1:] in (".", "?", "!") or stripped.endswith(('."', '?"', '!"')):
        return stripped
    return f"{stripped}."


def _with_source(
    segment: Segment, *, before: list[str] | None = None, after: list[str] | None = None
) -> Segment:
    source = " ".join([*(before or []), segment.source, *(after or [])])
    return Segment(segment.text, source, segment.pause_after)


def _with_pause(segment: Segment, pause: float) -> Segment:
    return Segment(segment.text, segment.source, pause)


def _as_sentence(heading: str) -> str:
    """Headings rarely end in punctuation; a full stop makes the voice close them as a sentence."""
    heading = heading.strip()
    return heading if heading[-1:] in ".?!" else f"{heading}."
