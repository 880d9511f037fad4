"""Make the README's screenshots of the show site (docs/img/site-*.png).

Builds a two-essay show (the sample essay and examples/essay.md) with the real CLI, serves its
output on 127.0.0.1 and photographs it in Debian's Chromium (apt-get install -y chromium):

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_site_browser import serve  # noqa: E402  (the tests' range-serving server)

OUT = REPO / "docs" / "img"


def studio(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "studio", *args], env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stdout + result.stderr)
    return result.stdout


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env = {**os.environ, "STUDIO_CACHE_DIR": os.environ.get("STUDIO_CACHE_DIR", "")}
        env["STUDIO_CACHE_DIR"] = env["STUDIO_CACHE_DIR"] or str(scratch / "cache")
        show = scratch / "show"
        studio("init", str(show), "--title", "Essays, Read Aloud", "--author", "Ada Brook", env=env)
        shutil.copy(REPO / "examples" / "essay.md", show / "essays" / "price-of-a-sentence.md")
        config = show / "studio.toml"
        text = config.read_text(encoding="utf-8")
        for key, url in {
            "apple_podcasts": "https://podcasts.apple.com/podcast/id1",
            "spotify": "https://open.spotify.com/show/1",
            "overcast": "https://overcast.fm/itunes1",
        }.items():
            text = text.replace(f'{key} = ""', f'{key} = "{url}"')
        config.write_text(text, encoding="utf-8")
        studio("build", "--config", str(show), env=env)
        public = show / "public"
        (public / "post.html").write_text(
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>A post</title>'
            '<link rel="icon" href="data:,"><body style="font:17px/1.6 Georgia,serif;'
            'max-width:680px;margin:24px auto;padding:0 16px;color:#222">'
            "<h1>The Price of a Sentence</h1><p><em>Listen to this post:</em></p>"
            '<iframe src="embed/price-of-a-sentence.html" title="Listen" width="100%" '
            'height="180" style="border:0;max-width:640px"></iframe>'
            "<p>Every week I publish an essay, and every week a few readers ask for an audio "
            "version. For years the answer was no.</p></body></html>",
            encoding="utf-8",
        )
        with serve(public) as site, sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
            )
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{site}/index.html")
            page.screenshot(path=OUT / "site-index.png")

            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.goto(f"{site}/episodes/price-of-a-sentence.html")
            page.locator(".chapters a").nth(1).click()
            page.wait_for_function("document.querySelector('audio').currentTime > 3")
            page.locator("[data-play]").click()  # paused, with a sentence marked
            page.screenshot(path=OUT / "site-episode.png", full_page=False)

            dark = browser.new_page(viewport={"width": 1000, "height": 900}, color_scheme="dark")
            dark.goto(f"{site}/episodes/price-of-a-sentence.html#t=30")
            dark.locator(".transcript").scroll_into_view_if_needed()
            dark.screenshot(path=OUT / "site-episode-dark.png")

            page = browser.new_page(viewport={"width": 760, "height": 420})
            page.goto(f"{site}/post.html")
            frame = page.frame_locator("iframe")
            frame.locator("[data-chapters]").select_option(index=2)
            page.wait_for_timeout(1500)
            frame.locator("[data-play]").click()
            page.screenshot(path=OUT / "site-embed.png")
            browser.close()
    for name in sorted(OUT.glob("site-*.png")):
        print(f"wrote {name.relative_to(REPO)}")


if __name__ == "__main__":
    main()
