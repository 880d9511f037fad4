# ruff: noqa: RUF001 - IPA and curly quotes are the point of these cases.
"""Lexicon: loading, errors, matching rules, merging, and how normalize() applies it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.speech.lexicon import Entry, Lexicon, unmask
from studio.speech.normalize import normalize

EXAMPLE = """\
# whole words; an all-lowercase key matches any case, a key with capitals only that case
[words]
"o1" = "oh one"
"Coqui" = "KOH-kee"
"Nginx" = { say = "engine x" }
"Kubernetes" = { ipa = "kuːbɚˈnɛtiːz" }
"SQL" = { say = "sequel", case = "exact" }
"""


def apply(lexicon: Lexicon, text: str) -> str:
    """Replace matched words with their spoken forms, with no other normalization."""
    return unmask(*lexicon.mask(text))


def write(tmp_path: Path, text: str, name: str = "words.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def lexicon(tmp_path: Path, words: str, name: str = "words.toml") -> Lexicon:
    return Lexicon.load(write(tmp_path, f"[words]\n{words}\n", name))


# --- Loading -------------------------------------------------------------------------------------


def test_load_reads_every_form(tmp_path: Path) -> None:
    lex = Lexicon.load(write(tmp_path, EXAMPLE))
    assert len(lex) == 5
    assert lex.lookup("o1") == Entry("o1", "oh one", None, exact_case=False)
    assert lex.lookup("Coqui") == Entry("Coqui", "KOH-kee", None, exact_case=True)
    assert lex.lookup("Nginx") == Entry("Nginx", "engine x", None, exact_case=True)
    assert lex.lookup("Kubernetes") == Entry("Kubernetes", None, "kuːbɚˈnɛtiːz", exact_case=True)
    assert lex.lookup("SQL") == Entry("SQL", "sequel", None, exact_case=True)


def test_load_accepts_a_string_path(tmp_path: Path) -> None:
    assert len(Lexicon.load(str(write(tmp_path, EXAMPLE)))) == 5


def test_entry_is_frozen() -> None:
    entry = Entry("o1", "oh one", None, exact_case=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.say = "other"  # type: ignore[misc]


def test_empty_lexicon_changes_nothing() -> None:
    assert len(Lexicon.empty()) == 0
    assert apply(Lexicon.empty(), "The o1 model.") == "The o1 model."


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[words\n", "not valid TOML"),
        ('"o1" = "oh one"\n', "no [words] table"),
        ("words = 3\n", "no [words] table"),
        ('[words]\n"o1" = "oh one"\n[voices]\nx = 1\n', "unknown table or key 'voices'"),
        ('[words]\n"o1" = { case = "any" }\n', "'o1': needs say or ipa"),
        ('[words]\n"o1" = { say = "" }\n', "'o1': needs say or ipa"),
        ('[words]\n"o1" = { say = "oh one", sound = "x" }\n', "'o1': unknown key 'sound'"),
        ('[words]\n"o1" = { say = "oh one", case = "upper" }\n', "'o1': case must be"),
        ('[words]\n"o1" = 1\n', "'o1': give a string or a table"),
        ('[words]\n"o1" = { say = 1 }\n', "'o1': say must be a string"),
        ('[words]\n"gpt4" = "gpt 4"\n', "'gpt4': say must be written in words, not digits"),
        ('[words]\n"x" = { ipa = "[[eks]]" }\n', "'x': ipa must not contain square brackets"),
        ('[words]\n" o1" = "oh one"\n', "a key must be a word"),
    ],
)
def test_load_errors_are_one_line_and_name_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = write(tmp_path, content, "show-words.toml")
    with pytest.raises(StudioError) as raised:
        Lexicon.load(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_missing_file_is_a_studio_error(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match=r"nowhere\.toml: lexicon file not found"):
        Lexicon.load(tmp_path / "nowhere.toml")


# --- Matching ------------------------------------------------------------------------------------


def test_lowercase_key_matches_any_case(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"nginx" = "engine x"')
    assert apply(lex, "nginx, Nginx and NGINX.") == "engine x, engine x and engine x."


def test_key_with_capitals_matches_only_that_case(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"Coqui" = "KOH-kee"')
    assert apply(lex, "Coqui, coqui and COQUI.") == "KOH-kee, coqui and COQUI."


def test_case_setting_overrides_the_key(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        '"sql" = { say = "sequel", case = "exact" }\n"Go" = { say = "go lang", case = "any" }',
    )
    assert apply(lex, "sql, SQL; Go, go, GO.") == "sequel, SQL; go lang, go lang, go lang."


def test_exact_entry_wins_over_any_case_entry(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"us" = "us"\n"US" = "U S"')
    assert apply(lex, "Tell us about the US.") == "Tell us about the U S."


def test_whole_words_only(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"o1" = "oh one"\n"Coqui" = "KOH-kee"')
    assert apply(lex, "o1, o10, xo1, o1-preview.") == "oh one, o10, xo1, oh one-preview."
    assert apply(lex, "Coqui and Coquian and Coqui's.") == "KOH-kee and Coquian and KOH-kee's."


def test_keys_with_punctuation(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        '"C++" = "see plus plus"\n"Node.js" = "node J S"\n"$15/M" = "fifteen bucks a million"',
    )
    text = "C++ and Node.js at $15/M, not C+ or Node.jsx or $15/MB."
    assert apply(lex, text) == (
        "see plus plus and node J S at fifteen bucks a million, not C+ or Node.jsx or $15/MB."
    )


def test_longest_key_wins(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"GPT-4" = "gee pee tee four"\n"GPT-4o" = "gee pee tee four oh"')
    assert apply(lex, "GPT-4o beats GPT-4.") == "gee pee tee four oh beats gee pee tee four."


# --- Merging -------------------------------------------------------------------------------------


def test_merge_later_lexicons_win(tmp_path: Path) -> None:
    show = lexicon(tmp_path, '"coqui" = "show"\n"nginx" = "engine x"', "show.toml")
    voice = lexicon(tmp_path, '"coqui" = "voice"\n"o1" = "oh one"', "voice.toml")
    cli = lexicon(tmp_path, '"coqui" = "command line"', "cli.toml")
    merged = Lexicon.merge(show, voice, cli)
    assert apply(merged, "coqui, nginx, o1") == "command line, engine x, oh one"
    assert apply(Lexicon.merge(cli, voice, show), "coqui") == "show"


def test_merge_overrides_a_word_whatever_its_case(tmp_path: Path) -> None:
    show = lexicon(tmp_path, '"SQL" = "S Q L"', "show.toml")
    voice = lexicon(tmp_path, '"sql" = "sequel"', "voice.toml")
    assert apply(Lexicon.merge(show, voice), "SQL and sql") == "sequel and sequel"


def test_merge_of_nothing_is_empty() -> None:
    assert len(Lexicon.merge()) == 0


# --- Applied by normalize -------------------------------------------------------------------------


def test_entries_override_rules(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"o1" = "oh one model"\n"$15/M" = "fifteen bucks a million"')
    assert (
        normalize("The o1 costs $15/M.", lex) == "The oh one model costs fifteen bucks a million."
    )
    assert normalize("The o1 costs $15/M.") == "The oh one costs fifteen dollars per million."


def test_spoken_forms_are_not_normalized_again(tmp_path: Path) -> None:
    # Without protection the rules would spell "GPT" and "SQL" as letters and make "four" "4"-free
    # text into something else; the entry's words must come out exactly as written.
    lex = lexicon(tmp_path, '"GPT-4" = "gpt four"\n"Postgres" = "post gress Q L, vs. SQL"')
    assert normalize("GPT-4 and Postgres.", lex) == "gpt four and post gress Q L, vs. SQL."


def test_entry_followed_by_a_hyphenated_version(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"Llama" = "lah-ma"')
    assert normalize("Llama-3-8B is open.", lex) == "lah-ma three eight billion is open."


def test_ipa_entries_become_raw_phonemes(tmp_path: Path) -> None:
    lex = Lexicon.load(write(tmp_path, EXAMPLE))
    assert normalize("Kubernetes runs it.", lex) == "[[kuːbɚˈnɛtiːz]] runs it."
    assert normalize("Kubernetes's pods.", lex) == "[[kuːbɚˈnɛtiːz]]'s pods."


def test_without_ipa_an_ipa_only_entry_leaves_the_word(tmp_path: Path) -> None:
    lex = Lexicon.load(write(tmp_path, EXAMPLE))
    assert normalize("Kubernetes runs it.", lex, allow_ipa=False) == "Kubernetes runs it."


def test_without_ipa_an_ipa_only_entry_falls_back_to_the_rules(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"GPT" = { ipa = "dʒˌiːpˌiːtˈiː" }')
    assert normalize("GPT rocks.", lex) == "[[dʒˌiːpˌiːtˈiː]] rocks."
    assert normalize("GPT rocks.", lex, allow_ipa=False) == "G-P-T rocks."


def test_entry_with_say_and_ipa_uses_each_where_it_fits(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"SQL" = { say = "sequel", ipa = "sˈiːkwəl" }')
    assert normalize("SQL wins.", lex) == "[[sˈiːkwəl]] wins."
    assert normalize("SQL wins.", lex, allow_ipa=False) == "sequel wins."


def test_lexicon_matches_curly_quoted_text(tmp_path: Path) -> None:
    # Characters are made plain before the lexicon runs, so a key with a straight apostrophe
    # matches the writer's curly one.
    lex = lexicon(tmp_path, '"rock \'n\' roll" = "rock and roll"')
    assert normalize("I love rock ’n’ roll.", lex) == "I love rock and roll."


def test_many_entries_in_one_sentence(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"x" = "ex"')
    assert normalize(" ".join(["x"] * 200), lex) == " ".join(["ex"] * 200)


def test_kind_is_read_and_spelled_entries_derive_their_letters(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        '"GGUF" = { kind = "spelled" }\n"fp16" = { kind = "spelled" }\n'
        '"GPUs" = { kind = "spelled" }\n"SOTA" = { kind = "expanded", say = "state of the art" }',
    )
    assert lex.lookup("GGUF") == Entry("GGUF", "G-G-U-F", None, exact_case=True, kind="spelled")
    assert apply(lex, "GGUF, FP16, GPUs, SOTA.") == (
        "G-G-U-F, F-P sixteen, G-P-U's, state of the art."
    )


def test_an_unknown_kind_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="kind must be one of spelled, word, expanded"):
        lexicon(tmp_path, '"GGUF" = { kind = "letters" }')


def test_a_key_ending_in_a_letter_matches_before_a_version(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, '"Qwen" = "chwen"\n"o1" = "oh one"')
    assert normalize("Qwen2.5 and o10.", lex) == "chwen two point five and oh ten."
