"""The show's site without a browser: pages from plain values, show notes from essays, the
[site] settings, and writing it beside the feed (tests/test_site_browser.py drives Chromium)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

from studio.errors import StudioError
from studio.ingest import parse_html, parse_markdown, parse_text
from studio.manifest import Manifest
from studio.show.config import CONFIG_NAME, load_show
from studio.show.feed import feed_only
from studio.show.guids import assign_guids
from studio.show.init import init_show
from studio.show.plan import plan_episodes
from studio.show.site import transcript, write_site
from studio.site.model import (
    Cue,
    Link,
    SiteChapter,
    SiteEpisode,
    SiteShow,
    TranscriptSection,
)
from studio.site.render import render_site

BASE = "https://example.com/pod"
SHOW = SiteShow(
    title="Tom & Jerry's <Radio>",
    description="Essays, read aloud.",
    author="Ada",
    language="de",
    base_url=BASE,
    feed_url=f"{BASE}/feed.xml",
    cover="cover.png",
    subscribe=(Link("Apple Podcasts", "https://podcasts.apple.com/x"),),
)


def episode(slug: str, day: int, **fields) -> SiteEpisode:
    values = {
        "slug": slug,
        "title": f"Episode {slug} <b>",
        "published": dt.datetime(2026, 11, day, 12, tzinfo=dt.timezone.utc),
        "duration": 125.5,
        "audio": f"{slug}.mp3",
        "audio_bytes": 1_500_000,
        "vtt": f"{slug}.vtt",
        "chapters": (SiteChapter(0.0, "Opening"), SiteChapter(61.0, "Later & more")),
        "transcript": (
            TranscriptSection(
                "Opening",
                ((Cue(1.0, 2.0, "One <i>."), Cue(2.3, 4.0, "Two.")), (Cue(5.0, 6.0, "Three."),)),
                heading=Cue(0.2, 0.8, "Opening."),
            ),
        ),
        "notes": '<p>Read <a href="https://example.org/x">this</a>.</p><h2>Part</h2>',
    }
    return SiteEpisode(**{**values, **fields})


def parsed(files: dict[str, bytes], name: str) -> LexborNode:
    return LexborHTMLParser(files[name].decode("utf-8")).root


# --- pages from plain values --------------------------------------------------------------------


def test_the_site_has_an_index_a_page_and_an_embed_per_episode() -> None:
    episodes = [episode("a", 1), episode("c", 9), episode("b", 5, page=False)]
    files = render_site(SHOW, episodes)
    assert sorted(files) == [
        "assets/studio.css",
        "assets/studio.js",
        "embed/a.html",
        "embed/c.html",
        "episodes/a.html",
        "episodes/c.html",
        "index.html",
    ]
    index = parsed(files, "index.html")
    assert index.attributes.get("lang") == "de"
    titles = [h.text() for h in index.css(".episodes h3")]
    assert titles == ["Episode c <b>", "Episode b <b>", "Episode a <b>"]  # newest first
    assert [a.attributes.get("href") for a in index.css(".subscribe a")] == [
        f"{BASE}/feed.xml",
        "https://podcasts.apple.com/x",
    ]
    assert b"<b>" not in files["index.html"]  # escaped everywhere


def test_episode_page_has_player_chapters_transcript_notes_and_tags() -> None:
    page = parsed(render_site(SHOW, [episode("a", 1)]), "episodes/a.html")
    assert page.css("audio")[0].attributes.get("src") == "../a.mp3"
    seeks = [a.attributes.get("data-seek") for a in page.css(".chapters a[data-seek]")]
    assert seeks == ["0.000", "61.000"]
    cues = page.css(".transcript .cue")
    assert [c.text() for c in cues] == ["Opening.", "One <i>.", "Two.", "Three."]
    assert [c.attributes.get("tabindex") for c in cues] == ["0", "-1", "-1", "-1"]  # one tab stop
    assert len(page.css(".transcript p")) == 2
    assert page.css(".transcript h3 .cue")[0].attributes.get("data-start") == "0.200"
    notes = page.css(".notes")[0]
    assert notes.css("a")[0].attributes.get("href") == "https://example.org/x"
    assert notes.css("h3")[0].text() == "Part"  # under the page's "Show notes"
    head = {
        (m.attributes.get("property") or m.attributes.get("name")): m.attributes.get("content")
        for m in page.css("meta")
    }
    assert head["og:url"] == f"{BASE}/episodes/a.html"
    assert head["og:audio"] == f"{BASE}/a.mp3"
    assert head["twitter:player"] == f"{BASE}/embed/a.html"
    assert head["twitter:card"] == "player"
    (feed,) = page.css('link[rel="alternate"]')
    assert (feed.attributes.get("type"), feed.attributes.get("href")) == (
        "application/rss+xml",
        f"{BASE}/feed.xml",
    )
    assert page.css("time")[0].attributes.get("datetime") == "2026-11-01"


def test_pages_load_nothing_from_the_network_and_every_local_link_resolves(
    tmp_path: Path,
) -> None:
    files = render_site(SHOW, [episode("a", 1), episode("b", 2)])
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    for name in ("cover.png", "a.mp3", "b.mp3", "a.vtt", "b.vtt"):
        (tmp_path / name).write_bytes(b"x")
    for name in files:
        if not name.endswith(".html"):
            continue
        page = parsed(files, name)
        loaded = [e.attributes.get("src") for e in page.css("img, script, audio, iframe")]
        loaded += [
            e.attributes.get("href") for e in page.css('link[rel="stylesheet"], link[rel="icon"]')
        ]
        for reference in loaded:
            assert reference and not urlsplit(reference).scheme, (name, reference)
            assert (tmp_path / name).parent.joinpath(reference).resolve().is_file(), reference
        for anchor in page.css("a"):
            href = anchor.attributes.get("href") or ""
            if urlsplit(href).scheme or href.startswith("#"):
                continue
            target = (tmp_path / name).parent.joinpath(href.split("#")[0]).resolve()
            assert target.is_file(), (name, href)
        for image in page.css("img"):
            assert image.attributes.get("alt") is not None, name


def test_a_shows_own_templates_replace_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '{% extends "base.html" %}{% block body %}<p class="mine">{{ show.title }}: '
        "{{ episodes | length }}</p>{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "studio.css").write_text("body { color: red }\n", encoding="utf-8")
    files = render_site(SHOW, [episode("a", 1)], templates=tmp_path)
    assert parsed(files, "index.html").css(".mine")[0].text() == "Tom & Jerry's <Radio>: 1"
    assert files["assets/studio.css"] == b"body { color: red }\n"
    assert b'class="chapters"' in files["episodes/a.html"]  # the rest are studio's


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{% block body %}{{ show.titel }}{% endblock %}", "titel"),
        ("{% if %}", "index.html, line 1"),
    ],
)
def test_a_broken_template_is_one_clear_error(tmp_path: Path, template: str, fragment: str):
    (tmp_path / "index.html").write_text(template, encoding="utf-8")
    with pytest.raises(StudioError, match="site template") as error:
        render_site(SHOW, [], templates=tmp_path)
    assert fragment in str(error.value) and "\n" not in str(error.value)


# --- show notes from the essay ------------------------------------------------------------------


def test_markdown_notes_keep_links_emphasis_and_footnotes_without_the_title() -> None:
    essay = parse_markdown(
        "---\ntitle: On Cats\n---\n\n# On Cats\n\nRead [the study](https://ex.org/s) *now*[^1]."
        "\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n\n![a cat](cat.png)\n\n"
        "[^1]: A note.\n",
        slug_hint="cats",
    )
    notes = LexborHTMLParser(f"<div>{essay.notes}</div>").body
    assert not notes.css("h1")  # the title is the page's heading
    (study, ref, back) = notes.css("a")
    assert (study.text(), study.attributes.get("href")) == ("the study", "https://ex.org/s")
    assert ref.attributes.get("href") == "#fn1" and back.attributes.get("href") == "#fnref1"
    assert "javascript:" not in str([a.attributes for a in notes.css("a")])
    assert notes.css("em")[0].text() == "now"
    assert "<script" not in essay.notes and "alert(1)</" not in essay.notes
    assert not notes.css("img") and "<p></p>" not in essay.notes


def test_html_notes_drop_page_chrome_and_resolve_relative_links() -> None:
    essay = parse_html(
        '<html><head><link rel="canonical" href="https://news.ex.org/p/cats">'
        "</head><body><nav><a href='/'>Home</a></nav><article><h1>Cats</h1>"
        '<p onclick="x()">See <a href="/p/dogs">dogs</a> and <a href="#top">up</a>.</p>'
        '<div class="subscription-widget"><p>Subscribe now</p></div>'
        '<p style="color:red"><strong>Bold</strong> <img src="a.png" alt="A"></p>'
        "</article></body></html>",
        slug_hint="cats",
    )
    notes = LexborHTMLParser(f"<div>{essay.notes}</div>").body
    hrefs = [a.attributes.get("href") for a in notes.css("a")]
    assert hrefs == ["https://news.ex.org/p/dogs", "#top"]
    assert "Subscribe" not in essay.notes and "Home" not in essay.notes
    assert "onclick" not in essay.notes and "style" not in essay.notes
    assert notes.css("strong")[0].text() == "Bold" and not notes.css("h1")


def test_text_notes_link_bare_urls_and_escape_the_rest() -> None:
    essay = parse_text("A Title\n\nSee https://ex.org/a. Then 1 < 2 & 3.\n\nMore", slug_hint="t")
    assert essay.notes == (
        '<p>See <a href="https://ex.org/a" rel="noopener">https://ex.org/a</a>. '
        "Then 1 &lt; 2 &amp; 3.</p><p>More</p>"
    )


# --- the transcript from the captions -----------------------------------------------------------


def manifest_of(segments: list[tuple[int, str, float, float]], chapters: list[str]) -> Manifest:
    return Manifest.model_validate(
        {
            "studio": "test",
            "render_key": "",
            "essay": {"title": "T", "slug": "t", "author": "", "date": None, "description": ""},
            "voice": {},
            "duration": segments[-1][3] + 1,
            "loudness": {"integrated_lufs": -16.0, "true_peak_dbtp": -1.5},
            "cache": {"hits": 0, "synthesized": 0, "retries": 0},
            "breaths": {"mode": "off", "found": 0, "seconds": 0.0},
            "chapters": [
                {"title": title, "start": float(i), "end": float(i + 1)}
                for i, title in enumerate(chapters)
            ],
            "segments": [
                {
                    "chapter": chapter,
                    "text": text.lower(),
                    "source": text,
                    "start": start,
                    "end": end,
                    "cached": True,
                    "attempts": 1,
                    "key": "k",
                }
                for chapter, text, start, end in segments
            ],
            "sizes": {},
        }
    )


def test_the_transcript_is_the_captions_by_chapter_and_paragraph() -> None:
    manifest = manifest_of(
        [
            (0, "The Title.", 0.4, 2.0),
            (0, "One.", 3.2, 4.0),
            (0, "Two.", 4.35, 5.0),  # a sentence pause: same paragraph
            (0, "Three.", 5.8, 6.5),  # a paragraph pause
            (0, "", 7.0, 7.5),  # a code note with no words: no caption
            (1, "Part two.", 9.0, 10.0),
            (1, "Four.", 10.7, 11.0),
        ],
        ["The Title", "Part two"],
    )
    sections = transcript(manifest, paragraph_gap=0.575)
    assert [s.title for s in sections] == ["The Title", "Part two"]
    assert [s.heading.text if s.heading else None for s in sections] == ["The Title.", "Part two."]
    words = [[[c.text for c in p] for p in s.paragraphs] for s in sections]
    assert words == [[["One.", "Two."], ["Three."]], [["Four."]]]
    assert sections[0].paragraphs[0][0].start == 3.2


# --- the settings, and the site written beside the feed -----------------------------------------


def fake_show(folder: Path, slugs: list[str], *, extra_config: str = "") -> Path:
    """A show whose episodes look built (manifests, MP3 bytes) without synthesizing anything."""
    init_show(folder, title="Fake Show")
    (folder / "essays" / "welcome.md").unlink()
    config = folder / CONFIG_NAME
    config.write_text(extra_config + config.read_text(encoding="utf-8"), encoding="utf-8")
    for number, slug in enumerate(slugs, 1):
        (folder / "essays" / f"{slug}.md").write_text(
            f"---\ntitle: Essay {slug}\ndate: 2026-11-0{number}\n---\n\n"
            f"Words of {slug}, with [a link](https://ex.org/{slug}).\n",
            encoding="utf-8",
        )
        manifest = manifest_of([(0, f"Essay {slug}.", 0.4, 1.5), (0, "Words.", 2.0, 3.0)], [""])
        (folder / ".studio" / "manifests").mkdir(parents=True, exist_ok=True)
        manifest.write(folder / ".studio" / "manifests" / f"{slug}.json")
        (folder / "public").mkdir(exist_ok=True)
        (folder / "public" / f"{slug}.mp3").write_bytes(b"\xff\xfb" * 64)
    return folder


def site_state(public: Path) -> dict[str, tuple[int, bytes]]:
    files = [p for p in public.rglob("*.html")] + list((public / "assets").iterdir())
    return {p.relative_to(public).as_posix(): (p.stat().st_mtime_ns, p.read_bytes()) for p in files}


def build_site(folder: Path, **options):
    show = load_show(folder)
    feed_only(show, **options)
    return write_site(show, assign_guids(show, plan_episodes(show)))


def test_the_site_is_written_once_and_an_unchanged_rebuild_rewrites_nothing(
    tmp_path: Path,
) -> None:
    folder = fake_show(tmp_path / "show", ["one", "two"])
    report = build_site(folder)
    public = folder / "public"
    assert report.pages == 2 and {s for s, _ in report.snippets} == {"one", "two"}
    assert (public / "episodes" / "two.html").is_file()
    page = LexborHTMLParser((public / "episodes" / "one.html").read_text()).root
    assert page.css(".notes a")[0].attributes.get("href") == "https://ex.org/one"
    before = site_state(public)
    again = build_site(folder)
    assert not again.changed and again.snippets == () and again.pages == 2
    assert site_state(public) == before
    # A page gone is written again; a link changed in an essay changes its page alone.
    (public / "episodes" / "one.html").unlink()
    assert build_site(folder).written == ("episodes/one.html",)
    essay = folder / "essays" / "two.md"
    essay.write_text(essay.read_text().replace("https://ex.org/two", "https://ex.org/2"))
    assert build_site(folder).written == ("episodes/two.html",)
    assert 'href="https://ex.org/2"' in (public / "episodes" / "two.html").read_text()
    # The feed links to the pages: the item to its episode's, the show to the index.
    feed = etree.parse(str(public / "feed.xml")).getroot()
    assert feed.findtext("channel/link") == "https://example.com/podcast/index.html"
    links = sorted(item.findtext("link") for item in feed.iterfind("channel/item"))
    assert links == [f"https://example.com/podcast/episodes/{s}.html" for s in ("one", "two")]


def test_pages_of_episodes_gone_from_the_feed_are_removed(tmp_path: Path) -> None:
    folder = fake_show(tmp_path / "show", ["one", "two"])
    build_site(folder)
    (folder / "essays" / "two.md").unlink()
    report = build_site(folder, allow_removals=True)
    assert report.removed == ("episodes/two.html", "embed/two.html")
    assert not (folder / "public" / "episodes" / "two.html").exists()
    assert (folder / "public" / "episodes" / "one.html").exists()


def test_an_essay_that_fails_keeps_its_page_and_its_place_on_the_index(tmp_path: Path) -> None:
    folder = fake_show(tmp_path / "show", ["one", "two"])
    build_site(folder)
    page = folder / "public" / "episodes" / "two.html"
    before = page.read_bytes()
    (folder / "essays" / "two.md").write_text("---\ntitle: [broken\n---\n\nText.\n")
    report = build_site(folder)  # the feed keeps the episode as published
    assert report.pages == 1 and page.read_bytes() == before and report.removed == ()
    index = LexborHTMLParser((folder / "public" / "index.html").read_text()).root
    titles = [h.text() for h in index.css(".episodes h3")]
    assert titles == ["Essay two", "Essay one"]
    hrefs = [a.attributes.get("href") for a in index.css(".episodes h3 a")]
    assert hrefs == ["episodes/two.html", "episodes/one.html"]


def test_site_false_writes_no_site_and_the_feed_links_as_before(tmp_path: Path) -> None:
    folder = fake_show(tmp_path / "show", ["one"], extra_config="site = false\n")
    config = folder / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("\n[site]\n")], encoding="utf-8")  # no [site] table
    assert build_site(folder) is None
    assert not (folder / "public" / "index.html").exists()
    feed = etree.parse(str(folder / "public" / "feed.xml")).getroot()
    assert feed.findtext("channel/link") == "https://example.com/podcast"
    assert feed.findtext("channel/item/link") == "https://example.com/podcast"


def test_site_settings_are_checked(tmp_path: Path) -> None:
    folder = fake_show(tmp_path / "show", ["one"])
    config = folder / CONFIG_NAME
    seed = config.read_text(encoding="utf-8")
    config.write_text(seed.replace('spotify = ""', 'spotify = "open.spotify.com/x"'))
    with pytest.raises(StudioError, match=r"site\.spotify.*absolute"):
        load_show(folder)
    config.write_text(seed.replace('# templates = "site"', 'templates = "mine"'))
    with pytest.raises(StudioError, match=r"site\.templates: mine is not a folder"):
        load_show(folder)
    config.write_text(seed.replace('# templates = "site"', 'templates = "../elsewhere"'))
    with pytest.raises(StudioError, match="outside the show folder"):
        load_show(folder)
    (folder / "mine").mkdir()
    (folder / "mine" / "embed.html").write_text("<p>{{ episode.title }}</p>", encoding="utf-8")
    config.write_text(
        seed.replace('# templates = "site"', 'templates = "mine"').replace(
            "[site.other]\n", '[site.other]\n"Podcast Index" = "https://podcastindex.org/p/1"\n'
        )
    )
    build_site(folder)
    public = folder / "public"
    assert (public / "embed" / "one.html").read_text() == "<p>Essay one</p>"
    index = LexborHTMLParser((public / "index.html").read_text()).root
    labels = [a.text() for a in index.css(".subscribe a")]
    assert labels == ["RSS feed", "Podcast Index"]
