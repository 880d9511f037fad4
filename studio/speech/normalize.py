# ruff: noqa: RUF001, RUF002, RUF003 - this module exists to handle look-alike characters.
"""Written English to what a TTS voice should say: numbers, money, dates, model names and symbols.

`normalize(sentence)` takes one sentence (or clause) of essay text, markup already stripped, and
returns words with ordinary punctuation (. , ; : ? ! ' ") only: no digits, no symbols. Every word
the writer wrote gets a spoken form; only markup residue (*, _, `, ~, stray brackets) is dropped.

One reading for each kind of thing, so a listener hears the same form every time:

    1,234           one thousand two hundred and thirty-four   (num2words, its commas dropped)
    -5 / 3.14       minus five / three point one four          (digits after the point one by one)
    1999 / 2005     nineteen ninety-nine / two thousand and five; 2020s: twenty twenties
    $1.50           one dollar and fifty cents;  $15/M: fifteen dollars per million
    30+ / ~5        more than thirty / about five
    7B / 128K       seven billion / one hundred and twenty-eight thousand
    GPT-4o / o1     G-P-T four oh / oh one
    9:05 am / 14:00 nine oh five A-M / fourteen hundred
    — – -- ... ( )  a comma pause

Acronyms are spelled with hyphens ("G-P-T", "A-I") rather than spaces: espeak-ng reads a lone
"A" as the article ("uh P I"), but "A-P-I" as three letters. `SPELL_JOINER` is the one place to
change that. A small table keeps pronounceable acronyms (NASA, JSON) as words; a lexicon entry
overrides either way.

Years: a plain four-digit number from 1100 to 2099 is read as a year, unless it is followed by a
plural noun ("2048 tokens") and not preceded by a year word ("in", "since", a month...).

The rules are an ordered table of (pattern, replacement); the order is the design, and each entry
says why it sits where it does. A lexicon runs before all of them (see `studio.speech.lexicon`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from num2words import num2words

from studio.speech.lexicon import PLACEHOLDER_RE, Lexicon, unmask

Replacement = Callable[[re.Match[str]], str] | str
Rule = tuple[re.Pattern[str], Replacement]

SPELL_JOINER = "-"

_EMPTY = Lexicon.empty()


def normalize(
    text: str,
    lexicon: Lexicon | None = None,
    *,
    allow_ipa: bool = True,
    read_timestamps: bool = False,
) -> str:
    """The spoken form of one sentence; lexicon entries win over every rule.

    With `allow_ipa=False` (engines without phoneme input) IPA-only entries are ignored.
    Bracketed transcript timestamps ("Ada [00:02:01]: ...") are dropped unless `read_timestamps`.
    """
    text = _clean_characters(text)
    text, spoken = (lexicon or _EMPTY).mask(text, allow_ipa=allow_ipa)
    text = TIMESTAMP.sub(_read_timestamp if read_timestamps else "", text)
    for pattern, replace in RULES:
        text = pattern.sub(replace, text)
    text = unmask(_tidy(text), spoken)
    return SPELLED_WITH_INNER_A.sub(_letters_as_ipa, text) if allow_ipa else text


# espeak-ng reads an "A" inside a hyphen-spelled run as the article: "G-A-N" is "G uh N". Voices
# that take phonemes get such runs as the letters' own names, as espeak-ng says each alone.
LETTER_IPA = {
    "A": "eɪ", "B": "biː", "C": "siː", "D": "diː", "E": "iː", "F": "ɛf", "G": "dʒiː", "H": "eɪtʃ",
    "I": "aɪ", "J": "dʒeɪ", "K": "keɪ", "L": "ɛl", "M": "ɛm", "N": "ɛn", "O": "oʊ", "P": "piː",
    "Q": "kjuː", "R": "ɑːɹ", "S": "ɛs", "T": "tiː", "U": "juː", "V": "viː", "W": "dʌbəljuː",
    "X": "ɛks", "Y": "waɪ", "Z": "ziː",
}  # fmt: skip
SPELLED_WITH_INNER_A = re.compile(r"(?<![\w-])[A-Z](?:-[A-Z])*-A(?:-[A-Z])+(?P<s>'s)?(?![\w-])")


def _letters_as_ipa(m: re.Match[str]) -> str:
    letters = [LETTER_IPA[c] for c in m.group(0).removesuffix("'s") if c.isalpha()]
    stressed = "ˌ".join(["", *letters[:-1]]) + "ˈ" + letters[-1]
    return f"[[{stressed}{'z' if m['s'] else ''}]]"


# --- Words for numbers ---------------------------------------------------------------------------

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def cardinal(n: int) -> str:
    """1234 -> "one thousand two hundred and thirty-four" (num2words without its commas)."""
    return num2words(n, lang="en").replace(",", "")


def ordinal(n: int) -> str:
    return num2words(n, lang="en", to="ordinal").replace(",", "")


def year(n: int) -> str:
    """1999 -> nineteen ninety-nine, 2005 -> two thousand and five, 1905 -> nineteen oh five."""
    return num2words(n, lang="en", to="year").replace("oh-", "oh ")


def digits(text: str) -> str:
    """Each digit on its own: "007" -> "zero zero seven"."""
    return " ".join(_DIGITS[int(d)] for d in text if d.isdigit())


def number(text: str) -> str:
    """A written amount ("1,234", "3.14", ".5", "007") in words.

    Hand-written rather than num2words(float): that goes through a float, so "1.50" would lose
    its zero and long fractions their exact digits; a speaker reads the digits after the point.
    """
    whole, _, fraction = text.replace(",", "").partition(".")
    if not whole:
        words = "point"
    elif (len(whole) > 1 and whole.startswith("0")) or len(whole) > 15:
        words = digits(whole)  # a code or an identifier, not a quantity
    else:
        words = cardinal(int(whole))
    if fraction:
        words += (" point " if whole else " ") + digits(fraction)
    return words


def plural(words: str) -> str:
    """A number in words made plural: nineteen ninety -> nineteen nineties, six -> sixes."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words + ("es" if words.endswith("x") else "s")


def _is_year(text: str) -> bool:
    return len(text) == 4 and text.isdigit() and 1100 <= int(text) <= 2099


def _amount_range(a: str, b: str | None, tail: str = "") -> str:
    """ "10", "20", "million" -> "ten to twenty million"."""
    said = f"{number(a)} to {number(b)}" if b else number(a)
    return f"{said} {tail}" if tail else said


def _ends_sentence(match: re.Match[str]) -> bool:
    """True when only closing quotes or brackets follow: the match's full stop ends the sentence."""
    return not match.string[match.end() :].strip(" \"')]")


# A written amount: 1,234 or 1234 or 3.14 or .5 (never part of a longer run of digits).
AMT = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?!\d)"
# No amount starts inside a word or a decimal ("H100", "3.14"): those are split or read elsewhere.
START = r"(?<![\w.])"
RANGE = rf"{START}(?P<a>{AMT})(?:\s?[-–]\s?(?P<b>{AMT}))?"

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_ABBREVIATIONS = {m[:3]: m for m in MONTHS} | {"Sept": "September"}
_MONTH_NAME = "|".join([*MONTHS, *sorted(_MONTH_ABBREVIATIONS, key=len, reverse=True)])

# --- Characters (run before the lexicon, so a key matches curly-quoted text) --------------------

_CHARACTERS = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "‹": "'", "›": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "…": "...", "−": "-", "‐": "-", "‑": "-", "‒": "–", "―": "—",
        "½": " 1/2", "¼": " 1/4", "¾": " 3/4", "⅓": " 1/3", "⅔": " 2/3", "⅛": " 1/8",
        "²": " squared", "³": " cubed",
        "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ",
        "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u00ad": "",
    }
)  # fmt: skip


_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"
_SUPERSCRIPT_RUN = re.compile(rf"(?<=[\w)])[{_SUPERSCRIPTS}]+")
# Trade marks are typography, not words: NFKC would turn "™" into "TM", which is then spelled.
_DECORATIONS = str.maketrans({"™": "", "®": "", "℠": ""})


def _superscript(m: re.Match[str]) -> str:
    """10⁻⁴ -> 10^-4; a lone ² or ³ stays for the table ("m²" is "m squared")."""
    run = m.group(0)
    if run in ("²", "³"):
        return run
    plain = unicodedata.normalize("NFKC", run).replace("⁻", "-").replace("⁺", "+")
    return "^" + plain


def _enclosed_number(m: re.Match[str]) -> str:
    """❹, ⓷, ⓫: circled digits that NFKC leaves alone are still numbers."""
    value = unicodedata.numeric(m.group(0), None)
    if value is None or value != int(value):
        return m.group(0)
    return f" {int(value)} "


def _clean_characters(text: str) -> str:
    """Typographic characters to plain ones; markup residue out. Nothing here changes a word."""
    text = PLACEHOLDER_RE.sub("", text)  # private-use characters are the lexicon's placeholders
    text = _SUPERSCRIPT_RUN.sub(_superscript, text.translate(_DECORATIONS))
    # NFKC after our table: it would turn "½" into "1⁄2" and "²" into "2", losing the meaning.
    text = unicodedata.normalize("NFKC", text.translate(_CHARACTERS))
    # Left after NFKC: dingbat and double-circled digits (❹ ⓷), which have no decomposition.
    text = re.sub(r"[\u2460-\u24ff\u2776-\u2793\u3251-\u32bf]", _enclosed_number, text)
    text = text.replace("⁄", "/")
    text = re.sub(r"</?[A-Za-z][^<>]*>|\[\^?\d+\]|\*\*|__|`", "", text)  # tags, [^1], **, __, `
    text = re.sub(rf"(?<=\d)\s?–\s?(?={CURRENCY}?\d)", "-", text)  # 10–20: an en dash range
    text = re.sub(r"(?<=[A-Za-z])–(?=[A-Za-z])", "-", text)  # Michelson–Morley: a hyphen
    return re.sub(r"\.\s\.\s\.", "...", text)


# --- Rule functions, in rule order ---------------------------------------------------------------

_TLD_SAID = {"ai": "A-I", "io": "I-O", "tv": "T-V", "uk": "U-K", "us": "U-S", "fm": "F-M"}
_TLDS = "com|org|net|io|ai|dev|edu|gov|app|co|uk|us|tv|fm|me|xyz|info"
_LABEL_SYMBOLS = {".": "dot", "-": "dash", "_": "underscore", "+": "plus"}


def _spell_label(label: str) -> str:
    """One part of an address: digits one by one, separators by name."""
    label = re.sub(r"\d", lambda m: f" {_DIGITS[int(m.group())]} ", label)
    return re.sub(r"[._+-]", lambda m: f" {_LABEL_SYMBOLS[m.group()]} ", label)


def _say_domain(host: str) -> str:
    """ "www.example.co.uk" -> "example dot co dot U-K"."""
    labels = re.sub(r"^www\.", "", host, flags=re.I).split(".")
    *names, tld = labels
    return " dot ".join([_spell_label(n) for n in names] + [_TLD_SAID.get(tld.lower(), tld)])


def _email(m: re.Match[str]) -> str:
    return f"{_spell_label(m['user'])} at {_say_domain(m['host'])}"


def _url(m: re.Match[str]) -> str:
    """A URL is read as its domain; the path is not speakable. Closing punctuation stays."""
    url = m.group(0)
    tail = url[len(url.rstrip(".,;:!?)]'\"")) :]
    host = re.split(r"[/:?#]", re.sub(r"^https?://", "", url, flags=re.I), maxsplit=1)[0]
    return _say_domain(host.rstrip(".,;:!?)]")) + tail


def _abbreviation(said: str) -> Callable[[re.Match[str]], str]:
    """Replace an abbreviation, keeping its full stop when it also ends the sentence ("etc.")."""

    def replace(m: re.Match[str]) -> str:
        stop = "." if m.group(0).endswith(".") and _ends_sentence(m) else ""
        return said + stop

    return replace


def _initialism(m: re.Match[str]) -> str:
    """ "U.S." -> "U-S"; keeps the full stop at the end of the sentence."""
    letters = SPELL_JOINER.join(c.upper() for c in m.group(0) if c.isalpha())
    return letters + ("." if _ends_sentence(m) else "")


def _iso_date(m: re.Match[str]) -> str:
    month, day = int(m["m"]), int(m["d"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{MONTHS[month - 1]} {ordinal(day)}, {year(int(m['y']))}"


def _slash_date(m: re.Match[str]) -> str:
    """3/15/2024 is month/day/year; 15/3/2024 can only be day/month/year."""
    month, day = int(m["m"]), int(m["d"])
    if month > 12 >= day:
        month, day = day, month
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{MONTHS[month - 1]} {ordinal(day)}, {year(int(m['y']))}"


def _month_day(m: re.Match[str]) -> str:
    day = int(m["d"])
    if not 1 <= day <= 31:
        return m.group(0)
    said = f"{_MONTH_ABBREVIATIONS.get(m['mon'], m['mon'])} {ordinal(day)}"
    return f"{said}, {year(int(m['y']))}" if m["y"] else said


def _day_month(m: re.Match[str]) -> str:
    day = int(m["d"])
    if not 1 <= day <= 31:
        return m.group(0)
    said = f"the {ordinal(day)} of {_MONTH_ABBREVIATIONS.get(m['mon'], m['mon'])}"
    return f"{said}, {year(int(m['y']))}" if m["y"] else said


def _meridiem(m: re.Match[str]) -> str:
    said = SPELL_JOINER.join(m["ampm"].replace(".", "").upper())
    return said + ("." if m["ampm"].endswith(".") and _ends_sentence(m) else "")


def _clock(m: re.Match[str]) -> str:
    """9:30 -> nine thirty, 9:05 -> nine oh five, 9:00 -> nine o'clock, 14:00 -> fourteen hundred"""
    hour, minute = int(m["h"]), int(m["min"])
    meridiem = f" {_meridiem(m)}" if m["ampm"] else ""
    if hour > 23 or minute > 59:
        return f"{number(m['h'])} to {number(m['min'])}{meridiem}"  # a ratio, not a time
    seconds = f" and {cardinal(int(m['s']))} seconds" if m["s"] else ""
    if minute == 0 and not seconds:
        if meridiem:
            return cardinal(hour) + meridiem
        if hour == 0:
            return "midnight"
        return f"{cardinal(hour)} hundred" if hour > 12 else f"{cardinal(hour)} o'clock"
    if hour == 0 and not meridiem:
        hour, meridiem = 12, f" A{SPELL_JOINER}M"
    minutes = f"oh {cardinal(minute)}" if minute < 10 else cardinal(minute)
    return f"{cardinal(hour)} {minutes}{seconds}{meridiem}"


def _hour_meridiem(m: re.Match[str]) -> str:
    if not 1 <= int(m["h"]) <= 12:
        return m.group(0)
    return f"{cardinal(int(m['h']))} {_meridiem(m)}"


def _ratio(m: re.Match[str]) -> str:
    return f"{number(m['a'])} to {number(m['b'])}"


def _version(m: re.Match[str]) -> str:
    """v3.10 -> version three point ten: each part of a version is a number of its own."""
    said = " point ".join(cardinal(int(part)) for part in m["v"].split("."))
    return f"version {said}" if m.group(0)[0] in "vV" else said


def _model_name(m: re.Match[str]) -> str:
    """GPT-4o-mini -> GPT 4o mini: hyphens in a name with digits are not minus signs or ranges.

    In such a name "9b" is a size (gemma-2-9b-it), and the tails -it, -hf, -fp16 are spelled.
    """
    if not re.search(r"\d", m.group(0)):
        return m.group(0)
    first, *rest = m.group(0).split("-")
    return " ".join([first, *(_name_part(part) for part in rest)])


_NAME_TAILS = {"it": "I-T", "hf": "H-F", "fp": "F-P", "bf": "B-F"}


def _name_part(part: str) -> str:
    if re.fullmatch(r"\d+(?:\.\d+)?b", part):
        return part[:-1] + "B"
    tail = re.fullmatch(r"(it|hf|fp|bf)(\d*)", part)
    if tail:
        return f"{_NAME_TAILS[tail[1]]} {tail[2]}".strip()
    return part


_QUALIFIERS = {
    "~": "about", "≈": "about", ">": "more than", "<": "less than",
    ">=": "at least", "≥": "at least", "<=": "at most", "≤": "at most",
}  # fmt: skip

_CURRENCIES = {  # symbol: one, many, one hundredth, hundredths
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", "", ""),
    "₽": ("ruble", "rubles", "kopek", "kopeks"),
    "₺": ("lira", "lira", "kurus", "kurus"),
    "₪": ("shekel", "shekels", "agora", "agorot"),
    "₫": ("dong", "dong", "", ""),
    "₦": ("naira", "naira", "kobo", "kobo"),
    "₱": ("peso", "pesos", "centavo", "centavos"),
    "฿": ("baht", "baht", "satang", "satang"),
}
CURRENCY = "[" + "".join(_CURRENCIES) + "]"
_MAGNITUDES = {
    "K": "thousand", "k": "thousand", "M": "million", "m": "million", "mn": "million",
    "B": "billion", "b": "billion", "bn": "billion", "T": "trillion", "tn": "trillion",
}  # fmt: skip
_PER_UNITS = {  # after a slash: "$15/M", "tokens/s", "/hr"
    "s": "second", "sec": "second", "ms": "millisecond", "min": "minute",
    "h": "hour", "hr": "hour", "d": "day", "wk": "week", "mo": "month", "yr": "year",
    "mtok": "million tokens", "ktok": "thousand tokens",
    "gb": "gigabyte", "mb": "megabyte", "tb": "terabyte",
}  # fmt: skip
# Full words after a slash that mean "per" when the left side is a quantity ("requests/day").
_PER_WORDS = frozenset({
    "second", "minute", "hour", "day", "night", "week", "month", "year", "token", "user", "seat",
    "request", "query", "call", "image", "page", "person", "head", "word"
})  # fmt: skip


def _per(unit: str, count: str = "") -> str:
    """ "M" -> per million, "hr" -> per hour, ("1", "M") -> per million, ("100", "GB") -> ..."""
    if len(unit) == 1 and unit.isupper() and unit in _MAGNITUDES:
        name = _MAGNITUDES[unit]
    else:
        name = _PER_UNITS.get(unit.lower(), unit)
    count = count.strip()
    return f"per {number(count)} {name}" if count and count != "1" else f"per {name}"


def _money(m: re.Match[str]) -> str:
    """$15 -> fifteen dollars, $0.55 -> fifty-five cents, $1M -> one million dollars."""
    one, many, cent, cents = _CURRENCIES[m["cur"]]
    mag1 = _MAGNITUDES.get((m["mag1"] or "").strip(), (m["mag1"] or "").strip())
    mag2 = _MAGNITUDES.get((m["mag2"] or "").strip(), (m["mag2"] or "").strip())
    a, b = m["a"], m["b"]
    if b:
        first = number(a) + (f" {mag1}" if mag1 and mag1 != mag2 else "")
        said = f"{first} to {number(b)}{f' {mag2 or mag1}' if mag2 or mag1 else ''} {many}"
    elif mag1:
        said = f"{number(a)} {mag1} {many}"
    else:
        whole, _, fraction = a.replace(",", "").partition(".")
        if fraction and len(fraction) <= 2 and cent:
            units, hundredths = int(whole or 0), int(fraction.ljust(2, "0"))
            parts = []
            if units or not hundredths:
                parts.append(f"{cardinal(units)} {one if units == 1 else many}")
            if hundredths:
                parts.append(f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}")
            said = " and ".join(parts)
        else:
            said = f"{number(a)} {one if a == '1' else many}"
    pers = re.findall(r"/\s?(1\s?|\d+\s)?([A-Za-z]+)", m["per"] or "")
    return " ".join([said, *(_per(unit, count) for count, unit in pers)])


def _percent(m: re.Match[str]) -> str:
    return _amount_range(m["a"], m["b"], "percent")


def _per_mille(m: re.Match[str]) -> str:
    return _amount_range(m["a"], m["b"], "per mille" if m["sign"] == "‰" else "per ten thousand")


# European amounts: a decimal comma with two digits after it, dots (or nothing) between thousands.
DECIMAL_COMMA = (
    r"(?P<cur>" + CURRENCY + r")(?P<whole>\d{1,3}(?:\.\d{3})+|\d+),(?P<cents>\d{2})(?!\d|,\d)"
)
EURO_AFTER = (
    r"(?<![\w.,])(?P<a>\d{1,3}(?:[.\s]\d{3})+(?:,\d{2})?|\d+(?:[.,]\d{2})?)\s?"
    r"(?P<cur>[€₹₩₽₺₪₫₦₱฿])(?!\w)"
)


def _currency_first(m: re.Match[str]) -> str:
    """5,50 € -> €5.50, 1.234 € -> €1234: where the sign follows, separators are European."""
    amount = m["a"]
    whole, comma, cents = amount.partition(",")
    if not comma and re.fullmatch(r"\d+\.\d{2}", amount):
        whole, cents = amount.split(".")
    whole = re.sub(r"[.\s]", "", whole)
    return f"{m['cur']}{whole}.{cents}" if cents else f"{m['cur']}{whole}"


_SLASH_IDIOMS = {"24/7": "twenty-four seven", "50/50": "fifty-fifty", "9/11": "nine eleven"}
_FRACTION_DENOMINATORS = frozenset({*range(2, 11), 12, 16, 32, 64, 100, 1000})


def _fraction_words(n: int, d: int) -> str:
    """1/2 -> one half, 3/4 -> three quarters, 2/3 -> two thirds, 1/100 -> one hundredth."""
    if d == 2:
        name = "half" if n == 1 else "halves"
    elif d == 4:
        name = "quarter" if n == 1 else "quarters"
    else:
        name = ordinal(d).removeprefix("one ")
        name = name if n == 1 else name + "s"
    return f"{cardinal(n)} {name}"


def _fraction(m: re.Match[str]) -> str:
    """A fraction where the denominator says so; 10/10 is ten out of ten; 7/11 is seven eleven."""
    n, d = int(m["n"]), int(m["d"])
    if n == d:
        return f"{cardinal(n)} out of {cardinal(d)}"
    if d in _FRACTION_DENOMINATORS and n < 100:
        return _fraction_words(n, d)
    return f"{number(m['n'])} {number(m['d'])}"


def _mixed_fraction(m: re.Match[str]) -> str:
    n, d = int(m["n"]), int(m["d"])
    if not (0 < n < d and d in _FRACTION_DENOMINATORS):
        return m.group(0)
    return f"{number(m['w'])} and {_fraction_words(n, d)}"


def _dimensions(m: re.Match[str]) -> str:
    """8x7B -> eight by seven billion; 1920x1080 -> ... by ..."""
    tail = f" {_MAGNITUDES[m['mag']]}" if m["mag"] else ""
    return f"{number(m['a'])} by {number(m['b'])}{tail}"


def _times(m: re.Match[str]) -> str:
    return _amount_range(m["a"], m["b"], "times")


def _magnitude(m: re.Match[str]) -> str:
    return _amount_range(m["a"], m["b"], _MAGNITUDES[m["mag"]])


_UNITS = {  # symbol: singular, plural
    "ns": ("nanosecond", "nanoseconds"), "μs": ("microsecond", "microseconds"),
    "ms": ("millisecond", "milliseconds"), "sec": ("second", "seconds"),
    "min": ("minute", "minutes"), "h": ("hour", "hours"), "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "kb": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "mb": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "gb": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"), "tb": ("terabyte", "terabytes"),
    "PB": ("petabyte", "petabytes"), "GiB": ("gibibyte", "gibibytes"),
    "MiB": ("mebibyte", "mebibytes"), "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"),
    "mm": ("millimetre", "millimetres"), "cm": ("centimetre", "centimetres"),
    "km": ("kilometre", "kilometres"), "mg": ("milligram", "milligrams"),
    "kg": ("kilogram", "kilograms"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "ft": ("foot", "feet"), "mph": ("mile per hour", "miles per hour"),
    "dB": ("decibel", "decibels"), "fps": ("frame per second", "frames per second"),
    "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "px": ("pixel", "pixels"),
}  # fmt: skip
_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
UNIT_NAMES = frozenset(_UNITS)  # unit symbols the rules read after an amount (GB, ms, kHz)


def _unit(m: re.Match[str]) -> str:
    singular, many = _UNITS[m["unit"]] if m["unit"] else ("second", "seconds")
    return _amount_range(m["a"], m["b"], singular if m["a"] == "1" and not m["b"] else many)


def _degrees(m: re.Match[str]) -> str:
    scale = {"C": " Celsius", "F": " Fahrenheit"}.get(m["scale"] or "", "")
    return _amount_range(m["a"], None, ("degree" if m["a"] == "1" else "degrees") + scale)


def _ordinal(m: re.Match[str]) -> str:
    return ordinal(int(m["n"].replace(",", "")))


def _plural_number(m: re.Match[str]) -> str:
    """1990s -> nineteen nineties, '90s -> nineties, 100s -> hundreds, 5s -> fives."""
    n = m["n"]
    if m["s"] == "'s" and not n.endswith("0"):
        return m.group(0)  # a possessive ("2024's best"), read by the number rule
    if _is_year(n) and n.endswith("0"):
        return plural(year(int(n)))
    if re.fullmatch(r"10*", n) and len(n) >= 3:
        return plural(cardinal(int(n)).removeprefix("one "))
    return plural(cardinal(int(n)))


def _range(m: re.Match[str]) -> str:
    """1999-2005 and 2020-21 are year ranges; 10-20 is "ten to twenty"."""
    a, b = m["a"], m["b"]
    if _is_year(a) and (_is_year(b) or re.fullmatch(r"\d\d", b)):
        return f"{year(int(a))} to {year(int(b)) if len(b) == 4 else cardinal(int(b))}"
    return f"{number(a)} to {number(b)}"


_YEAR_WORDS = frozenset({
    "in", "since", "by", "from", "until", "till", "during", "before", "after", "circa", "around",
    "early", "late", "mid", "between", "year", "spring", "summer", "autumn", "fall", "winter"
})  # fmt: skip
_YEAR_WORDS |= {m.lower() for m in MONTHS}
_NOT_PLURAL = frozenset({
    "is", "was", "has", "as", "its", "this", "us", "yes", "his", "thus", "always", "perhaps",
    "across", "unless", "besides", "does"
})  # fmt: skip


def _integer(m: re.Match[str]) -> str:
    """Any amount left: a year where it looks like one, else a number."""
    n = m["n"]
    if _is_year(n):
        before = re.search(r"([A-Za-z]+)\W*$", m.string[: m.start()])
        after = re.match(r"\s+([a-z][a-z']*)", m.string[m.end() :])
        noun = after[1] if after else ""
        counted = noun.endswith("s") and not noun.endswith("ss") and noun not in _NOT_PLURAL
        if (before and before[1].lower() in _YEAR_WORDS) or not counted:
            return year(int(n))
    return number(n)


_SYMBOLS = {
    "&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "->": " to ", "=>": " to ",
    "→": " to ", "←": ", ", "±": " plus or minus ", "≈": " about ", "≠": " not equal to ",
    "×": " times ", "÷": " divided by ", "^": " to the power of ", "%": " percent ",
    "$": " dollars ", "€": " euros ", "£": " pounds ", "¥": " yen ", "°": " degrees ",
    "§": " section ", "©": " copyright ", "<": " less than ", ">": " greater than ",
    "|": ", ", "•": ", ", "·": ", ", "≥": " greater than or equal to ",
    "≤": " less than or equal to ", "‰": " per mille ", "‱": " per ten thousand ",
    "∞": " infinity ",
    "√": " square root of ", "∑": " sum ", "∏": " product ", "∫": " integral ", "∂": " partial ",
    "∇": " nabla ", "∈": " in ", "∉": " not in ", "⊂": " subset of ", "⊆": " subset of ",
    "∀": " for all ", "∃": " there exists ", "¬": " not ", "∧": " and ", "∨": " or ",
    "⇒": " implies ", "⟹": " implies ", "⇔": " if and only if ", "≡": " is equivalent to ",
    "∝": " is proportional to ", "⟶": " to ", "↑": " up ", "↓": " down ", "¢": " cents ",
    "α": " alpha ", "β": " beta ", "γ": " gamma ", "δ": " delta ", "Δ": " delta ",
    "ε": " epsilon ", "θ": " theta ", "λ": " lambda ", "μ": " mu ", "π": " pi ",
    "σ": " sigma ", "Σ": " sigma ", "τ": " tau ", "φ": " phi ", "ω": " omega ", "Ω": " omega ",
}  # fmt: skip
_SYMBOL_NAMES = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))

_NUMBER_WORDS = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
    "thousand", "million", "billion", "trillion", "percent"
})  # fmt: skip


def _slash(m: re.Match[str]) -> str:
    """tokens/s -> tokens per second, requests/day -> per day, input/output -> input or output."""
    left, right = m["left"] or "", m["right"]
    if left.lower() == "and" and right.lower() == "or":
        return "and or"
    last = left.rsplit("-", 1)[-1].lower()
    quantity = (last.endswith("s") and not last.endswith("ss")) or last in _NUMBER_WORDS
    per = right.lower() in _PER_UNITS or (right.lower() in _PER_WORDS and (quantity or not left))
    joined = _per(right) if per else f"or {right}"
    if left:
        return f"{left} {joined}"
    # No word before: "/hr" on its own, or the third of "he/she/they" after a match ended.
    return f" {joined}" if per or m.start() > 0 else right


_ROMAN = {
    "II": 2, "III": 3, "IV": 4, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "XI": 11, "XII": 12,
    "XIII": 13, "XIV": 14, "XV": 15, "XVI": 16, "XVII": 17, "XVIII": 18, "XIX": 19, "XX": 20,
}  # fmt: skip

# All-caps words of two to four letters that are said as words, not spelled. A lexicon overrides.
PRONOUNCED_ACRONYMS = frozenset({
    "NASA", "NATO", "JSON", "YAML", "TOML", "UNIX", "LISP", "RAM", "ROM", "GIF", "PIN", "SIM",
    "REST", "CRUD", "OPEC", "FIFA", "AIDS", "SARS", "IKEA", "LEGO", "MIDI", "NAND"
})  # fmt: skip
# Ordinary words a writer puts in capitals for emphasis ("I did NOT say that").
_CAPITALIZED_WORDS = frozenset({
    "A", "AN", "THE", "AND", "OR", "BUT", "NOT", "NO", "YES", "IS", "ARE", "WAS", "BE", "BEEN",
    "DO", "DOES", "DID", "DONE", "CAN", "WILL", "MUST", "HAVE", "HAS", "HAD", "ALL", "ANY",
    "EACH", "EVER", "NEVER", "NOW", "NEW", "OLD", "ONE", "TWO", "TEN", "ONLY", "VERY", "JUST",
    "SO", "TOO", "OF", "IN", "ON", "AT", "BY", "TO", "UP", "OUT", "FOR", "FROM", "WITH", "THIS",
    "THAT", "WHAT", "WHY", "HOW", "WHEN", "HERE", "MORE", "LESS", "MOST", "BIG", "BAD", "GOOD",
    "BEST", "WORST", "STOP", "STILL", "EVEN", "ALSO", "LIKE", "WE", "HE", "SHE", "THEY", "YOU",
    "ME", "MY", "OUR", "IT", "ITS", "IF", "AS", "GO", "GOT", "GET", "NEED", "WANT", "REAL",
    "TRUE", "FREE", "FAST", "SLOW", "HUGE", "LOVE", "HATE", "MUCH", "MANY", "SOME", "SAME", "DONT"
})  # fmt: skip


def _spell(m: re.Match[str]) -> str:
    """GPT -> G-P-T; GPUs -> G-P-U's (espeak-ng says "U's" as "yooz", "Us" as "us")."""
    word, suffix = m["w"], m["s"] or ""
    if word in PRONOUNCED_ACRONYMS or word in _CAPITALIZED_WORDS or _shouting(m.string):
        return m.group(0)
    return SPELL_JOINER.join(word) + ("'s" if suffix else "")


def _shouting(text: str) -> bool:
    """A sentence in capitals: its words are words, not acronyms."""
    words = re.findall(r"[A-Za-z]{2,}", text)
    capitals = [w for w in words if w.isupper()]
    return (
        len(capitals) >= 3
        and 2 * len(capitals) > len(words)
        and any(w in _CAPITALIZED_WORDS for w in capitals)
    )


def _ellipsis(m: re.Match[str]) -> str:
    return "." if _ends_sentence(m) else ", "


# --- Notation: transcripts, phone numbers, science, files, handles --------------------------------

# "[00:02:01]" or "(1:02:03)" in a transcript: where the recording was, not something to read.
TIMESTAMP = re.compile(
    r"\s?[\[(]\s*(?:(?P<h>\d{1,2}):)?(?P<m>[0-5]?\d):(?P<s>[0-5]\d)(?:\.\d+)?\s*[\])]"
)


def _read_timestamp(m: re.Match[str]) -> str:
    """[01:02:03] -> "at one hour two minutes three seconds" (for shows that keep them)."""
    parts = [(int(m["h"] or 0), "hour"), (int(m["m"]), "minute"), (int(m["s"]), "second")]
    said = [f"{cardinal(n)} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return f", at {' '.join(said) or 'zero seconds'},"


def _phone(m: re.Match[str]) -> str:
    """555-1234 -> five five five, one two three four; but 500-1000 (both round) is a range."""
    groups = [m[g] for g in ("area", "area2", "x", "y") if m[g]]
    if not (m["cc"] or len(groups) > 2) and m["x"].endswith("0") and m["y"].endswith("0"):
        return m.group(0)  # "500-1000": a range, read by the range rule
    said = ", ".join(digits(g) for g in groups)
    return f"plus {digits(m['cc'])}, {said}" if m["cc"] else said


def _scientific(m: re.Match[str]) -> str:
    """3e-4 -> three times ten to the power of minus four."""
    exponent = m["e"].replace("−", "-").lstrip("+")
    sign = "minus " if exponent.startswith("-") else ""
    return f"{number(m['m'])} times ten to the power of {sign}{number(exponent.lstrip('-'))}"


_EXTENSIONS = {  # extension: how it is said after "dot"
    "py": "pie", "ipynb": "I-P-Y-N-B", "js": "J-S", "mjs": "M-J-S", "ts": "T-S", "tsx": "T-S-X",
    "jsx": "J-S-X", "rs": "R-S", "go": "go", "rb": "R-B", "java": "java", "kt": "K-T",
    "cc": "C-C", "cpp": "C-P-P", "hpp": "H-P-P", "cu": "C-U", "swift": "swift",
    "sh": "S-H", "bash": "bash", "zsh": "Z-S-H", "ps1": "P-S-one", "sql": "S-Q-L",
    "json": "JSON", "jsonl": "JSON-L", "yaml": "YAML", "yml": "YAML", "toml": "TOML",
    "xml": "X-M-L", "html": "H-T-M-L", "css": "C-S-S", "md": "M-D", "rst": "R-S-T",
    "txt": "text", "csv": "C-S-V", "tsv": "T-S-V", "parquet": "parquet", "lock": "lock",
    "cfg": "config", "ini": "I-N-I", "env": "env", "log": "log", "pdf": "P-D-F",
    "png": "P-N-G", "jpg": "J-P-G", "jpeg": "J-peg", "gif": "GIF", "svg": "S-V-G",
    "webp": "web-P", "mp3": "M-P-three", "mp4": "M-P-four", "wav": "wave", "flac": "flac",
    "zip": "zip", "tar": "tar", "gz": "G-Z", "tgz": "T-G-Z", "whl": "wheel", "exe": "E-X-E",
    "dll": "D-L-L", "so": "S-O", "conf": "conf", "safetensors": "safe tensors", "gguf": "G-G-U-F",
    "ggml": "G-G-M-L", "onnx": "onyx", "pt": "P-T", "pth": "P-T-H", "ckpt": "checkpoint",
    "bin": "bin", "pkl": "pickle", "npy": "N-P-Y", "npz": "N-P-Z", "h5": "H-five",
    "tflite": "T-F-lite", "mlmodel": "M-L-model", "lora": "LoRA", "docx": "doc-X",
    "xlsx": "X-L-S-X", "pptx": "P-P-T-X", "epub": "E-pub", "dockerfile": "dockerfile",
}  # fmt: skip
_EXTENSION_NAMES = "|".join(sorted(_EXTENSIONS, key=len, reverse=True))


def _file_name(m: re.Match[str]) -> str:
    """src/model.safetensors -> src slash model dot safe tensors; "Node.js" is a name."""
    stem, ext = m["stem"], m["ext"]
    if (
        ext.lower() in ("js", "ts")
        and re.fullmatch(r"[A-Z][a-z]+|[A-Z]?\d+", stem)
        and not m["dir"]
    ):
        return m.group(0)  # Node.js, Vue.js, Three.js, D3.js: product names
    said_ext = ext if PLACEHOLDER_RE.fullmatch(ext) else _EXTENSIONS[ext.lower()]
    return f"{_say_path(m['dir'] or '')}{stem.replace('.', ' dot ')} dot {said_ext}"


_PATH_STARTS = {"~": "tilde", ".": "dot", "..": "dot dot", "": ""}


def _say_path(path: str) -> str:
    """~/models/ -> tilde slash models slash; a leading "/" is "slash"."""
    parts = path.split("/")
    said = [_PATH_STARTS.get(parts[0], parts[0]), *parts[1:]]
    return " slash ".join(said).strip() + " " if path else ""


def _folder(m: re.Match[str]) -> str:
    return _say_path(m.group(0).rstrip("/") + "/").removesuffix(" slash ")


def _split_words(name: str) -> str:
    """MachineLearning -> Machine Learning; jack_dorsey -> jack dorsey; GPT4All -> GPT4 All."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return name.replace("_", " ")


_SOFTWARE = (
    "Python|Node|Java|Ruby|Perl|PHP|Rust|Go|Swift|Kotlin|Scala|Julia|TypeScript|Django|Rails|"
    "React|Vue|Angular|Svelte|Ubuntu|Debian|Fedora|Android|iOS|iPadOS|macOS|Windows|Linux|"
    "Kubernetes|PostgreSQL|Postgres|MySQL|Redis|Docker|CUDA|PyTorch|TensorFlow|JAX|NumPy|"
    "pandas|Bun|Deno|Firefox|Chrome|Safari|Emacs|Vim|Neovim|Xcode|Unity|Unreal|Blender|"
    "version|release|Version|Release"
)


def _software_version(m: re.Match[str]) -> str:
    """Python 3.12 -> Python three point twelve: each part of a version is a number of its own."""
    return f"{m['name']} {' point '.join(cardinal(int(p)) for p in m['v'].split('.'))}"


_RELATIONS = {
    "≈": "is approximately", "≠": "is not equal to",
    "≥": "is greater than or equal to", ">=": "is greater than or equal to",
    "≤": "is less than or equal to", "<=": "is less than or equal to",
}  # fmt: skip


def _unnamed_symbol(m: re.Match[str]) -> str:
    """A maths or currency sign without a rule is read by its Unicode name, never dropped."""
    char = m.group(0)
    if unicodedata.category(char) not in ("Sm", "Sc"):
        return " "
    name = unicodedata.name(char, "").lower().removesuffix(" sign")
    return f" {name} " if name else " "


# --- The rules ------------------------------------------------------------------------------------


def _rule(pattern: str, replace: Replacement, flags: int = 0) -> Rule:
    return re.compile(pattern, flags), replace


MONEY = (
    r"(?P<cur>" + CURRENCY + r")(?P<a>" + AMT + r")"
    r"(?P<mag1>(?:bn|mn|tn|[KMBTkmb])(?![A-Za-z])|\s(?:thousand|million|billion|trillion)\b)?"
    r"(?:\s?[-–]\s?" + CURRENCY + r"?(?P<b>" + AMT + r")"
    r"(?P<mag2>(?:bn|mn|tn|[KMBTkmb])(?![A-Za-z])|\s(?:thousand|million|billion|trillion)\b)?)?"
    r"(?P<per>(?:\s?/\s?(?:1\s?|\d+\s)?[A-Za-z]+\b)*)"
)

RULES: list[Rule] = [
    # 1. Addresses first: their dots, digits, "@" and "/" would each be caught by a later rule.
    _rule(r"(?P<user>[\w.+-]+)@(?P<host>[\w-]+(?:\.[\w-]+)+)", _email),
    _rule(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+", _url),
    _rule(rf"(?<![\w.@/-])(?:[A-Za-z0-9-]+\.)+(?i:{_TLDS})(?![\w-])(?!\.\w)(?:/[^\s\"<>]*)?", _url),
    _rule(
        r"(?<![\w.@/-])(?P<dir>(?:~/|\.\.?/|/)?(?:[\w-]+/)*)(?P<stem>[\w-]+(?:\.[\w-]+)*)"
        rf"\.(?P<ext>{_EXTENSION_NAMES}|[\ue000-\uf8ff])(?![\w-])(?!\.\w)",
        _file_name,
    ),
    _rule(r"(?<![\w./~])(?:~|\.\.?)/(?:[\w.-]+/)*[\w-]+/?(?![\w/])", _folder),  # ~/models
    # Phone numbers before dates, ranges and minus signs: 555-1234 is not "555 to 1234".
    _rule(
        r"(?<![\w.$/-])(?:(?P<cc>\+\d{1,3})[\s.-]?)?(?:\((?P<area>\d{3})\)\s?|(?P<area2>\d{3})-)?"
        r"(?P<x>\d{3})-(?P<y>\d{4})(?![\w-]|[.,]\d)",
        _phone,
    ),
    # 2. Dates and clock times while their digits, dashes and colons still mean one, and before
    #    the abbreviations, which would take the "p.m." of "9:30 p.m." for an initialism.
    _rule(r"(?<![\w.-])(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)(?![\w-])", _iso_date),
    _rule(r"(?<![\w./])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?![\w/])", _slash_date),
    _rule(
        rf"\b(?P<mon>{_MONTH_NAME})\.?\s(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
        r"(?:,?\s(?P<y>\d{4})(?!\d))?",
        _month_day,
    ),
    _rule(
        rf"{START}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s(?P<mon>{_MONTH_NAME})\b"
        r"(?:,?\s(?P<y>\d{4})(?!\d))?",
        _day_month,
    ),
    _rule(
        r"(?<![\w.:])(?P<h>\d{1,2}):(?P<min>\d\d)(?::(?P<s>\d\d))?(?![\d:])"
        r"(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?",
        _clock,
    ),
    _rule(r"(?<![\w.:])(?P<h>\d{1,2})\s?(?P<ampm>[AaPp]\.?[Mm]\.?)(?![A-Za-z])", _hour_meridiem),
    _rule(r"(?<![\w.:])(?P<a>\d+):(?P<b>\d+)(?![\d:])", _ratio),  # 16:9; after clock times
    # 3. Abbreviations with dots, before anything reads a dot as a decimal point or full stop.
    _rule(r"\bw/o\b", "without"),
    _rule(r"\bw/\s?(?=\w)", "with "),
    _rule(r"(?i)\be\.g\.", _abbreviation("for example")),
    _rule(r"(?i)\bi\.e\.", _abbreviation("that is")),
    _rule(r"(?i)\ba\.k\.a\.|\baka\b", _abbreviation("also known as")),
    _rule(r"(?i)\betc\.", _abbreviation("et cetera")),
    _rule(r"\bet al\.", _abbreviation("et al")),
    _rule(r"(?i)\bvs\b\.?", _abbreviation("versus")),
    _rule(r"(?<=[a-z]) v\. (?=[A-Z])", " versus "),  # Roe v. Wade
    _rule(r"(?i)\bapprox\.", _abbreviation("approximately")),
    _rule(r"\bcf\.", _abbreviation("compare")),
    _rule(r"\bDr\.?(?=\s+[A-Z])", "Doctor"),
    _rule(r"\bMrs\.?(?=\s+[A-Z])", "Missus"),
    _rule(r"\bMr\.?(?=\s+[A-Z])", "Mister"),
    _rule(r"\bMs\.?(?=\s+[A-Z])", "Miz"),
    _rule(r"\bProf\.(?=\s+[A-Z])", "Professor"),
    _rule(r"\bSt\.(?=\s+[A-Z])", "Saint"),
    _rule(r"\bSt\.", _abbreviation("Street")),
    _rule(r"\bMt\.(?=\s+[A-Z])", "Mount"),
    _rule(r"\bJr\.", _abbreviation("Junior")),
    _rule(r"\bSr\.", _abbreviation("Senior")),
    _rule(r"\bFig\.(?=\s?\d)", "Figure"),
    _rule(r"\b(?:No|no)\.(?=\s?\d)", "number"),
    _rule(r"\b(?:ca?)\.(?=\s?\d{3,4}\b)", "circa"),
    _rule(r"\bPh\.?D\b\.?", _abbreviation(SPELL_JOINER.join("PHD"))),
    _rule(r"\bWWII\b", "World War Two"),
    _rule(r"\bWWI\b", "World War One"),
    _rule(r"\b(?:[A-Za-z]\.){2,}", _initialism),  # U.S., U.K., a.m. on its own
    # 4. Scientific notation and versions before decimals ("3.10" is "three point one zero").
    _rule(rf"{START}(?P<m>{AMT})\s?[×x*]\s?10\^(?P<e>[-+−]?\d+)(?!\w|\.\d)", _scientific),
    _rule(rf"{START}(?P<m>\d+(?:\.\d+)?)[eE](?P<e>[-+−]?\d{{1,3}})(?!\w|\.\d)", _scientific),
    _rule(
        rf"(?P<name>\b(?:{_SOFTWARE})\b|[\ue000-\uf8ff])\s(?P<v>\d+\.\d+)(?![\w]|\.\d)",
        _software_version,
    ),
    _rule(r"\bv(?P<v>\d+(?:\.\d+)*)(?![\w.]|\.\d)", _version),
    _rule(rf"{START}(?P<v>\d+(?:\.\d+){{2,}})(?![\w]|\.\d)", _version),
    # 5. Hyphens inside names with digits are spaces, before the minus and range rules see them.
    #    GPU model numbers are read in pairs, as people say them: RTX 4090 is "forty ninety".
    _rule(
        r"\b(?P<p>RTX|GTX|RX|GT|MX)[\s-]?(?P<n>[1-9]\d{3})(?!\d)",
        lambda m: f"{m['p']} {year(int(m['n']))}",
    ),
    _rule(
        r"(?:(?<![\w-])[A-Za-z][A-Za-z0-9.]*|[\ue000-\uf8ff][A-Za-z0-9.]*)(?:-[A-Za-z0-9.]+)+(?!\w)",
        _model_name,
    ),
    # 6. Signs that read before the amount they qualify ("~$1M" is "about one million dollars").
    _rule(
        rf"(?<=[\d%])\s?(?P<q>>=|<=|[≈≥≤≠])\s?(?={CURRENCY}?-?\.?\d)",
        lambda m: f" {_RELATIONS[m['q']]} ",
    ),  # between two amounts: "3 ≈ 3.1" is "three is approximately three point one"
    _rule(
        rf"(?<![\w)\]])(?P<q>>=|<=|[~≈><≥≤])\s?(?={CURRENCY}?\.?\d)",
        lambda m: _QUALIFIERS[m["q"]] + " ",
    ),
    _rule(rf"(?<![\w.+])(?P<q>{CURRENCY}?{AMT}(?:bn|[KMBTk])?)\+(?![\w+])", r"more than \g<q>"),
    _rule(rf"(?<!\d\s)(?<![\w.)\]%])-(?={CURRENCY}?\.?\d)", "minus "),
    _rule(rf"(?<![\w.)\]%+])\+(?={CURRENCY}?\.?\d)", "plus "),
    _rule(r"#(?=\d)", "number "),
    # 7. Money before percentages, magnitudes and slashes: "$15/M" and "$10-20M" are one amount.
    _rule(rf"(?<=[\dKMBTk])/(?={CURRENCY}\d)", " and "),  # $3/$12, a pricing pair
    _rule(EURO_AFTER, _currency_first),  # 5,50 € -> €5.50
    _rule(DECIMAL_COMMA, r"\g<cur>\g<whole>.\g<cents>"),  # €5,50 and €1.234,56
    _rule(MONEY, _money),
    _rule(RANGE + r"\s?%", _percent),
    _rule(RANGE + r"\s?(?P<sign>[‰‱])", _per_mille),
    # 8. Fractions before ranges and slashes; "24/7" and "50/50" are not fractions.
    _rule(r"(?<![\w./])(?:24/7|50/50|9/11)(?![\w/])", lambda m: _SLASH_IDIOMS[m.group(0)]),
    _rule(r"(?<![\w./])(?P<w>\d+)\s(?P<n>\d+)/(?P<d>\d+)(?![\w/]|\.\d)", _mixed_fraction),
    _rule(r"(?<![\w./])(?P<n>\d+)/(?P<d>\d+)(?![\w/]|\.\d)", _fraction),
    # 9. Amounts with a letter attached (8x7B, 10x, 7B, 5ms, 1st, 1990s) before digits and
    #    letters are split apart in step 11.
    _rule(rf"{START}(?P<a>[1-9]\d*)\s?[x×](?=[A-Z\ue000-\uf8ff])", r"\g<a> times "),  # 4xA100
    _rule(rf"{START}(?P<a>{AMT})\s×\s(?P<b>{AMT})(?![\w×])", r"\g<a> times \g<b>"),  # 3 × 4
    _rule(rf"{START}(?P<a>{AMT})\s?[x×]\s?(?P<b>{AMT})(?P<mag>[KMBT])?(?!\w)", _dimensions),
    _rule(rf"{RANGE}(?:[x×X]|\s[x×])(?!\w)", _times),
    _rule(rf"{RANGE}(?P<mag>bn|[KMBTk])(?!\w)", _magnitude),
    _rule(rf"{RANGE}(?:\s?(?P<unit>{_UNIT_NAMES})|\s(?P<sec>s))(?!\w)", _unit),
    _rule(rf"{START}(?P<a>{AMT})\s?°\s?(?P<scale>[CF])?(?![A-Za-z])", _degrees),
    _rule(rf"{START}(?P<n>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:st|nd|rd|th)(?![A-Za-z])", _ordinal),
    _rule(r"(?<=\ds)\s?[-–]\s?(?='?\d+s\b)", " to "),  # the 1960s-1970s
    _rule(r"(?<![\w.])'?(?P<n>\d+)(?P<s>s|'s)(?![A-Za-z])", _plural_number),
    # 10. Ranges after everything that takes a range of its own ("15-20%", "10-20M").
    _rule(rf"{START}(?P<a>{AMT})\s?[-–]\s?(?P<b>{AMT})(?![\w])", _range),
    # 11. Letters and digits apart: o1 -> oh 1, 4o -> 4 oh, A100 -> A-100, H100 -> H 100.
    _rule(r"(?<![A-Za-z])o(?=\d)", "oh "),
    _rule(r"(?<=\d)o(?![A-Za-z])", " oh"),
    _rule(r"\bA(?=\d)", "A" + SPELL_JOINER),  # a lone "A" is read "uh"; "A-one" is the letter
    _rule(r"(?<=[A-Za-z])(?P<n>\d+(?:\.\d+)?)s\b", r" \g<n>'s"),  # H100s -> H 100's
    _rule(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " "),
    _rule(r"(?<=[\ue000-\uf8ff])(?=\w)", " "),  # a lexicon word before its version: Qwen2.5
    # 12. Whatever amounts are left: years by context, else numbers.
    _rule(rf"{START}(?P<n>{AMT})", _integer),
    # 13. Symbols once no digit needs them; then slashes between words.
    _rule(r"(?<=[A-Za-z])#", " sharp"),  # C#, F#
    _rule(r"#(?P<tag>[A-Za-z][\w]*)", lambda m: "hashtag " + _split_words(m["tag"])),
    _rule(r"(?<![\w@])@(?P<h>[A-Za-z_]\w*)", lambda m: "at " + _split_words(m["h"])),
    _rule(r"\b(?P<site>[ru])/(?=\w)", r"\g<site> slash "),  # r/MachineLearning, u/name
    _rule(r"\bI/O\b", "I" + SPELL_JOINER + "O"),
    _rule(r"\bN/A\b", "not applicable"),
    _rule(r"\bA/B\b", "A" + SPELL_JOINER + "B"),
    _rule(r"(?<=[A-Za-z])\((?P<s>e?s)\)", r"\g<s>"),  # word(s)
    _rule(_SYMBOL_NAMES, lambda m: _SYMBOLS[m.group(0)]),
    _rule(r"(?P<left>[A-Za-z][\w'-]*)?\s?/\s?(?P<right>[A-Za-z]+)\b", _slash),
    _rule(r"/", " "),
    # 14. Roman numerals before acronyms, which would spell "II" as letters.
    _rule(
        rf"\b(?P<name>[A-Z][a-z]+)\s(?P<r>{'|'.join(_ROMAN)})\b",
        lambda m: f"{m['name']} {cardinal(_ROMAN[m['r']])}",
    ),
    _rule(r"\b(?P<w>[A-Z]{2,4})(?P<s>s'|s|'s)?(?:\b|(?<=')(?!\w))", _spell),
    # 15. Pauses last, so "-" and "..." were free to be minus signs and ranges above.
    _rule(r"\.{3,}", _ellipsis),
    _rule(r"\s*(?:—|-{2,})\s*|\s+[-–](?=\s|$)|(?:^|(?<=\s))[-–]\s+|–", ", "),
    _rule(r"\s*[(\[{]\s*|\s*[)\]}]", ", "),
    # 16. Anything else that is not a word, a placeholder or plain punctuation is markup residue.
    _rule(r"[^\w\s.,;:?!'\"\-\ue000-\uf8ff]|_", _unnamed_symbol),
    _rule(r"\d", lambda m: f" {_DIGITS[int(m.group())]} " if m.group().isascii() else " "),
]


def _tidy(text: str) -> str:
    """One space between words, none before punctuation, no doubled or dangling pauses."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([.,;:?!])", r"\1", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    text = re.sub(r",\s*([.;:?!])", r"\1", text)
    text = re.sub(r"([.;:?!])\s*,", r"\1", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r",(?=[^\s\"'])", ", ", text)
    text = re.sub(r"^[\s,;:.]+|[\s,;]+$", "", text)
    return text.strip()
