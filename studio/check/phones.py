# ruff: noqa: RUF001 - IPA symbols look like ASCII letters; they are exactly what is meant.
"""Pronunciations for the recognizer's dictionary: CMUdict (shipped with pocketsphinx) where it
knows the word, else espeak-ng's phonemes (the same phonemizer the bundled voice speaks with)
mapped to CMUdict's ARPAbet phones.

Essays are full of words CMUdict lacks (names, products, a lexicon's respellings such as
"koo-ber-net-eez"), and an [[ipa]] block has phonemes but no spelling; without a pronunciation
such a word could never be heard, and every segment holding one would be flagged.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache
from pathlib import Path

# IPA as espeak-ng writes it (en-us), longest first, to the 39 ARPAbet phones of CMUdict.
_IPA_TO_ARPABET = {
    "aɪə": "AY ER", "aɪɚ": "AY ER", "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɛɹ": "EH R",
    "ɪɹ": "IH R", "ʊɹ": "UH R", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "eɪ": "EY", "oʊ": "OW",
    "əʊ": "OW", "tʃ": "CH", "dʒ": "JH", "iː": "IY", "uː": "UW", "ɑː": "AA", "ɔː": "AO",
    "ɜː": "ER", "ɪə": "IH R", "ɛə": "EH R", "ʊə": "UH R", "n̩": "AH N", "l̩": "AH L",
    "i": "IY", "ɪ": "IH", "ᵻ": "IH", "e": "EY", "ɛ": "EH", "æ": "AE", "a": "AA", "ɐ": "AH",
    "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH",
    "ɚ": "ER", "ɜ": "ER", "ɝ": "ER", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K",
    "g": "G", "ɡ": "G", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z",
    "ʃ": "SH", "ʒ": "ZH", "h": "HH", "x": "HH", "m": "M", "n": "N", "ŋ": "NG", "l": "L",
    "ɹ": "R", "r": "R", "ɾ": "D", "j": "Y", "w": "W", "ʔ": "",
}  # fmt: skip
_LONGEST = max(len(k) for k in _IPA_TO_ARPABET)
_IGNORED = set("ˈˌːˑ‿͡-. ")


def ipa_to_arpabet(ipa: str) -> str:
    """ARPAbet phones ("K UW B ER") for an IPA string; symbols with no English phone are dropped."""
    text = "".join(
        c for c in unicodedata.normalize("NFC", ipa) if c not in _IGNORED or c == "\u0329"
    )
    phones: list[str] = []
    position = 0
    while position < len(text):
        for size in range(min(_LONGEST, len(text) - position), 0, -1):
            piece = text[position : position + size]
            if piece in _IPA_TO_ARPABET:
                phones.extend(_IPA_TO_ARPABET[piece].split())
                position += size
                break
        else:
            position += 1  # a diacritic or a symbol English has no phone for
    return " ".join(phones)


def cmudict_path() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path("en-us/cmudict-en-us.dict"))


@cache
def cmudict() -> dict[str, list[str]]:
    """Every word CMUdict knows, with its pronunciations."""
    prons: dict[str, list[str]] = {}
    with cmudict_path().open(encoding="utf-8") as handle:
        for line in handle:
            word, _, phones = line.strip().partition(" ")
            base = word.split("(", 1)[0]
            prons.setdefault(base, []).append(phones.strip())
    return prons


_espeak_lock = threading.Lock()


@cache
def _phonemizer() -> object:
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def espeak_arpabet(text: str) -> str:
    """How espeak-ng (en-us) says `text`, in ARPAbet phones; "" when it cannot."""
    try:
        with _espeak_lock:
            sentences = _phonemizer().phonemize("en-us", text)  # type: ignore[attr-defined]
    except Exception:  # no espeak-ng data: the word stays unknown rather than failing the check
        return ""
    return ipa_to_arpabet("".join("".join(s) for s in sentences))


def pronunciations(word: str, *, letters: bool = False, ipa: str = "") -> list[str]:
    """ARPAbet pronunciations of a token: its [[ipa]] phonemes; letter by letter for a spelled
    acronym (`api`); else CMUdict's; else espeak-ng's reading of it."""
    if ipa:
        phones = ipa_to_arpabet(ipa)
        return [phones] if phones else []
    if letters:
        spelled = [cmudict().get(c, [""])[-1] for c in word]  # a letter's last entry is its name
        if all(spelled):
            return [" ".join(spelled)]
    known = cmudict().get(word)
    if known:
        return known
    phones = espeak_arpabet(word)
    return [phones] if phones else []
