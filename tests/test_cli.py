"""The command line as a user meets it: clear one-line errors, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from tests.conftest import REPO, run_studio

pytestmark = pytest.mark.slow  # every test runs the studio command in a fresh process

GOOD = "# A Title\n\nA sentence worth reading aloud.\n"


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.md", None, "missing.md"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"  \n\n \n", "empty"),
        ("pictures.md", b"# Title\n\n![a chart](chart.png)\n", "nothing to read"),
        ("latin1.md", "Caf\xe9 au lait.".encode("latin-1"), "UTF-8"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("essay.docx", GOOD.encode(), ".docx"),
    ],
)
def test_bad_essays_fail_with_one_line_and_write_nothing(
    tmp_path: Path, name: str, content: bytes | None, fragment: str
) -> None:
    essay = tmp_path / name
    if content is not None:
        essay.write_bytes(content)
    out = tmp_path / "out"
    result = run_studio("render", str(essay), "--out", str(out))
    assert_one_line_error(result, fragment)
    assert not out.exists()


def test_unknown_voice(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(GOOD, encoding="utf-8")
    result = run_studio("render", str(essay), "--voice", "nobody", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "unknown voice 'nobody'", "joe")
    assert not (tmp_path / "o").exists()


def test_unwritable_output_folder(tmp_path: Path, cache_dir: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(GOOD, encoding="utf-8")
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    result = run_studio("render", str(essay), "--out", str(blocker / "out"))
    assert_one_line_error(result, "cannot create output folder")


def test_bad_bitrate(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(GOOD, encoding="utf-8")
    result = run_studio("render", str(essay), "--bitrate", "100", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "bitrate", "96")


def test_bad_lexicon(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(GOOD, encoding="utf-8")
    lexicon = tmp_path / "words.toml"
    lexicon.write_text("[words\n", encoding="utf-8")
    result = run_studio("script", str(essay), "--lexicon", str(lexicon))
    assert_one_line_error(result, "words.toml")


def test_script_json_shape() -> None:
    result = run_studio("script", str(REPO / "examples" / "essay.md"), "--json")
    assert result.returncode == 0, result.stderr
    script = json.loads(result.stdout)
    assert script["title"] == "The Price of a Sentence"
    assert [c["title"] for c in script["chapters"]] == [
        "The Price of a Sentence",
        "What changed",
        "How the pipeline works",
        "What I'd tell another writer",
    ]
    first = script["chapters"][0]["segments"][0]
    assert set(first) == {"text", "source"}
    assert first["text"] == "The Price of a Sentence."


def test_script_applies_a_lexicon(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text("# Tools\n\nWe deploy with Nginx every day.\n", encoding="utf-8")
    lexicon = tmp_path / "words.toml"
    lexicon.write_text('[words]\n"Nginx" = "engine x"\n', encoding="utf-8")
    result = run_studio("script", str(essay), "--json", "--lexicon", str(lexicon))
    assert result.returncode == 0, result.stderr
    texts = [s["text"] for c in json.loads(result.stdout)["chapters"] for s in c["segments"]]
    assert "We deploy with engine x every day." in texts


def test_say_writes_a_wav(tmp_path: Path, cache_dir: Path) -> None:
    wav = tmp_path / "o1.wav"
    result = run_studio("say", "The o1 model costs $15/M tokens.", "-o", str(wav))
    assert result.returncode == 0, result.stderr
    assert "oh one" in result.stdout
    audio, rate = sf.read(wav)
    assert rate == 44100 and 1.5 < len(audio) / rate < 8


def test_say_refuses_empty_text(tmp_path: Path) -> None:
    assert_one_line_error(run_studio("say", "   ", "-o", str(tmp_path / "x.wav")), "nothing")
    assert not (tmp_path / "x.wav").exists()
