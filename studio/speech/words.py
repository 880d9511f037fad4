"""Words the voice is likely to get wrong, found before any audio is made (`studio words`).

A token is a candidate when it has mixed case (PyTorch), letters and digits (Qwen2.5), is in
capitals (SOTA), or is a name: a capitalized word that does not start a sentence, is never
written in lower case elsewhere in the essay, and is spelled in a way English spelling rules do
not cover (Qwen, Tsinghua, Zhipu: espeak-ng reads "Smith" or "Falcon" by its rules and gets them
right). A candidate is flagged unless the lexicon knows it, or espeak-ng's own dictionary (the one
the bundled voice reads with) lists it. Amounts with a unit or magnitude (7B, 128k, 5ms, 1990s,
8x7B) are read by rules and never flagged; a hyphenated or dotted token (Mistral-7B, Deci.AI) is
flagged only where one of its parts is.

Each flagged word comes with what the voice would say now and a `lexicon.toml` line to start from.
"""

from __future__ import annotations

import json
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from studio.speech.lexicon import Lexicon
from studio.speech.normalize import PRONOUNCED_ACRONYMS, UNIT_NAMES, normalize
from studio.types import Essay

# A token: letters, digits and the joiners names use inside them (GPT-4o, Qwen2.5, llama.cpp).
_TOKEN = re.compile(r"(?<![\w@#/.+-])[A-Za-z0-9]+(?:[.'\u2019+-][A-Za-z0-9]+)*(?:\+\+)?")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")
# Digits with a unit, magnitude, ordinal or plural: rules read these the same way every time.
_AMOUNT = re.compile(
    r"[\d.,]+(?:[-\u2013x][\d.,]+)?(?:-[a-z]+|st|nd|rd|th|s|x|k|K|M|B|T|bn|mn|tn|am|pm|AM|PM|ms|ns|s|sec|min|h|hr|hrs|"
    r"[kMGTP]i?B|[kMG]?Hz|mb|gb|tb|kb|kbps|Mbps|Gbps|mm|cm|km|m|mg|kg|g|lb|lbs|ft|mph|dB|fps|"
    r"W|kW|MW|GW|kWh|px|D|G|p|e\d+)?"
)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;]\s+|[\"“(]\s*)$")
# Letter patterns English spelling does not have, where espeak-ng's rules guess (Qwen, Zhipu,
# Tsinghua, Wudao, Ihrig). A heuristic: names without them are read by rule, usually well.
_UNENGLISH = re.compile(
    r"q(?!u)|^x|zh|xh|cz|sz|ij|aa|ii|uu|yy|ao|uo|ue(?!s?$)|eu|ih|kh|dh|bh|jh|cj|vj|jk|ngh|"
    r"j[bcdfgklmnpqstvwxz]|[bcdfgjklmnpqstvwxz]{4}|[aeiou]{3}",
    re.IGNORECASE,
)
# Consonant pairs that start English words; a name starting with another pair (Tsinghua,
# Mbappe, Nguyen) is spelled by some other language's rules.
_ONSETS = frozenset({
    "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gn", "gr", "kl", "kn", "kr", "ph",
    "pl", "pr", "ps", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sv", "sw", "th", "tr", "tw",
    "wh", "wr",
})  # fmt: skip
_HEX = re.compile(r"(?=.*\d)[0-9A-Fa-f]{8,}")  # hashes and key fingerprints: not words to fix


@dataclass(frozen=True)
class FlaggedWord:
    word: str
    reason: str  # "mixed case", "letters and digits", "capitals" or "name"
    count: int
    said: str  # what the voice would say now
    line: str  # a lexicon.toml line to start from
    phonemes: str = ""  # what a phoneme-reading voice would say, where the caller asked

    def as_dict(self) -> dict[str, object]:
        return {
            "word": self.word,
            "reason": self.reason,
            "count": self.count,
            "said": self.said,
            "phonemes": self.phonemes,
            "lexicon_line": self.line,
        }


@dataclass(frozen=True)
class WordReport:
    words: int  # words in the readable text
    flagged: tuple[FlaggedWord, ...]

    @property
    def per_thousand_words(self) -> float:
        """Distinct flagged words per 1,000 words of text."""
        return 1000 * len(self.flagged) / self.words if self.words else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "words": self.words,
            "flagged_count": len(self.flagged),
            "flagged_per_1000_words": round(self.per_thousand_words, 2),
            "flagged": [f.as_dict() for f in self.flagged],
        }


def readable_texts(essay: Essay) -> Iterator[tuple[str, bool]]:
    """Every piece of text the voice reads, with whether it is a heading (title case)."""
    yield essay.meta.title, True
    for chapter in essay.chapters:
        if chapter.title:
            yield chapter.title, True
        for block in chapter.blocks:
            if block.kind != "code":
                yield block.text, False


def find_words(
    essay: Essay,
    lexicon: Lexicon,
    *,
    allow_ipa: bool = False,
    phonemize: Callable[[str], str] | None = None,
) -> WordReport:
    """The essay's words a voice is likely to misread, most frequent first.

    `phonemize` (spoken text to phonemes) adds what a phoneme-reading voice would say.
    """
    texts = list(readable_texts(essay))
    lowercase = {w.lower() for text, _ in texts for w in _WORD.findall(text) if w.islower()}
    known = espeak_dictionary()
    counts: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    total = 0
    for text, heading in texts:
        total += len(_WORD.findall(text))
        for match in _TOKEN.finditer(text):
            token = match.group(0).replace("\u2019", "'")
            before = match.string[: match.start()]
            reason = _reason_in_parts(
                token, before, heading, lowercase, lambda w: _known(w, lexicon, known)
            )
            if reason is None or _known(token, lexicon, known):
                continue
            counts[token] += 1
            reasons[token] = reason
    flagged = []
    for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].lower())):
        said = normalize(word, lexicon, allow_ipa=allow_ipa)
        phonemes = phonemize(normalize(word, lexicon)) if phonemize else ""
        line = lexicon_line(word, reasons[word])
        flagged.append(FlaggedWord(word, reasons[word], count, said, line, phonemes))
    return WordReport(total, tuple(flagged))


def _reason(token: str, before: str, heading: bool, lowercase: set[str]) -> str | None:
    stem = re.sub(r"(?:'s|s'|(?<=[A-Z])s)$", "", token)
    letters = re.sub(r"[^A-Za-z]", "", stem)
    if not letters or _HEX.fullmatch(stem):
        return None
    if any(c.isdigit() for c in stem):
        return None if _AMOUNT.fullmatch(stem) else "letters and digits"
    if len(letters) >= 2 and letters.isupper():
        return None if stem in UNIT_NAMES else "capitals"
    if any(c.isupper() for c in letters[1:]) and not letters.isupper():
        return "mixed case"
    capitalized = letters[0].isupper() and letters[1:].islower() and len(letters) > 1
    if (
        capitalized
        and not heading
        and not _SENTENCE_END.search(before)
        and token.lower() not in lowercase
        and (_UNENGLISH.search(letters) or _foreign_onset(letters))
    ):
        return "name"
    return None


def _foreign_onset(word: str) -> bool:
    onset = word[:2].lower()
    consonants = "bcdfgjklmnpqrstvwxz"
    return onset[0] in consonants and onset[1] in consonants and onset not in _ONSETS


def _reason_in_parts(
    token: str, before: str, heading: bool, lowercase: set[str], known: Callable[[str], bool]
) -> str | None:
    """Mistral-7B and Deci.AI are flagged only where a part of them is, and not known."""
    parts = re.split(r"[.-]", token)
    if len(parts) == 1:
        return _reason(token, before, heading, lowercase)
    reasons = [
        _reason(part, before if i == 0 else "x ", heading, lowercase)
        for i, part in enumerate(parts)
        if not known(part)
    ]
    return next((r for r in reasons if r), None)


def _known(token: str, lexicon: Lexicon, dictionary: frozenset[str]) -> bool:
    stem = re.sub(r"(?:'s|s'|(?<=[A-Z])s)$", "", token)
    for word in {token, stem}:
        if lexicon.lookup(word) or word.lower() in dictionary:
            return True
    if stem in PRONOUNCED_ACRONYMS:
        return True  # the rules say these as words (NASA, JSON, RAM)
    # A name with a version is known when its name is (Qwen2.5, Llama3).
    named = re.fullmatch(r"([A-Za-z]+)[\d.]+", stem)
    if named and lexicon.lookup(named[1]):
        return True
    # A hyphenated or dotted token is known when each part is, or needs nothing (GPT-NeoX: no).
    parts = [p for p in re.split(r"[.-]", stem) if p]
    return len(parts) > 1 and all(
        lexicon.lookup(p)
        or p.lower() in dictionary
        or _AMOUNT.fullmatch(p)
        or _reason(p, "x ", False, set()) is None
        for p in parts
    )


def lexicon_line(word: str, reason: str) -> str:
    """A starting entry: short capitals spelled, mixed case split into its parts, names as
    written in lower case; the writer corrects the spelling where it is wrong."""
    if reason == "capitals" and len(word) >= 5 and word.isalpha():
        # Five letters and more are said as a word by the rules (BLOOM); name the choice.
        return f'{json.dumps(word)} = {{ kind = "word", say = {json.dumps(word.lower())} }}'
    if reason == "capitals":
        return f'{json.dumps(word)} = {{ kind = "spelled" }}'
    if reason == "mixed case":
        parts = re.split(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", word)
        value = " ".join("-".join(p) if p.isupper() and len(p) > 1 else p.lower() for p in parts)
    elif reason == "letters and digits":
        value = normalize(word, allow_ipa=False)
    else:
        value = word.lower()
    return f"{json.dumps(word)} = {json.dumps(value)}"


@cache
def espeak_dictionary() -> frozenset[str]:
    """The words espeak-ng's English dictionary lists (en_dict, as the bundled voice ships it).

    Read directly because espeak-ng has no call that says whether it knows a word. The file is a
    hash table: after two int32s, 1024 chains of entries, each chain ending in a zero byte; an
    entry starts with its length and its word's length (bit 6 set: the word is packed in 6-bit
    letter codes, 'a' = 1).
    """
    try:
        from piper.phonemize_espeak import ESPEAK_DATA_DIR

        data = (Path(ESPEAK_DATA_DIR) / "en_dict").read_bytes()
        buckets, _ = struct.unpack_from("<ii", data, 0)
        words: set[str] = set()
        position = 8
        for _ in range(buckets):
            while data[position] != 0:
                length, flags = data[position], data[position + 1]
                raw = data[position + 2 : position + 2 + (flags & 0x3F)]
                words.add(_unpack(raw) if flags & 0x40 else raw.decode("utf-8", "replace"))
                position += length
            position += 1
        return frozenset(words)
    except (ImportError, OSError, struct.error, IndexError):
        return frozenset()  # without the dictionary every candidate is flagged


def _unpack(raw: bytes) -> str:
    bits = value = 0
    letters = []
    for byte in raw:
        value, bits = (value << 8) | byte, bits + 8
        while bits >= 6:
            bits -= 6
            code = (value >> bits) & 0x3F
            if code:
                letters.append(chr(code + 0x60))
    return "".join(letters)
