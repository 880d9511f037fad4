"""Hostile and careless input: every case fails cleanly, in one line, or is read right."""

from __future__ import annotations

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
