"""The show's site in a real browser: Debian's Chromium, headless, driven by Playwright.

One two-episode show is built through the CLI for the whole module and served from an HTTP
server on 127.0.0.1 that answers range requests, as static hosts do (seeking needs them).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_studio

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
SECOND = """---
title: Cats & Dogs <3
date: 2026-11-08
description: Why cats sleep & dogs run.
episode: 2
link: https://example.com/blog/cats
---

Cats sleep all day. Dogs do not. Read [the study](https://example.org/study) first.

## Why it matters

Because *sleep* matters. Dogs run far, and they come back.
"""

pytestmark = pytest.mark.slow


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with byte ranges (`Range: bytes=a-b`), as every real static host serves
    them: a browser can only seek in audio whose server answers ranges."""

    def send_head(self):  # type: ignore[override]
        header = self.headers.get("Range")
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", header or "")
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first = int(match[1]) if match[1] else max(size - int(match[2] or 0), 0)
        last = int(match[2]) if match[1] and match[2] else size - 1
        last = min(last, size - 1)
        if first > last:
            self.send_error(416)
            return None
        stream = path.open("rb")
        stream.seek(first)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self._remaining = last - first + 1
        return stream

    def copyfile(self, source, outputfile):  # type: ignore[override]
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0:
            chunk = source.read(min(65536, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)
        self._remaining = None
        return None

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(RangeHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, str]:
    """`studio init` (its sample essay), one more essay, `studio build`: the show and its output."""
    folder = tmp_path_factory.mktemp("site") / "show"
    result = run_studio("init", str(folder), "--title", "Tom & Jerry's <Radio>")
    assert result.returncode == 0, result.stderr
    (folder / "essays" / "second.md").write_text(SECOND, encoding="utf-8")
    config = folder / "studio.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        'apple_podcasts = ""', 'apple_podcasts = "https://podcasts.apple.com/podcast/id1"'
    )
    config.write_text(text, encoding="utf-8")
    result = run_studio("build", "--config", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return folder, result.stdout


@pytest.fixture(scope="module")
def browser(built: tuple[Path, str]) -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(built: tuple[Path, str]) -> Iterator[str]:
    with serve(built[0] / "public") as url:
        yield url


@contextlib.contextmanager
def page_of(browser, url: str) -> Iterator[object]:
    """A fresh page at `url`; fails the test if the page logged any console error."""
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    page.goto(url)
    page.wait_for_load_state("load")
    yield page
    assert problems == []
    context.close()


def test_the_build_writes_the_site_and_prints_the_embed_snippet(built: tuple[Path, str]) -> None:
    folder, stdout = built
    public = folder / "public"
    for name in ("index.html", "assets/studio.css", "assets/studio.js"):
        assert (public / name).is_file(), name
    for slug in ("second", "welcome"):
        assert (public / "episodes" / f"{slug}.html").is_file()
        assert (public / "embed" / f"{slug}.html").is_file()
        assert f'<iframe src="https://example.com/podcast/embed/{slug}.html"' in stdout
    again = run_studio("build", "--config", str(folder))
    assert again.returncode == 0, again.stderr
    assert re.search(r"(?m)^unchanged .*index\.html \(2 episode pages\)$", again.stdout)
    assert "<iframe" not in again.stdout


def test_index_lists_episodes_newest_first_with_subscribe_links(browser, site: str) -> None:
    with page_of(browser, f"{site}/index.html") as page:
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.title() == "Tom & Jerry's <Radio>"
        titles = page.locator(".episodes h3").all_inner_texts()
        assert titles == ["Cats & Dogs <3", "Why This Newsletter Now Has an Audio Edition"]
        cover = page.locator("img.cover")
        assert cover.get_attribute("alt") == "Cover art of Tom & Jerry's <Radio>"
        assert page.evaluate("document.querySelector('img.cover').naturalWidth") >= 1400
        links = dict(
            zip(
                page.locator(".subscribe a").all_inner_texts(),
                [a.get_attribute("href") for a in page.locator(".subscribe a").all()],
                strict=True,
            )
        )
        assert links == {
            "RSS feed": "https://example.com/podcast/feed.xml",
            "Apple Podcasts": "https://podcasts.apple.com/podcast/id1",
        }
        page.get_by_role("link", name="Cats & Dogs <3").click()
        page.wait_for_load_state("load")
        assert page.url == f"{site}/episodes/second.html"
        for image in page.locator("img").all():
            assert image.get_attribute("alt") is not None


def test_a_chapter_seeks_and_the_transcript_follows_the_audio(browser, site: str) -> None:
    with page_of(browser, f"{site}/episodes/welcome.html") as page:
        assert page.locator("audio").evaluate("a => a.controls") is False  # ours replace them
        chapters = page.locator(".chapters a")
        assert chapters.count() == 3
        target = float(chapters.nth(1).get_attribute("data-seek"))
        assert target > 10
        chapters.nth(1).click()
        time = page.locator("audio").evaluate("a => a.currentTime")
        assert target - 0.01 <= time < target + 2
        page.wait_for_function(
            "t => document.querySelector('audio').currentTime > t", arg=target + 0.3
        )
        page.locator(".cue.current").wait_for()
        assert chapters.nth(1).get_attribute("aria-current") == "true"
        current = page.locator(".cue.current")
        assert current.count() == 1
        first = current.inner_text()
        start = float(current.get_attribute("data-start"))
        assert start <= target + 2
        # Playing on, the highlight moves to the next sentence, and the player says where it is.
        page.wait_for_function(
            "s => { const c = document.querySelector('.cue.current');"
            " return c && parseFloat(c.dataset.start) > s; }",
            arg=start,
            timeout=20_000,
        )
        assert page.locator(".cue.current").inner_text() != first
        assert page.locator(".cue.current").count() == 1
        assert page.locator("[data-play]").get_attribute("aria-label") == "Pause"
        # A sentence clicked plays from its start.
        last = page.locator(".cue").last
        last_start = float(last.get_attribute("data-start"))
        last.click()
        time = page.locator("audio").evaluate("a => a.currentTime")
        assert last_start - 0.01 <= time < last_start + 2
        page.locator("[data-play]").click()
        assert page.locator("audio").evaluate("a => a.paused") is True


def test_the_page_works_from_the_keyboard(browser, site: str) -> None:
    with page_of(browser, f"{site}/episodes/welcome.html") as page:
        page.locator("[data-play]").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("!document.querySelector('audio').paused")
        page.keyboard.press("Space")
        page.wait_for_function("document.querySelector('audio').paused")
        page.locator("[data-speed]").select_option("1.5")
        assert page.locator("audio").evaluate("a => a.playbackRate") == 1.5
        cues = page.locator(".cue")
        cues.first.focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("document.activeElement.dataset.start")
        assert focused == cues.nth(2).get_attribute("data-start")
        page.keyboard.press("Enter")
        time = page.locator("audio").evaluate("a => a.currentTime")
        assert abs(time - float(focused)) < 1.5
        # One tab stop for the transcript: every other sentence is out of the tab order.
        assert page.locator('.cue[tabindex="0"]').count() == 1


def test_episode_page_head_unfurls_and_keeps_the_essays_links(browser, site: str) -> None:
    with page_of(browser, f"{site}/episodes/second.html") as page:

        def meta(key: str) -> str:
            selector = f'meta[property="{key}"], meta[name="{key}"]'
            return page.locator(selector).get_attribute("content")

        base = "https://example.com/podcast"
        assert meta("og:title") == "Cats & Dogs <3"
        assert meta("og:url") == f"{base}/episodes/second.html"
        assert meta("og:audio") == f"{base}/second.mp3"
        assert meta("og:image") == f"{base}/cover.png"
        assert meta("twitter:card") == "player"
        assert meta("twitter:player") == f"{base}/embed/second.html"
        feed = page.locator('link[rel="alternate"][type="application/rss+xml"]')
        assert feed.get_attribute("href") == f"{base}/feed.xml"
        notes = page.locator(".notes")
        link = notes.get_by_role("link", name="the study")
        assert link.get_attribute("href") == "https://example.org/study"
        assert notes.locator("em").inner_text() == "sleep"
        assert page.get_by_role("link", name="Read the essay").get_attribute("href") == (
            "https://example.com/blog/cats"
        )
        download = page.get_by_role("link", name=re.compile("Download the MP3"))
        assert download.get_attribute("href") == "../second.mp3"
        assert page.locator("time").get_attribute("datetime") == "2026-11-08"
        snippet = page.locator("textarea").input_value()
        assert snippet.startswith(f'<iframe src="{base}/embed/second.html"')


def test_the_embed_plays_in_an_iframe(browser, site: str, built: tuple[Path, str]) -> None:
    public = built[0] / "public"
    host = public / "host-test.html"  # a blog post embedding the player, served beside it
    host.write_text(
        '<!doctype html><html lang="en"><title>A post</title><link rel="icon" href="data:,">'
        "<p>Listen:</p>"
        '<iframe src="embed/welcome.html" title="Episode" width="600" height="180" '
        'style="border:0"></iframe>',
        encoding="utf-8",
    )
    try:
        with page_of(browser, f"{site}/host-test.html") as page:
            frame = page.frame_locator("iframe")
            play = frame.locator("[data-play]")
            play.wait_for()
            assert frame.locator("h1").inner_text() == (
                "Why This Newsletter Now Has an Audio Edition"
            )
            menu = frame.locator("[data-chapters]")
            values = [o.get_attribute("value") for o in menu.locator("option").all()]
            assert len(values) == 3
            menu.select_option(values[2])
            audio = frame.locator("audio")
            assert audio.evaluate("a => a.currentTime") >= float(values[2]) - 0.01
            audio.evaluate("a => a.pause()")
            play.click()
            start = audio.evaluate("a => a.currentTime")
            audio.evaluate(
                "(a, t) => new Promise(r => { const f = () => a.currentTime > t + 0.5 ? r() :"
                " setTimeout(f, 50); f(); })",
                start,
            )
            frame.locator("[data-speed]").select_option("2")
            assert audio.evaluate("a => a.playbackRate") == 2
            frame.locator("[data-scrub]").fill("5")  # the range input, moved by the reader
            assert abs(audio.evaluate("a => a.currentTime") - 5) < 1.5
            box = page.locator("iframe").bounding_box()
            inner = frame.locator("body").evaluate("b => b.scrollHeight")
            assert inner <= box["height"] + 1  # fits its iframe: no scrollbar in the post
    finally:
        host.unlink()


def test_pages_work_from_file_urls(browser, built: tuple[Path, str], tmp_path: Path) -> None:
    public = tmp_path / "copy"
    shutil.copytree(built[0] / "public", public)
    with page_of(browser, (public / "index.html").as_uri()) as page:
        page.get_by_role("link", name="Why This Newsletter Now Has an Audio Edition").click()
        page.wait_for_load_state("load")
        page.locator(".chapters a").nth(2).click()
        target = float(page.locator(".chapters a").nth(2).get_attribute("data-seek"))
        assert page.locator("audio").evaluate("a => a.currentTime") >= target - 0.01
        page.locator("[data-play]").click()
        page.locator(".home").click()
        page.wait_for_load_state("load")
        assert page.url == (public / "index.html").as_uri()


def test_dark_theme_follows_the_system(browser, site: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(f"{site}/index.html")
        colours[scheme] = page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        )
        context.close()
    assert colours["light"] != colours["dark"]
