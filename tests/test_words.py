"""`studio words`: which words are flagged, which are not, and the lines it suggests."""

from __future__ import annotations

import json
from pathlib import Path

from studio.ingest import parse_markdown
from studio.speech.lexicon import Lexicon
from studio.speech.words import espeak_dictionary, find_words
from tests.conftest import run_studio

ESSAY = """\
---
title: Notes on Training
---

We trained DeciLM and MosaicML models, then Qwen2.5 and GPT-NeoX-20B, with TIIUAE and BLOOM
data from Tsinghua and Wudao; Smith and Falcon read fine. DeciLM won.

A 7B model, a 128k context, 8x7B experts, the 1990s, 5ms at 3.2 GHz and 80 GB.

PyTorch runs on GPUs. March came. NASA and JSON are words.
"""


def report(lexicon: Lexicon | None = None):
    essay = parse_markdown(ESSAY, slug_hint="notes")
    return find_words(essay, lexicon or Lexicon.empty())


def test_flags_mixed_case_digits_capitals_and_foreign_names() -> None:
    flagged = {f.word: f for f in report().flagged}
    assert flagged["DeciLM"].reason == "mixed case" and flagged["DeciLM"].count == 2
    assert flagged["Qwen2.5"].reason == "letters and digits"
    assert flagged["GPT-NeoX-20B"].reason == "capitals"  # its first unknown part: GPT
    assert flagged["TIIUAE"].reason == "capitals"
    assert flagged["Tsinghua"].reason == "name" and flagged["Wudao"].reason == "name"
    assert flagged["PyTorch"].said == "PyTorch"


def test_leaves_amounts_plain_names_and_what_rules_or_espeak_know() -> None:
    flagged = {f.word for f in report().flagged}
    for word in ("7B", "128k", "8x7B", "1990s", "5ms", "GHz", "GB", "Smith", "Falcon", "March"):
        assert word not in flagged, word
    assert "NASA" not in flagged and "JSON" not in flagged  # read as words by the rules
    assert "github" in espeak_dictionary()  # the voice's own dictionary is read


def test_the_builtin_lexicon_knows_the_common_jargon() -> None:
    before = {f.word for f in report().flagged}
    after = {f.word for f in report(Lexicon.builtin()).flagged}
    assert {"PyTorch", "GPUs", "Qwen2.5"} <= before - after
    assert {"DeciLM", "Tsinghua"} <= after
    assert next(
        f for f in report(Lexicon.builtin()).flagged if f.word == "GPT-NeoX-20B"
    ).reason == (
        "mixed case"  # GPT is known now; NeoX is not
    )


def test_every_suggested_line_is_a_valid_lexicon_entry(tmp_path: Path) -> None:
    lines = [f.line for f in report().flagged]
    path = tmp_path / "lexicon.toml"
    path.write_text("[words]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    lexicon = Lexicon.load(path)
    assert len(lexicon) == len(lines)
    tiiuae = lexicon.lookup("TIIUAE")
    assert tiiuae is not None and (tiiuae.kind, tiiuae.say) == ("word", "tiiuae")
    mosaic = lexicon.lookup("MosaicML")
    assert mosaic is not None and mosaic.say == "mosaic M-L"


def test_counts_words_and_flags_per_thousand() -> None:
    result = report()
    assert 60 < result.words < 80
    assert result.per_thousand_words == 1000 * len(result.flagged) / result.words


def test_cli_json_and_errors(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(ESSAY, encoding="utf-8")
    result = run_studio("words", str(essay), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    words = {f["word"]: f for f in data["flagged"]}
    assert "PyTorch" not in words and "DeciLM" in words  # the built-in lexicon is on
    assert words["DeciLM"]["phonemes"] and words["DeciLM"]["lexicon_line"]
    off = json.loads(run_studio("words", str(essay), "--json", "--no-builtin-lexicon").stdout)
    assert off["flagged_count"] > data["flagged_count"]
    missing = run_studio("words", str(tmp_path / "nope.md"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
