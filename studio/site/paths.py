"""Where the site's pages sit in the output folder (the feed links to them)."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"  # studio's own, which a show's may replace
STATIC = Path(__file__).parent / "static"
# The site's files besides the pages, by their path in the output folder: name in STATIC.
ASSETS = {"assets/studio.css": "studio.css", "assets/studio.js": "studio.js"}
INDEX = "index.html"  # named in full: a bucket served without a website setup has no folder index


PAGES = "episodes"  # a page per episode
EMBEDS = "embed"  # an embeddable player per episode


def page_path(slug: str) -> str:
    return f"{PAGES}/{slug}.html"


def embed_path(slug: str) -> str:
    return f"{EMBEDS}/{slug}.html"
