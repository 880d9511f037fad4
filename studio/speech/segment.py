"""Sentence splitting and fitting spoken text to an engine's per-take limit."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import pysbd

# Where a long sentence may be split, best first: a pause the reader would make anyway.
CLAUSE_BREAKS = (re.compile(r"(?<=[;:])\s+"), re.compile(r"(?<=,)\s+"), re.compile(r"\s+"))


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph as written (pysbd knows "e.g.", "Dr.", "$1.5M" and friends)."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


def fit_to_limit(
    source: str,
    speak: Callable[[str], str],
    limit: int,
    fits: Callable[[str], bool] | None = None,
) -> list[tuple[str, str]]:
    """Split one sentence into (source, spoken) parts whose spoken form fits in `limit` characters
    and, when given, passes `fits` (an engine's own measure, such as XTTS's token count).

    The limit is counted after normalization, because expanded numbers inflate text. The split is
    made in the source, first at semicolons and colons, then commas, then spaces, never inside a
    word, so every part keeps the writer's own words for captions. Parts are packed greedily so
    there are as few takes as the limit allows. A single word longer than the limit stays whole:
    cutting it would mispronounce it, and engines only warn past their limits.
    """
    source = source.strip()
    spoken = speak(source)
    ok = within(limit, fits)
    if ok(spoken):
        return [(source, spoken)] if spoken else []
    for pattern in CLAUSE_BREAKS:
        pieces = [p for p in pattern.split(source) if p]
        if len(pieces) > 1:
            packed = _pack([(piece, speak(piece)) for piece in pieces], ok)
            if len(packed) == 1:  # fits once read piece by piece: keep that reading
                return packed
            return [part for src, _ in packed for part in fit_to_limit(src, speak, limit, fits)]
    return [(source, spoken)]


def within(limit: int, fits: Callable[[str], bool] | None = None) -> Callable[[str], bool]:
    """One test for "a take may carry this spoken text": the character limit, then `fits`."""
    if fits is None:
        return lambda spoken: len(spoken) <= limit
    return lambda spoken: len(spoken) <= limit and fits(spoken)


def _pack(pieces: list[tuple[str, str]], ok: Callable[[str], bool]) -> list[tuple[str, str]]:
    packed: list[tuple[str, str]] = []
    for source, spoken in pieces:
        if packed and ok(f"{packed[-1][1]} {spoken}"):
            packed[-1] = (f"{packed[-1][0]} {source}", f"{packed[-1][1]} {spoken}")
        else:
            packed.append((source, spoken))
    return packed


def merge_short(
    sentences: list[str], minimum: int, limit: int, fits: Callable[[str], bool] | None = None
) -> list[list[int]]:
    """Group indexes of consecutive sentences so no group is shorter than `minimum` characters.

    A lone "No." or "Why?" as its own take tends to come out clipped or oddly pitched; read with
    its neighbour it sounds natural. Groups never exceed `limit` (nor fail `fits`).
    """
    groups: list[list[int]] = []
    ok = within(limit, fits)

    def length(group: list[int]) -> int:
        return sum(len(sentences[i]) + 1 for i in group) - 1

    def joined(*indexes: int) -> str:
        return " ".join(sentences[i] for i in indexes)

    for index in range(len(sentences)):
        if groups and length(groups[-1]) < minimum and ok(joined(*groups[-1], index)):
            groups[-1].append(index)
        else:
            groups.append([index])
    # A short sentence closing the paragraph joins the one before it.
    if len(groups) > 1 and length(groups[-1]) < minimum and ok(joined(*groups[-2], *groups[-1])):
        groups[-2:] = [groups[-2] + groups[-1]]
    return groups
