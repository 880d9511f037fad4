# ruff: noqa: RUF002 - the docstring shows IPA, whose letters look like punctuation.
"""A pronunciation lexicon: words the rules would get wrong, and what the voice should say instead.

A lexicon is a TOML file with one table, `[words]`. Each key is a word or token as the essay
writes it; each value is what to say, as plain text or as a table:

    [words]
    "o1" = "oh one"                              # plain text: said as written
    "Coqui" = "KOH-kee"
    "Nginx" = { say = "engine x" }               # the same, as a table
    "Kubernetes" = { ipa = "kuːbɚˈnɛtiːz" }      # raw espeak-ng IPA, for engines that take phonemes
    "SQL" = { say = "sequel", ipa = "sˈiːkwəl" } # both: IPA where the engine takes it, else `say`
    "Go" = { say = "go lang", case = "exact" }   # `case` is "exact" or "any"
    "GGUF" = { kind = "spelled" }                # letter by letter: G-G-U-F
    "SOTA" = { kind = "expanded", say = "state of the art" }

`kind` says how the entry is read: "spelled" (letter by letter, digits as a number; `say` may be
left out and is then derived from the key), "word" (said as a word) or "expanded" (read as the
words it stands for). It is optional; the shipped lexicon gives it for every entry, and a test
phonemizes each entry to check it is read as its kind says.

Matching:
- Whole words only: a key matches where it is neither preceded nor followed by a letter, digit or
  underscore, so "o1" does not match inside "o10" and "Coqui" not inside "Coquian"; but a key
  that ends in a letter matches before a digit, as names carry versions ("Qwen2.5"). Keys may hold
  punctuation ("C++", "Node.js", "$15/M").
- Case: an all-lowercase key matches any case ("nginx" matches "Nginx" and "NGINX"); a key with
  capitals matches only that exact spelling. `case = "exact"` or `case = "any"` overrides this.
  Where both an exact and an any-case entry match, the exact one wins.
- `say` is read as written and is never normalized again, so it must be words: digits are refused
  (write "four", not "4"), because the rules would otherwise have to guess how to read them.
- An IPA entry is spoken as `[[ipa]]`, which the bundled voice passes to espeak-ng as raw phonemes.
  Engines that cannot take phonemes (XTTS) get `say`; an entry with only `ipa` is then ignored and
  the word goes through the ordinary rules.

Lexicons stack: `Lexicon.merge(show, voice, cli_file)` lets later ones override earlier ones, word
by word (compared without case), so a voice can replace a show's "SQL" whatever case either used.
`Lexicon.builtin()` is studio's own lexicon for AI, ML and software writing (builtin-lexicon.toml,
shipped in the package); it goes first in the stack, so every user lexicon wins over it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from studio.errors import StudioError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

# Matched words are swapped for one private-use character each while the rules run, so no rule can
# touch them; `unmask` puts the spoken form back. Private-use characters are not word characters,
# so the rules treat a placeholder like punctuation between words.
_PLACEHOLDER_FIRST = 0xE000
_PLACEHOLDER_LAST = 0xF8FF
PLACEHOLDER_RE = re.compile("[\ue000-\uf8ff]")

_ENTRY_KEYS = frozenset({"say", "ipa", "case", "kind"})
KINDS = ("spelled", "word", "expanded")
BUILTIN_FILE = "builtin-lexicon.toml"
# Letters are joined as normalize's SPELL_JOINER joins them: espeak-ng reads a lone "A" as the
# article, "A-P-I" as three letters.
_LETTER_JOINER = "-"
_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


@dataclass(frozen=True)
class Entry:
    word: str
    say: str | None
    ipa: str | None
    exact_case: bool
    kind: str | None = None  # "spelled", "word" or "expanded", where the lexicon says

    def spoken(self, *, allow_ipa: bool = True) -> str | None:
        """What replaces the word, or None where this engine must fall back to the rules."""
        if allow_ipa and self.ipa:
            return f"[[{self.ipa}]]"
        return self.say


class Lexicon:
    """Entries keyed by word; exact-case and any-case entries are kept apart."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._exact: dict[str, Entry] = {}
        self._any: dict[str, Entry] = {}
        for entry in entries:
            if entry.exact_case:
                self._exact[entry.word] = entry
            else:
                self._any[entry.word.lower()] = entry

    @classmethod
    def empty(cls) -> Lexicon:
        return cls()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Lexicon:
        """Read a lexicon file; any problem is a StudioError naming the file."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise StudioError(f"{path}: lexicon file not found") from None
        except OSError as e:
            raise StudioError(f"{path}: cannot read lexicon file ({e.strerror})") from None
        except tomllib.TOMLDecodeError as e:
            raise StudioError(f"{path}: not valid TOML ({_one_line(str(e))})") from None
        return cls(_parse(data, path))

    @classmethod
    def builtin(cls) -> Lexicon:
        """studio's shipped lexicon for AI, ML and software writing (read once per process)."""
        return _builtin()

    @classmethod
    def merge(cls, *lexicons: Lexicon) -> Lexicon:
        """One lexicon from several; for a word in more than one, the last lexicon's entries win."""
        merged: list[Entry] = []
        for lexicon in lexicons:
            replaced = {entry.word.lower() for entry in lexicon}
            merged = [entry for entry in merged if entry.word.lower() not in replaced]
            merged.extend(lexicon)
        return cls(merged)

    def __iter__(self) -> Iterator[Entry]:
        yield from self._exact.values()
        yield from self._any.values()

    def __len__(self) -> int:
        return len(self._exact) + len(self._any)

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} entries)"

    def lookup(self, word: str) -> Entry | None:
        """The entry for `word` as written in the text, if any."""
        return self._exact.get(word) or self._any.get(word.lower())

    def mask(self, text: str, *, allow_ipa: bool = True) -> tuple[str, tuple[str, ...]]:
        """Swap each matched word for a placeholder; return the text and the spoken forms.

        Rules run on the masked text; `unmask` then restores the spoken forms untouched.
        """
        if not len(self):
            return text, ()
        spoken: list[str] = []

        def swap(match: re.Match[str]) -> str:
            entry = self.lookup(match.group(0))
            form = entry.spoken(allow_ipa=allow_ipa) if entry else None
            if form is None or _PLACEHOLDER_FIRST + len(spoken) > _PLACEHOLDER_LAST:
                return match.group(0)
            spoken.append(form)
            return chr(_PLACEHOLDER_FIRST + len(spoken) - 1)

        return self._pattern.sub(swap, text), tuple(spoken)

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        # Longest keys first, so "GPT-4o" wins over "GPT-4" where both match at one place.
        entries = sorted(self, key=lambda e: len(e.word), reverse=True)
        options = "|".join(
            re.escape(e.word) if e.exact_case else f"(?i:{re.escape(e.word)})" for e in entries
        )
        # A key ending in a letter also matches before digits ("Qwen" in "Qwen2.5"); one ending in
        # a digit does not ("o1" is not in "o10").
        return re.compile(rf"(?<!\w)(?:{options})(?![^\W\d]|(?<=\d)\d)")


def unmask(text: str, spoken: tuple[str, ...]) -> str:
    """Put spoken forms back where `Lexicon.mask` left placeholders."""

    def restore(match: re.Match[str]) -> str:
        index = ord(match.group(0)) - _PLACEHOLDER_FIRST
        return spoken[index] if index < len(spoken) else ""

    return PLACEHOLDER_RE.sub(restore, text)


@cache
def _builtin() -> Lexicon:
    source = resources.files("studio.speech").joinpath(BUILTIN_FILE)
    with resources.as_file(source) as path:
        return Lexicon.load(path)


def spell(word: str) -> str:
    """How a spelled entry is said: GGUF -> G-G-U-F, fp16 -> F-P sixteen, GPUs -> G-P-U's."""
    plural = len(word) > 2 and word.endswith("s") and word[:-1].isupper()
    parts: list[str] = []
    for run in re.findall(r"[A-Za-z]+|\d+", word[:-1] if plural else word):
        parts.append(_number_words(int(run)) if run.isdigit() else _LETTER_JOINER.join(run.upper()))
    return " ".join(parts) + ("'s" if plural else "")


def _number_words(n: int) -> str:
    """Small numbers in words; hand-written because the lexicon must not import the rules."""
    if n < 20:
        return _NUMBER_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_NUMBER_WORDS[ones]}" if ones else "")
    raise ValueError(f"{n}: spell numbers above 99 with `say`")


def _parse(data: dict[str, object], path: Path) -> list[Entry]:
    words = data.get("words")
    if not isinstance(words, dict):
        raise StudioError(f'{path}: no [words] table; put entries under it, like "o1" = "oh one"')
    unknown = sorted(set(data) - {"words"})
    if unknown:
        raise StudioError(f"{path}: unknown table or key {unknown[0]!r}; only [words] is allowed")
    return [_entry(word, value, path) for word, value in words.items()]


def _entry(word: str, value: object, path: Path) -> Entry:
    where = f"{path}: [words] {word!r}"
    if not word.strip() or word != word.strip():
        raise StudioError(f"{where}: a key must be a word without surrounding spaces")
    if isinstance(value, str):
        value = {"say": value}
    if not isinstance(value, dict):
        raise StudioError(f'{where}: give a string or a table like {{ say = "..." }}')
    unknown = sorted(set(value) - _ENTRY_KEYS)
    if unknown:
        raise StudioError(f"{where}: unknown key {unknown[0]!r}; use say, ipa or case")
    for key in ("say", "ipa", "case", "kind"):
        if key in value and not isinstance(value[key], str):
            raise StudioError(f"{where}: {key} must be a string")
    kind: str | None = value.get("kind")
    if kind is not None and kind not in KINDS:
        raise StudioError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    say: str | None = value.get("say") or None
    ipa: str | None = value.get("ipa") or None
    if kind == "spelled" and say is None and ipa is None:
        try:
            say = spell(word)
        except ValueError as error:
            raise StudioError(f"{where}: {error}") from None
    if say is None and ipa is None:
        raise StudioError(f"{where}: needs say or ipa")
    if say is not None and re.search(r"\d", say):
        raise StudioError(f"{where}: say must be written in words, not digits ({say!r})")
    if ipa is not None and ("[" in ipa or "]" in ipa):
        raise StudioError(f"{where}: ipa must not contain square brackets")
    case = value.get("case")
    if case is None:
        exact_case = word != word.lower()
    elif case in ("exact", "any"):
        exact_case = case == "exact"
    else:
        raise StudioError(f'{where}: case must be "exact" or "any", not {case!r}')
    say = _one_line(say) if say else None
    return Entry(word=word, say=say, ipa=ipa, exact_case=exact_case, kind=kind)


def _one_line(text: str) -> str:
    return " ".join(text.split())
