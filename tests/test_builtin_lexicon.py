# ruff: noqa: RUF001, RUF003 - IPA is the point of these checks.
"""The shipped lexicon: every entry phonemized with the bundled voice's espeak-ng, checked against
what its kind says (spelled: letter names; expanded: its words; word: not spelled, and IPA only
where espeak-ng needs it and the voice can say it)."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from studio.engines.bundled import PiperVoiceFiles, phonemize
from studio.speech.lexicon import KINDS, Entry, Lexicon
from studio.speech.normalize import normalize

BUILTIN = Lexicon.builtin()
ENTRIES = sorted(BUILTIN, key=lambda e: e.word)
# Consonants whose espeak-ng spelling varies with stress and position, mapped to one form.
_CONSONANT_FORMS = {"ɾ": "t", "ʔ": "t", "ɫ": "l", "dʒ": "J", "tʃ": "C", "ɹ": "r", "ɚ": "r"}
_VOWELS = set("aeiouɑɐɒæəɘɚɛɜɝɞɪʊʌɔɤɯʉɨøœɶʏyɵᵻ")


@cache
def sounds(text: str) -> str:
    """What the bundled voice is given for `text`, less stress marks, pauses and word gaps."""
    phonemes = "".join(phonemize(text, "en-us"))
    # espeak-ng links "R-M" as ɑːɹɹɛm: one r, however it is joined.
    return re.sub(r"[ˈˌ\s.,;:!?'\"ʲ-]", "", phonemes).replace("ɹɹ", "ɹ")


def skeleton(phonemes: str) -> str:
    """The consonants in order: what a respelling and an IPA transcription must share."""
    for form, plain in _CONSONANT_FORMS.items():
        phonemes = phonemes.replace(form, plain)
    return "".join(c for c in phonemes if c not in _VOWELS and c not in "jwhː")


def spoken(entry: Entry) -> str:
    form = entry.spoken(allow_ipa=True)
    assert form is not None
    return form


def voiced(entry: Entry) -> str:
    """What the bundled voice is given where the essay writes the entry's word."""
    return normalize(entry.word, BUILTIN)


def letter_by_letter(word: str) -> str:
    """The sounds of `word` spelled: each letter's name, digits as a number."""
    return "".join(
        sounds(normalize(run)) if run.isdigit() else "".join(sounds(c) for c in run.upper())
        for run in re.findall(r"[A-Za-z]+|\d+", word)
    )


def spelled_out(token: str) -> bool:
    """True where espeak-ng reads a lowercase token letter by letter (it cannot pronounce it)."""
    if len(token) < 2 or not token.isalpha():
        return False
    return sounds(token).startswith(sounds(token[0].upper()) + sounds(token[1].upper()))


def test_the_lexicon_is_big_enough_and_every_entry_has_a_kind() -> None:
    assert len(BUILTIN) >= 400
    assert {e.kind for e in BUILTIN} == set(KINDS)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.kind == "spelled"], ids=str)
def test_spelled_entries_say_each_letter(entry: Entry) -> None:
    plural = len(entry.word) > 2 and entry.word.endswith("s") and entry.word[:-1].isupper()
    stem = entry.word[:-1] if plural else entry.word
    expected = letter_by_letter(stem)
    said = sounds(voiced(entry))
    if stem != entry.word:
        assert said.endswith("z"), f"{entry.word}: {said} has no plural"
        said = said[:-1]
    assert said == expected, f"{entry.word}: said {said}, letters are {expected}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.kind == "expanded"], ids=str)
def test_expanded_entries_are_read_as_their_words(entry: Entry) -> None:
    words = re.findall(r"[A-Za-z']+", spoken(entry))
    assert len(words) >= 1 and sounds(spoken(entry)) != letter_by_letter(entry.word)
    # Each word is read as itself (function words may weaken, so consonants are compared).
    assert skeleton(sounds(voiced(entry))) == "".join(skeleton(sounds(w)) for w in words)
    assert not [w for w in words if w.islower() and spelled_out(w)], entry.word


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.kind == "word"], ids=str)
def test_word_entries_are_said_as_words(entry: Entry) -> None:
    assert entry.say, f"{entry.word}: a word needs `say` for voices that take no IPA"
    said = sounds(voiced(entry))
    assert said != letter_by_letter(entry.word), f"{entry.word} is spelled, not said as a word"
    # Respellings are lowercase pieces: espeak-ng must pronounce each, not fall back to letters.
    pieces = [p for p in re.split(r"[\s-]+", entry.say) if p.islower()]
    assert not [p for p in pieces if spelled_out(p)], f"{entry.word}: {entry.say!r} is spelled"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.ipa], ids=str)
def test_ipa_is_only_where_espeak_gets_the_word_wrong(entry: Entry) -> None:
    assert entry.ipa is not None and entry.say is not None
    ipa = re.sub(r"\s", "", entry.ipa)
    # Needed: espeak-ng does not already read the word this way, stress included.
    own = "".join(phonemize(entry.word, "en-us")).replace(" ", "")
    assert own != ipa, f"{entry.word}: espeak-ng already says {ipa}"
    # Faithful: the respelling other voices read has the IPA's consonants, in order.
    assert skeleton(sounds(entry.say)) == skeleton(ipa.replace("ˈ", "").replace("ˌ", "")), (
        f"{entry.word}: {entry.say!r} sounds {sounds(entry.say)}, the IPA is {ipa}"
    )


def test_every_ipa_symbol_is_one_the_bundled_voice_knows() -> None:
    config = json.loads(PiperVoiceFiles.default().config.read_text(encoding="utf-8"))
    known = set(config["phoneme_id_map"])
    unknown = {
        e.word: sorted(set(e.ipa) - known - {" "}) for e in BUILTIN if e.ipa and set(e.ipa) - known
    }
    assert not unknown


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_every_entry_is_reached_in_a_sentence(entry: Entry) -> None:
    # No rule, and no longer entry, keeps an entry from being said where its word is written.
    said = normalize(f"We saw {entry.word} today.", BUILTIN, allow_ipa=False)
    assert said == f"We saw {entry.say} today.", entry.word
    if entry.ipa:
        assert f"[[{entry.ipa}]]" in normalize(f"We saw {entry.word} today.", BUILTIN)


def test_user_lexicons_win_over_the_builtin_one(tmp_path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('[words]\n"pytorch" = "py torch"\n', encoding="utf-8")
    merged = Lexicon.merge(BUILTIN, Lexicon.load(mine))
    assert normalize("We use PyTorch.", merged) == "We use py torch."
    assert normalize("We use PyTorch.", BUILTIN) == "We use pie torch."
