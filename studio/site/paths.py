"""Where the site's pages sit in the output folder (the feed links to them)."""

from __future__ import annotations

INDEX = "index.html"  # named in full: a bucket served without a website setup has no folder index


def page_path(slug: str) -> str:
    return f"episodes/{slug}.html"


def embed_path(slug: str) -> str:
    return f"embed/{slug}.html"
