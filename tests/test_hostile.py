"""Hostile and careless input: every case fails cleanly, in one line, or is read right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.ingest import MAX_ESSAY_BYTES, MAX_HTML_DEPTH, parse_html, parse_markdown
from tests.conftest import run_studio
from tests.test_cli import assert_one_line_error


@pytest.mark.parametrize("depth", [600, 100_000])
def test_deeply_nested_html_is_refused_in_one_line(tmp_path: Path, depth: int) -> None:
    # 600 divs overflowed the recursive walk; 100,000 took minutes in the parser first.
    essay = tmp_path / "nested.html"
    essay.write_text("<div>" * depth + "<p>Deep inside.</p>" + "</div>" * depth)
    result = run_studio("script", str(essay))
    assert_one_line_error(result, "nested.html", f"more than {MAX_HTML_DEPTH} deep")


def test_html_nested_just_under_the_bound_is_read() -> None:
    depth = MAX_HTML_DEPTH - 10
    for html in (
        "<div>" * depth + "<p>Deep <b><i>inside</i></b>.</p>" + "</div>" * depth,
        "<blockquote>" * depth + "<p>Deep inside.</p>" + "</blockquote>" * depth,
        "<ul>" + "<li>Level<ul>" * (depth // 2) + "<li>Deep inside." + "</ul>" * (depth // 2 + 1),
    ):
        essay = parse_html(html, slug_hint="deep")
        assert "Deep inside" in repr(essay)


def test_unclosed_paragraphs_are_not_nesting() -> None:
    html = "<article><h1>Many</h1>" + "<p>An unclosed paragraph." * 2000 + "</article>"
    essay = parse_html(html, slug_hint="many")
    assert repr(essay).count("An unclosed paragraph.") == 2000


def test_markdown_with_a_deep_html_block_is_refused() -> None:
    with pytest.raises(StudioError, match="HTML block"):
        parse_markdown("# T\n\n" + "<div>" * 400 + "x" + "</div>" * 400 + "\n", slug_hint="t")


def test_an_oversized_essay_is_refused_before_it_is_read(tmp_path: Path) -> None:
    essay = tmp_path / "huge.html"
    with essay.open("wb") as file:
        file.truncate(MAX_ESSAY_BYTES + 1)  # sparse: the size alone must refuse it
    result = run_studio("script", str(essay))
    assert_one_line_error(result, "huge.html", "MB", "split it")


@pytest.mark.slow  # renders twice with the bundled voice
def test_a_damaged_cached_take_is_made_again(tmp_path: Path) -> None:
    essay = tmp_path / "short.md"
    essay.write_text("# Short\n\nA first sentence to speak. A second one follows it.\n")
    env = {"STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    first = run_studio("render", str(essay), "--out", str(tmp_path / "one"), env=env)
    assert first.returncode == 0, first.stderr
    # A raw take (its record has no breaths; the cleaned ones do), damaged in its audio frames.
    takes = sorted((tmp_path / "cache").rglob("*.flac"))
    cleaned = [f for f in takes if "breaths" in json.loads(f.with_suffix(".json").read_text())]
    for flac in cleaned:  # so that the render needs the raw takes again
        flac.unlink()
        flac.with_suffix(".json").unlink()
    raw = next(flac for flac in takes if flac not in cleaned)
    data = bytearray(raw.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # damaged in its audio frames
    raw.write_bytes(bytes(data))

    again = run_studio("render", str(essay), "--out", str(tmp_path / "two"), "--force", env=env)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((tmp_path / "two" / "short.json").read_text())
    assert manifest["cache"]["synthesized"] == 1
    assert (tmp_path / "two" / "short.mp3").read_bytes() == (
        tmp_path / "one" / "short.mp3"
    ).read_bytes()


def test_control_characters_in_an_essay_never_reach_the_outputs() -> None:
    text = (
        "---\ntitle: Bad\x01 title\ndescription: With\x1b[31m escape\n---\n\n"
        "## A\x0bheading\n\nA sentence with a\x01control character.\n"
    )
    essay = parse_markdown(text, slug_hint="bad")
    everything = repr(essay)
    for control in ("\\x01", "\\x0b", "\\x1b"):
        assert control not in everything
    assert essay.meta.title == "Bad title"
    assert essay.chapters[-1].title == "A heading"  # a vertical tab separates words
    html = "<article><h1>T&#1;itle</h1><p>Entity&#x1B; refs&#11;too.</p></article>"
    assert "\\x" not in repr(parse_html(html, slug_hint="refs"))


@pytest.mark.parametrize("command", ["script", "render"])
def test_an_impossible_date_is_one_line(tmp_path: Path, command: str) -> None:
    essay = tmp_path / "april.md"
    essay.write_text("---\ntitle: April\ndate: 2025-04-31\n---\n\nA sentence.\n")
    result = run_studio(
        command, str(essay), *(["--out", str(tmp_path)] if command == "render" else [])
    )
    assert_one_line_error(result, "april.md", "2025-04-31")
    assert not list(tmp_path.glob("*.mp3"))


def test_front_matter_dates_and_times_still_read() -> None:
    for written in ("2025-04-30", "'2025-04-30'", "2025-04-30T08:00:00+00:00", "2025-04-30 08:00"):
        essay = parse_markdown(f"---\ndate: {written}\n---\n\nA sentence.\n", slug_hint="d")
        assert str(essay.meta.date) == "2025-04-30", written
