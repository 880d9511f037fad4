"""The small typed objects that flow between pipeline stages.

Each stage takes one of these and returns the next; none reaches into another stage's helpers.

    essay file --ingest--> Essay --speech--> Script --synthesize--> Take* --timeline--> Timeline
                                                          (mastered and encoded as it streams)

The whole pipeline, and what each module owns: docs/architecture.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

BlockKind = Literal["paragraph", "quote", "list_item", "code"]


@dataclass(frozen=True)
class EssayMeta:
    title: str
    slug: str
    date: dt.date | None = None
    description: str = ""
    author: str = ""
    image: str = ""
    # All of the front matter, keys lower-cased, for the fields other stages own (a show's
    # `episode:`, `draft:` ...). Not part of equality: the fields above are what the essay says.
    # A plain dict, so an Essay pickles (to a worker process); read it, never change it.
    front_matter: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Block:
    """One readable unit of the essay, markup already stripped.

    `text` keeps the writer's words and punctuation (links reduced to their text, URLs, images and
    footnote markers gone). `number` is set on items of ordered lists. A code block keeps its
    `language` (maybe empty) and no text: it is announced, not read.
    """

    kind: BlockKind
    text: str
    number: int | None = None
    language: str = ""


@dataclass(frozen=True)
class Chapter:
    title: str  # "" for the opening chapter before the first heading
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Essay:
    meta: EssayMeta
    chapters: tuple[Chapter, ...]
    # The essay as written, for show notes: a sanitized HTML fragment with its links, emphasis,
    # lists and headings kept (the title, front matter, images, scripts and page chrome left
    # out). Not part of equality (nor of repr): what is read aloud is `chapters`.
    notes: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Segment:
    """One synthesis unit: what the voice says, what the essay wrote, and the silence after it."""

    text: str  # spoken form, after normalization and the lexicon
    source: str  # the original words this segment covers
    pause_after: float  # seconds of silence placed after the trimmed take


@dataclass(frozen=True)
class ScriptChapter:
    title: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Script:
    title: str
    chapters: tuple[ScriptChapter, ...]

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(s for c in self.chapters for s in c.segments)


@dataclass(frozen=True, eq=False)
class Take:
    """Synthesized audio for one segment: mono float32 in [-1, 1]."""

    audio: np.ndarray
    sample_rate: int
    cached: bool = False


@dataclass(frozen=True)
class Placement:
    """Where a segment's speech sits on the episode timeline, in seconds."""

    start: float
    end: float
    text: str
    source: str


@dataclass(frozen=True)
class ChapterMark:
    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class Timeline:
    """Where everything sits in an episode, without its audio: what chapters and captions need
    of an episode that was mastered and encoded as it streamed past."""

    sample_rate: int
    length: int  # samples
    placements: tuple[Placement, ...]
    chapters: tuple[ChapterMark, ...]
    loudness: Loudness | None = None

    @property
    def duration(self) -> float:
        return self.length / self.sample_rate


@dataclass(frozen=True, eq=False)
class Episode:
    """One mono PCM timeline with the places of its segments and chapters."""

    audio: np.ndarray
    sample_rate: int
    placements: tuple[Placement, ...]
    chapters: tuple[ChapterMark, ...]
    loudness: Loudness | None = field(default=None)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate
