"""A show folder: its config, planning and guids (fast), and a real build through the CLI."""

from __future__ import annotations

import io
import json
import re
import shutil
import uuid
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree
from mutagen.mp3 import MP3
from PIL import Image

from studio.cover import check_cover, make_cover
from studio.errors import StudioError
from studio.publish.feed import ITUNES, PODCAST, podcast_guid
from studio.show.config import CONFIG_NAME, load_show
from studio.show.guids import GUIDS_PATH, assign_guids
from studio.show.init import SEEDS, init_show
from studio.show.lock import output_lock
from studio.show.plan import plan_episodes
from tests.conftest import run_studio
from tests.test_cli import assert_one_line_error

NS = {"itunes": ITUNES, "podcast": PODCAST}
SHOW_TITLE = "Tom & Jerry's <Radio> ]]>"
BASE = "https://example.com/podcast"

# Tiny essays keep the real builds fast.
SECOND = """---
title: Cats & Dogs <3
date: 2026-11-08
description: "Tom & Jerry <b>not bold</b> ]]> the end"
episode: 2
---

Cats sleep all day. Dogs do not.
"""
DRAFT = """---
title: Not Ready
date: 2026-11-09
draft: true
---

This essay is not finished.
"""


def essay(
    title: str, date: str = "2026-11-02", body: str = "A short line to read.", **extra
) -> str:
    front = "".join(f"{key}: {value}\n" for key, value in extra.items())
    return f"---\ntitle: {title}\ndate: {date}\n{front}---\n\n{body}\n"


@pytest.fixture
def show_dir(tmp_path: Path) -> Path:
    """A show from the seeds, with no essays yet."""
    folder = tmp_path / "show"
    init_show(folder)
    shutil.rmtree(folder / "essays")
    (folder / "essays").mkdir()
    return folder


def set_config(folder: Path, old: str, new: str) -> None:
    config = folder / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('email = "you@example.com"', 'email = "not an address"', ["show.owner.email", "email"]),
        ('email = "you@example.com"\n', "", ["show.owner.email", "Field required"]),
        ('category = "Society & Culture"', 'category = "Tech"', ["show.category", "Technology"]),
        (
            'subcategory = "Personal Journals"',
            'subcategory = "Cooking"',
            ["show.subcategory", "Philosophy"],
        ),
        ("explicit = false", 'explicit = "clean"', ["show.explicit", "boolean"]),
        ('type = "episodic"', 'type = "weekly"', ["show.type", "episodic"]),
        ('base_url = "https://example.com/podcast"', 'base_url = "example.com"', ["show.base_url"]),
        ('language = "en"', 'language = "English"', ["show.language", "ISO 639"]),
        ("bitrate = 96", "bitrate = 100", ["defaults.bitrate", "kbps"]),
        ("sentence = 0.35", "sentence = -1", ["defaults.pauses.sentence"]),
        ('title = "Essays, Read Aloud"', 'titel = "Essays"', ["show.titel", "unknown setting"]),
        ('essays = "essays/*.md"', 'essays = ["essays/*.md", { path = "x.md", draft = "maybe" }]',
         ["essays[1].draft"]),
        ('essays = "essays/*.md"', 'essays = ["essays/missing.md"]',
         ["essays[0].path", "missing.md does not exist"]),
        ('lexicons = ["lexicon.toml"]', 'lexicons = ["nope.toml"]', ["defaults.lexicons[0]"]),
        ("[defaults.breath]\n", '[defaults.breath]\nmode = "zap"\n', ["defaults.breath: mode"]),
        ('output = "public"', "output = [", ["not valid TOML", "line"]),
    ],
)  # fmt: skip
def test_a_broken_config_names_the_field(
    show_dir: Path, old: str, new: str, fragments: list[str]
) -> None:
    set_config(show_dir, old, new)
    with pytest.raises(StudioError) as caught:
        load_show(show_dir)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(show_dir / CONFIG_NAME))
    for fragment in fragments:
        assert fragment in message, message


def test_breath_settings_are_checked_by_the_breath_model(show_dir: Path) -> None:
    set_config(
        show_dir, "[defaults.breath]\n", '[defaults.breath]\nmode = "cut"\nmin_pause = 0.2\n'
    )
    breath = load_show(show_dir).config.defaults.breath_settings()
    assert breath.mode == "cut" and breath.min_pause == 0.2


def test_description_over_4000_bytes_is_refused(show_dir: Path) -> None:
    long = "é" * 2001  # 4002 bytes
    set_config(show_dir, 'description = "Essays', f'description = "{long}')
    with pytest.raises(StudioError, match=r"show\.description: is \d+ bytes; Apple allows"):
        load_show(show_dir)


@pytest.mark.slow
def test_a_broken_config_is_one_line_on_the_command_line(show_dir: Path) -> None:
    set_config(show_dir, 'email = "you@example.com"', 'email = "nobody"')
    result = run_studio("build", "--config", str(show_dir))
    assert_one_line_error(result, "show.owner.email", "'nobody' is not an email address")
    assert not (show_dir / "public" / "feed.xml").exists()


@pytest.mark.slow
def test_missing_config_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_studio("feed", cwd=tmp_path)
    assert_one_line_error(result, "studio init")


def test_the_seed_config_documents_every_field() -> None:
    from studio.show.config import EpisodeFields, ShowDefaults, ShowInfo, SiteSettings

    seed = (SEEDS / CONFIG_NAME).read_text(encoding="utf-8")
    for model in (ShowInfo, ShowDefaults, SiteSettings):
        for name in model.model_fields:
            pattern = rf"(?m)^(# )?({name} = |\[(show|defaults|site)\.{name}\])"
            assert re.search(pattern, seed), name
    for name in EpisodeFields.model_fields:
        assert re.search(rf"(?m)^#\s+{name}: ", seed), name
    for name in ("output", "essays"):
        assert re.search(rf"(?m)^{name} = ", seed), name


# --- init and the cover ---------------------------------------------------------------------


def test_init_creates_a_show_that_loads(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    written = init_show(folder, title='My "Quoted" & Show', author="Ada Brook")
    names = sorted(p.relative_to(folder).as_posix() for p in written)
    assert names == ["cover.png", "essays/welcome.md", "lexicon.toml", "studio.toml"]
    show = load_show(folder)
    assert show.info.title == 'My "Quoted" & Show' and show.info.author == "Ada Brook"
    assert show.info.owner.name == "Ada Brook" and show.info.copyright.endswith("Ada Brook")
    assert '\nauthor: "Ada Brook"\n' in (folder / "essays" / "welcome.md").read_text()
    check_cover(folder / "cover.png")
    with Image.open(folder / "cover.png") as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.size == (1400, 1400)
    assert (folder / "cover.png").read_bytes() == make_cover('My "Quoted" & Show', "Ada Brook")
    (plan,) = plan_episodes(show)
    assert plan.error is None and plan.slug == "welcome" and not plan.draft

    with pytest.raises(StudioError, match="already exists"):
        init_show(folder)


def test_cover_is_deterministic_and_follows_the_title() -> None:
    assert make_cover("One") == make_cover("One")
    assert make_cover("One") != make_cover("Two")
    with Image.open(io.BytesIO(make_cover("Big", size=3000))) as image:
        assert image.size == (3000, 3000) and image.mode == "RGB"


@pytest.mark.parametrize(
    ("name", "mode", "size", "fragment"),
    [
        ("c.png", "RGBA", (1400, 1400), "RGB"),
        ("c.png", "RGB", (1400, 1300), "square"),
        ("c.png", "RGB", (1000, 1000), "1400 to 3000"),
        ("c.jpg", "RGB", (1400, 1400), "give it a .png name"),
        ("c.gif", "P", (1400, 1400), "PNG or JPEG"),
    ],
)
def test_cover_check_refuses_what_apple_refuses(
    tmp_path: Path, name: str, mode: str, size: tuple[int, int], fragment: str
) -> None:
    path = tmp_path / name
    Image.new(mode, size).save(path, format="GIF" if name.endswith(".gif") else "PNG")
    with pytest.raises(StudioError, match=re.escape(fragment)):
        check_cover(path)


# --- planning and guids ---------------------------------------------------------------------


def test_drafts_overrides_and_plan_errors(show_dir: Path) -> None:
    essays = show_dir / "essays"
    (essays / "a.md").write_text(essay("A", episode=1), encoding="utf-8")
    (essays / "b.md").write_text(essay("B", draft="true"), encoding="utf-8")
    (essays / "c.md").write_text(essay("C", slug="a"), encoding="utf-8")
    (essays / "d.md").write_text("---\ntitle: D\n---\n\nNo date here.\n", encoding="utf-8")
    (essays / "e.md").write_text(essay("E", episode="two"), encoding="utf-8")
    set_config(
        show_dir,
        'essays = "essays/*.md"',
        'essays = ["essays/*.md", { path = "essays/a.md", episode = 7, date = 2026-12-24 }]',
    )
    plans = {p.name: p for p in plan_episodes(load_show(show_dir))}
    assert plans["essays/a.md"].fields.episode == 7  # the config's entry wins
    assert plans["essays/a.md"].published.isoformat() == "2026-12-24T12:00:00+00:00"
    assert plans["essays/b.md"].draft and plans["essays/b.md"].error is None
    assert "slug 'a' of essays/a.md" in plans["essays/c.md"].error
    assert "has no date" in plans["essays/d.md"].error
    assert "front matter episode" in plans["essays/e.md"].error

    set_config(show_dir, 'type = "episodic"', 'type = "serial"')
    (essays / "c.md").unlink()
    plans = {p.name: p for p in plan_episodes(load_show(show_dir))}
    assert plans["essays/a.md"].error is None
    assert (
        "no episode number" in plans["essays/d.md"].error or "no date" in plans["essays/d.md"].error
    )


def test_front_matter_keys_are_read_whatever_their_case(show_dir: Path) -> None:
    text = "---\nTitle: Capitals\nDate: 2026-11-02\nEpisode: 3\nDraft: false\n---\n\nA line.\n"
    (show_dir / "essays" / "a.md").write_text(text, encoding="utf-8")
    (plan,) = plan_episodes(load_show(show_dir))
    assert plan.error is None and plan.title == "Capitals"
    assert plan.fields.episode == 3 and plan.fields.draft is False


def test_a_glob_cannot_give_many_essays_one_episode_number(show_dir: Path) -> None:
    for name in ("a", "b"):
        (show_dir / "essays" / f"{name}.md").write_text(essay(name), encoding="utf-8")
    set_config(
        show_dir, 'essays = "essays/*.md"', 'essays = [{ path = "essays/*.md", episode = 1 }]'
    )
    with pytest.raises(StudioError, match=r"essays\[0\]: episode belong to one essay"):
        plan_episodes(load_show(show_dir))


def guids(folder: Path) -> dict[str, str]:
    show = load_show(folder)
    return {p.slug: p.guid for p in assign_guids(show, plan_episodes(show)) if p.guid}


def test_guids_are_assigned_once_and_survive_retitles_and_renames(show_dir: Path) -> None:
    essays = show_dir / "essays"
    (essays / "first.md").write_text(essay("First"), encoding="utf-8")
    (essays / "second.md").write_text(essay("Second", slug="fixed-slug"), encoding="utf-8")
    (essays / "third.md").write_text(essay("Third"), encoding="utf-8")
    (essays / "mine.md").write_text(essay("Mine", guid="tag:example.com,2020:1"), encoding="utf-8")
    (essays / "later.md").write_text(essay("Later", draft="true"), encoding="utf-8")
    before = guids(show_dir)
    assert set(before) == {"first", "fixed-slug", "third", "mine"}  # drafts get none yet
    assert before["mine"] == "tag:example.com,2020:1"
    assert uuid.UUID(before["first"]).version == 4
    stored = json.loads((show_dir / GUIDS_PATH).read_text(encoding="utf-8"))
    assert len(stored["episodes"]) == 3
    assert guids(show_dir) == before

    (essays / "first.md").write_text(essay("First, Retitled", body="New words."), encoding="utf-8")
    (essays / "second.md").rename(essays / "moved.md")  # same slug in its front matter
    (essays / "third.md").rename(essays / "third-essay.md")  # new slug, same title
    after = guids(show_dir)
    assert after["first"] == before["first"]
    assert after["fixed-slug"] == before["fixed-slug"]
    assert after["third-essay"] == before["third"]

    (essays / "later.md").write_text(essay("Later"), encoding="utf-8")  # published now
    assert guids(show_dir)["later"] not in before.values()


@pytest.mark.slow
def test_the_lock_keeps_a_second_build_out(show_dir: Path) -> None:
    (show_dir / "essays" / "a.md").write_text(essay("A"), encoding="utf-8")
    show = load_show(show_dir)
    with output_lock(show):
        result = run_studio("build", "--config", str(show_dir))
        assert_one_line_error(result, "another studio build is writing to")
        with pytest.raises(StudioError, match="another studio build"), output_lock(show):
            pass
    assert not (show_dir / "public" / "feed.xml").exists()
    with output_lock(show):  # released
        pass


# --- a real show, built through the CLI ---------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """`studio init`, two more essays (one a draft), then `studio build --jobs 2`."""
    folder = tmp_path_factory.mktemp("show") / "show"
    result = run_studio("init", str(folder), "--title", SHOW_TITLE, "--author", "Ada Brook")
    assert result.returncode == 0, result.stderr
    (folder / "essays" / "second.md").write_text(SECOND, encoding="utf-8")
    (folder / "essays" / "draft.md").write_text(DRAFT, encoding="utf-8")
    result = run_studio("build", "--config", str(folder), "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rendered" in result.stdout and "feed.xml (2 episodes)" in result.stdout
    return folder


def public_file(folder: Path, url: str) -> Path:
    assert url.startswith(BASE + "/"), url
    return folder / "public" / url.removeprefix(BASE + "/")


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    files = [*(folder / "public").iterdir(), folder / GUIDS_PATH]
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in files if p.is_file()}


def up_to_date(stdout: str) -> list[str]:
    return re.findall(r"(?m)^up to date +(\S+)", stdout)


@pytest.mark.slow
def test_build_writes_every_episode_the_cover_and_the_feed(built: Path) -> None:
    public = built / "public"
    names = sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file())
    episode_files = [".chapters.json", ".mp3", ".srt", ".vtt"]
    expected = [f"{slug}{suffix}" for slug in ("second", "welcome") for suffix in episode_files]
    site = ["index.html", "assets/studio.css", "assets/studio.js"]
    site += [
        f"{folder}/{slug}.html"
        for folder in ("episodes", "embed")
        for slug in ("second", "welcome")
    ]
    assert names == sorted(
        ["cover.png", "feed.xml", *expected, *site]
    )  # nothing but what is served
    manifests = sorted(p.name for p in (built / ".studio" / "manifests").iterdir())
    assert manifests == ["second.json", "welcome.json"]
    assert (built / "public" / "cover.png").read_bytes() == (built / "cover.png").read_bytes()


@pytest.mark.slow
def test_feedparser_reads_the_real_feed(built: Path) -> None:
    parsed = feedparser.parse((built / "public" / "feed.xml").read_bytes())
    assert not parsed.bozo
    assert parsed.feed.title == SHOW_TITLE
    assert parsed.feed.podcast_guid == podcast_guid(f"{BASE}/feed.xml")
    assert [e.title for e in parsed.entries] == [
        "Cats & Dogs <3",
        "Why This Newsletter Now Has an Audio Edition",
    ]
    assert "Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; ]]&gt; the end" in parsed.entries[0].summary
    assert "00:00 Why This Newsletter" in parsed.entries[1].summary
    assert "00:16 How the episodes are made" in parsed.entries[1].summary
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        mp3 = public_file(built, enclosure.href)
        assert int(enclosure.length) == mp3.stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert int(entry.itunes_duration) == round(MP3(mp3).info.length)
    assert parsed.entries[0].itunes_episode == "2"


@pytest.mark.slow
def test_podcastparser_reads_the_real_feed(built: Path) -> None:
    with (built / "public" / "feed.xml").open("rb") as stream:
        podcast = podcastparser.parse(f"{BASE}/feed.xml", stream)
    assert podcast["title"] == SHOW_TITLE
    assert podcast["itunes_owner"] == {"name": "Ada Brook", "email": "you@example.com"}
    assert podcast["itunes_categories"] == [["Society & Culture", "Personal Journals"]]
    assert podcast["cover_url"] == f"{BASE}/cover.png"
    stored = json.loads((built / GUIDS_PATH).read_text(encoding="utf-8"))["episodes"]
    guid_of = {entry["slug"]: entry["guid"] for entry in stored}
    assert [e["guid"] for e in podcast["episodes"]] == [guid_of["second"], guid_of["welcome"]]
    for episode in podcast["episodes"]:
        (enclosure,) = episode["enclosures"]
        mp3 = public_file(built, enclosure["url"])
        assert enclosure["file_size"] == mp3.stat().st_size
        assert episode["total_time"] == round(MP3(mp3).info.length)
        assert episode["explicit"] is False
    assert "]]&gt; the end" in podcast["episodes"][0]["description_html"]


@pytest.mark.slow
def test_real_feed_tags_and_files(built: Path) -> None:
    root = etree.parse(str(built / "public" / "feed.xml")).getroot()
    channel = root.find("channel")
    assert channel.find("itunes:explicit", NS).text == "false"
    assert channel.find("podcast:locked", NS).text == "yes"
    check_cover(public_file(built, channel.find("itunes:image", NS).get("href")))
    items = channel.findall("item")
    assert len(items) == 2  # the draft never appears
    assert b"Not Ready" not in (built / "public" / "feed.xml").read_bytes()
    for item in items:
        assert item.find("itunes:explicit", NS).text == "false"
        assert item.find("guid").get("isPermaLink") == "false"
        chapters = item.find("podcast:chapters", NS)
        data = json.loads(public_file(built, chapters.get("url")).read_text(encoding="utf-8"))
        assert data["version"] == "1.2.0"
        for transcript in item.findall("podcast:transcript", NS):
            assert public_file(built, transcript.get("url")).is_file()
        assert {t.get("type") for t in item.findall("podcast:transcript", NS)} == {
            "text/vtt",
            "application/x-subrip",
        }


@pytest.mark.slow
def test_unchanged_rebuild_writes_nothing(built: Path) -> None:
    before = snapshot(built)
    result = run_studio("build", "--config", str(built))
    assert result.returncode == 0, result.stderr
    assert up_to_date(result.stdout) == ["second", "welcome"]
    assert "2 essays: 2 up to date; 1 drafts left out" in result.stdout
    assert "unchanged" in result.stdout
    assert snapshot(built) == before


@pytest.mark.slow
def test_feed_command_rewrites_the_same_feed(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    original = (folder / "public" / "feed.xml").read_bytes()
    (folder / "public" / "feed.xml").unlink()
    result = run_studio("feed", "--config", str(folder / CONFIG_NAME))
    assert result.returncode == 0, result.stderr
    assert (folder / "public" / "feed.xml").read_bytes() == original


@pytest.mark.slow
def test_edit_and_retitle_keep_the_guid(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    before = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    guid_before = {e.title: e.id for e in before.entries}
    edited = SECOND.replace("Cats & Dogs <3", "Cats and Dogs").replace("Dogs do not.", "Dogs nap.")
    (folder / "essays" / "second.md").write_text(edited, encoding="utf-8")
    result = run_studio("build", "--config", str(folder), "--only", "second")
    assert result.returncode == 0, result.stderr
    assert "rendered   second" in result.stdout and "welcome (" not in result.stdout
    after = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    assert after.entries[0].title == "Cats and Dogs"
    assert after.entries[0].id == guid_before["Cats & Dogs <3"]
    assert after.entries[1].id == before.entries[1].id
    mp3 = folder / "public" / "second.mp3"
    assert int(after.entries[0].enclosures[0].length) == mp3.stat().st_size
    assert int(after.entries[0].itunes_duration) == round(MP3(mp3).info.length)


@pytest.mark.slow
def test_a_failing_essay_does_not_stop_the_others(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    broken = essay("Broken", date="2026-11-10", voice="nobody")
    (folder / "essays" / "broken.md").write_text(broken, encoding="utf-8")
    feed_before = (folder / "public" / "feed.xml").read_bytes()
    result = run_studio("build", "--config", str(folder))
    assert_one_line_error(result, "1 of 3 essays failed: broken")
    assert "unknown voice 'nobody'" in result.stdout
    assert up_to_date(result.stdout) == ["second", "welcome"]
    assert "3 essays: 2 up to date, 1 failed" in result.stdout
    assert (folder / "public" / "feed.xml").read_bytes() == feed_before
    assert "not built" in result.stdout and "essays/broken.md" in result.stdout
