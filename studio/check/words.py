"""Words as the check compares them: the spoken text and what a recognizer heard, normalized the
same way, aligned word by word, and scored.

Both sides become `Token`s by one function (`tokens`), so a number or a spelled acronym that was
said right is the same token on both sides: "A-P-I" (the script's spelling), "a p i" and "API"
(what recognizers write) are all `api`, and digits a recognizer writes ("2024") are read by
studio's own normalizer, as the script was. An `[[ipa]]` block (a lexicon's phonemes) has no
written form to compare: it becomes a wildcard that matches whatever was heard in its place.

Pure functions; the alignment is a plain Levenshtein table (a segment is one sentence: tens of
words, so the quadratic table costs nothing, and it keeps this module free of a dependency).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

IPA_BLOCK = re.compile(r"\[\[(.+?)\]\]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_WORD = re.compile(r"\u2063?[a-z0-9]+(?:'[a-z]+)*")
_SPELLED = "\u2063"  # marks a word that was spelled out, through the lower-casing
_LETTER_RUN = re.compile(r"\b(?:[A-Za-z]\.){2,}|\b[A-Za-z](?:-[A-Za-z])+\b")


@dataclass(frozen=True)
class Token:
    text: str  # lower-case letters, digits and inner apostrophes; "" for a wildcard
    ipa: str = ""  # the phonemes of an [[ipa]] block (a wildcard)
    letters: bool = False  # said letter by letter (an acronym spelled "A-P-I")

    @property
    def wildcard(self) -> bool:
        return not self.text


def tokens(text: str, *, digits_to_words: bool = False) -> list[Token]:
    """`text` as comparable words.

    `digits_to_words` runs studio's normalizer first, for text a recognizer wrote (the script's
    spoken text has no digits left).
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    out: list[Token] = []
    position = 0
    for match in IPA_BLOCK.finditer(text):
        out.extend(_plain_tokens(text[position : match.start()], digits_to_words))
        out.append(Token("", ipa=match.group(1)))
        position = match.end()
    out.extend(_plain_tokens(text[position:], digits_to_words))
    return out


def _plain_tokens(text: str, digits_to_words: bool) -> list[Token]:
    if digits_to_words and any(c.isdigit() for c in text):
        from studio.speech.normalize import normalize  # the one reading of digits studio has

        text = normalize(text, allow_ipa=False)
    # Letters spelled out ("A-P-I", "a.p.i.") are one word, as a recognizer that hears an
    # acronym writes it ("API"); runs of single letters a recognizer heard join the same way.
    text = _LETTER_RUN.sub(lambda m: _SPELLED + re.sub(r"[.\-]", "", m.group(0)), text)
    words = _WORD.findall(text.lower().replace("-", " "))
    joined: list[Token] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        # A run of single letters is a spelled word, unless it is only the words "a" and "i".
        if len(run) >= 2 and set(run) - {"a", "i"}:
            joined.append(Token("".join(run), letters=True))
        else:
            joined.extend(Token(letter) for letter in run)
        run = []
        if word.startswith(_SPELLED):
            joined.append(Token(word[1:], letters=True))
        elif word:
            joined.append(Token(word))
    return joined


Op = Literal["ok", "sub", "del", "ins"]


@dataclass(frozen=True)
class Pair:
    """One step of an alignment: an expected word and what was heard in its place."""

    op: Op  # ok: heard as said; sub: heard as another word; del: not heard; ins: heard, not said
    said: str  # "" for an insertion; an [[ipa]] block shows as its phonemes
    heard: str  # "" for a deletion
    confidence: float = 1.0  # the recognizer's confidence in the heard word


def align(
    said: Sequence[Token], heard: Sequence[str], confidence: Sequence[float] | None = None
) -> list[Pair]:
    """The cheapest word-by-word alignment of `heard` to `said` (Levenshtein; a wildcard in
    `said` takes one heard word, or none, for free)."""
    conf = list(confidence) if confidence is not None else [1.0] * len(heard)
    n, m = len(said), len(heard)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = cost[i - 1][0] + (0.0 if said[i - 1].wildcard else 1.0)
    for j in range(1, m + 1):
        cost[0][j] = float(j)
    for i in range(1, n + 1):
        token = said[i - 1]
        for j in range(1, m + 1):
            same = token.wildcard or token.text == heard[j - 1]
            cost[i][j] = min(
                cost[i - 1][j - 1] + (0.0 if same else 1.0),
                cost[i - 1][j] + (0.0 if token.wildcard else 1.0),
                cost[i][j - 1] + 1.0,
            )
    pairs: list[Pair] = []
    i, j = n, m
    while i or j:
        token = said[i - 1] if i else None
        shown = (token.text or f"[[{token.ipa}]]") if token else ""
        free = token is not None and token.wildcard
        same = bool(i and j) and token is not None and (free or token.text == heard[j - 1])
        # Ties go to a match first, then to a word missed or added, a substitution last: of
        # equally cheap alignments, the one that pairs up the most equal words.
        if same and cost[i][j] == cost[i - 1][j - 1]:
            pairs.append(Pair("ok", shown, heard[j - 1], conf[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + (0.0 if free else 1.0):
            pairs.append(Pair("ok" if free else "del", shown, ""))
            i -= 1
        elif j and cost[i][j] == cost[i][j - 1] + 1.0:
            pairs.append(Pair("ins", "", heard[j - 1], conf[j - 1]))
            j -= 1
        else:
            pairs.append(Pair("sub", shown, heard[j - 1], conf[j - 1]))
            i, j = i - 1, j - 1
    pairs.reverse()
    return pairs


def word_score(pairs: Sequence[Pair]) -> float:
    """From 0 to 1: the confidence-weighted share of words heard as said, over the words said
    plus the words heard that were never said. A word a constrained recognizer was forced into
    (low confidence) counts for little, so audio that only resembles speech scores low."""
    said = sum(1 for p in pairs if p.op != "ins")
    extra = sum(1 for p in pairs if p.op == "ins")
    if said + extra == 0:
        return 1.0
    heard_right = sum(p.confidence if p.heard else 1.0 for p in pairs if p.op == "ok")
    return round(heard_right / (said + extra), 4)


def missed_and_extra(pairs: Sequence[Pair]) -> tuple[int, int]:
    """Words said but not heard (deleted or heard as another word), and words heard unsaid."""
    missed = sum(1 for p in pairs if p.op in ("sub", "del"))
    return missed, sum(1 for p in pairs if p.op == "ins")
