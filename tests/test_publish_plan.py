"""`studio publish`'s decisions, fast: destinations, what is for listeners, Content-Type and
Cache-Control, the upload order, the feed check, the [publish] table, and a folder publish of a
small hand-made output (the real show goes through test_publish_folder/rsync/s3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.manifest import (
    Manifest,
    ManifestBreaths,
    ManifestCache,
    ManifestEssay,
    ManifestLoudness,
)
from studio.show.config import CONFIG_NAME, load_show
from studio.show.init import init_show
from studio.upload import folder as folder_module
from studio.upload.destinations import parse_destination
from studio.upload.local import (
    IMMUTABLE_CACHE,
    MEDIUM_CACHE,
    SHORT_CACHE,
    cache_control,
    check_feed,
    content_type,
    for_listeners,
    in_upload_order,
    listener_files,
)
from studio.upload.publish import PublishEvent, publish_show
from tests.publish_servers import set_publish

BASE = "https://audio.example.org/essays"


@pytest.mark.parametrize(
    ("text", "kind", "host", "port", "path"),
    [
        ("/srv/www/pod", "folder", "", None, "/srv/www/pod"),
        ("public-copy", "folder", "", None, "public-copy"),
        ("./a:b", "folder", "", None, "a:b"),
        ("file:///mnt/share/pod", "folder", "", None, "/mnt/share/pod"),
        ("ada@example.org:/var/www/pod", "ssh", "ada@example.org", None, "/var/www/pod"),
        ("example.org:pod", "ssh", "example.org", None, "pod"),
        ("ssh://ada@127.0.0.1:2222/srv/pod", "ssh", "ada@127.0.0.1", 2222, "/srv/pod"),
        ("s3://my-bucket", "s3", "my-bucket", None, ""),
        ("s3://my-bucket/shows/walks/", "s3", "my-bucket", None, "shows/walks/"),
    ],
)
def test_destinations_are_read_as_rsync_and_s3_users_write_them(
    text: str, kind: str, host: str, port: int | None, path: str
) -> None:
    destination = parse_destination(text)
    assert (destination.kind, destination.host, destination.port) == (kind, host, port)
    assert destination.path == path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("s3://No_Such", "not a bucket name"),
        ("gs://bucket/x", "gs:// is not a destination"),
        ("ssh://host", "ssh://[user@]host[:port]/path"),
        ("ssh://host:99999/x", "no valid port"),
        ("ada@:/x", "[user@]host:/path"),
    ],
)
def test_a_bad_destination_says_what_to_write(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        parse_destination(text)
    assert fragment in str(caught.value)


def test_content_types_are_those_the_feed_and_apps_expect() -> None:
    assert content_type("feed.xml") == "application/rss+xml"
    assert content_type("walk.mp3") == "audio/mpeg"
    assert content_type("walk.vtt") == "text/vtt"
    assert content_type("walk.srt") == "application/x-subrip"
    assert content_type("walk.chapters.json") == "application/json+chapters"
    assert content_type("search.json") == "application/json"
    assert content_type("episodes/walk.html") == "text/html; charset=utf-8"
    assert content_type("cover.PNG") == "image/png"
    assert content_type("site.css") == "text/css; charset=utf-8"
    assert content_type("LICENSE") == "application/octet-stream"


def test_cache_control_lets_the_feed_refresh_and_keeps_hashed_names_for_good() -> None:
    assert cache_control("feed.xml") == SHORT_CACHE
    assert cache_control("index.html") == cache_control("walk/index.html") == SHORT_CACHE
    assert cache_control("walk.mp3") == MEDIUM_CACHE  # rewritten in place when an essay changes
    assert cache_control("walk.3f9a2b1c.mp3") == IMMUTABLE_CACHE
    assert cache_control("assets/site-0123456789abcdef.css") == IMMUTABLE_CACHE
    assert cache_control("walk.mp3", {"*.mp3": "public, max-age=86400"}) == "public, max-age=86400"
    assert "max-age=300" in SHORT_CACHE and "immutable" in IMMUTABLE_CACHE


@pytest.mark.parametrize(
    ("path", "published"),
    [
        ("walk.mp3", True),
        ("embed/walk.html", True),
        (".studio/guids.json", False),
        (".DS_Store", False),
        ("sub/.hidden/x.mp3", False),
        (".feed.tmp1234.abcdefgh.xml", False),  # an atomic writer's temporary file
        ("build.lock", False),
        ("walk.mp3.part", False),
        ("notes.txt~", False),
        ("Thumbs.db", False),
    ],
)
def test_files_not_for_listeners_are_never_published(path: str, published: bool) -> None:
    assert for_listeners(path) is published
    assert not for_listeners("drafts/x.mp3", ["drafts/*"])


def make_output(folder: Path, *, feed_names: tuple[str, ...] = ("walk.mp3",)) -> Path:
    """A small output folder: a feed naming `feed_names`, the files, and things never to send."""
    folder.mkdir(parents=True)
    items = "".join(
        f'<item><title>{n}</title><guid isPermaLink="false">guid-{n}</guid>'
        f'<enclosure url="{BASE}/{n}" length="3" type="audio/mpeg"/>'
        f'<podcast:chapters url="{BASE}/{n.removesuffix(".mp3")}.chapters.json" '
        'type="application/json+chapters"/></item>'
        for n in feed_names
    )
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>t</title>'
        f"{items}</channel></rss>"
    )
    (folder / "feed.xml").write_text(feed, encoding="utf-8")
    for name in feed_names:
        (folder / name).write_bytes(b"ID3" + name.encode())
        (folder / name.replace(".mp3", ".chapters.json")).write_text('{"version": "1.2.0"}')
    (folder / "index.html").write_text("<!doctype html><title>t</title>")
    (folder / "walk" / "index.html").parent.mkdir()
    (folder / "walk" / "index.html").write_text("<!doctype html><title>walk</title>")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / ".feed.tmp999999.abcdefgh.xml").write_text("half a feed")
    (folder / "build.lock").write_text("")
    return folder


def test_listener_files_skip_junk_and_go_in_order_feed_last(tmp_path: Path) -> None:
    output = make_output(tmp_path / "public")
    # A render manifest (`studio render --out public`) beside its MP3 is not for listeners.
    manifest = Manifest(
        studio="0.1.0",
        render_key="k",
        essay=ManifestEssay(title="t", slug="walk", author="a", date=None, description=""),
        voice={"name": "joe"},
        duration=1.0,
        loudness=ManifestLoudness(integrated_lufs=-16.0, true_peak_dbtp=-1.0),
        cache=ManifestCache(hits=0, synthesized=1, retries=0),
        breaths=ManifestBreaths(mode="off", found=0, seconds=0.0),
        chapters=(),
        segments=(),
        sizes={},
    )
    (output / "walk.json").write_text(manifest.to_json())
    (output / "search.json").write_text(json.dumps({"not": "a manifest"}))
    files = listener_files(output)
    assert sorted(f.path for f in files) == sorted(
        [
            "feed.xml",
            "index.html",
            "search.json",
            "walk/index.html",
            "walk.chapters.json",
            "walk.mp3",
        ]
    )
    order = [[f.path for f in batch] for batch in in_upload_order(files)]
    assert order == [
        ["search.json", "walk.chapters.json", "walk.mp3"],
        ["walk/index.html"],
        ["index.html"],
        ["feed.xml"],
    ]
    check_feed(files, BASE, output)


def test_a_feed_naming_a_missing_file_is_not_published(tmp_path: Path) -> None:
    output = make_output(tmp_path / "public")
    (output / "walk.mp3").unlink()
    with pytest.raises(StudioError, match=r"names .*/walk\.mp3, but walk\.mp3 is not in"):
        check_feed(listener_files(output), BASE, output)
    output = make_output(tmp_path / "other")
    with pytest.raises(StudioError, match="is excluded from publishing"):
        check_feed(listener_files(output, excludes=["*.json"]), BASE, output)


# --- the [publish] table, and a folder publish of a hand-made output -----------------------------


@pytest.fixture
def show(tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    init_show(folder, title="Walks", author="Ada Brook")
    config = folder / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    text = text.replace("https://example.com/podcast", BASE).replace(
        "you@example.com", "ada@audio.example.org"
    )
    config.write_text(text, encoding="utf-8")
    essay = "---\ntitle: A walk\ndate: 2026-11-02\n---\n\nHi.\n"
    (folder / "essays" / "welcome.md").write_text(essay)
    make_output(folder / "public", feed_names=("walk.mp3", "road.mp3"))
    return folder


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('to = "gs://bucket"', "publish.to"),
        ('to = ["/srv/pod", "s3://Bad_Bucket"]', "publish.to"),
        ('endpoint_url = "r2.example.com"', "publish.endpoint_url"),
        ("delete = 3", "publish.delete"),
        ('ssh_command = "ssh -o \'unclosed"', "publish.ssh_command"),
        ('ssh_command = "  "', "publish.ssh_command"),
        ('cache_control = { "*.mp3" = "" }', "publish.cache_control"),
        ('destination = "/srv"', "publish.destination"),
    ],
)
def test_a_broken_publish_table_names_the_field(show: Path, table: str, fragment: str) -> None:
    set_publish(show, table)
    with pytest.raises(StudioError) as caught:
        load_show(show)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_the_seed_config_documents_the_publish_table() -> None:
    from studio.show.config import PublishSettings
    from studio.show.init import SEEDS

    seed = (SEEDS / CONFIG_NAME).read_text(encoding="utf-8")
    table = seed[seed.index("\n[publish]\n") :]
    for name in PublishSettings.model_fields:
        assert f"\n{name} = " in table or f"\n# {name} = " in table, name


def publish(show: Path, **options) -> tuple[list, list[PublishEvent]]:
    events: list[PublishEvent] = []
    reports = publish_show(load_show(show), on_event=events.append, **options)
    return reports, events


def test_folder_publish_sends_changes_only_and_the_feed_last(show: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    set_publish(show, f'to = "{www}"')
    (report,), events = publish(show)
    sent = [event.path for event in events]
    assert sent[-1] == "feed.xml" and sent.index("index.html") > sent.index("walk/index.html")
    there = [p.relative_to(www).as_posix() for p in www.rglob("*") if p.is_file()]
    assert sorted(sent) == sorted(there)
    for name in sent:
        assert (www / name).read_bytes() == (show / "public" / name).read_bytes()
    assert not (www / ".DS_Store").exists() and not (www / "build.lock").exists()

    (report,), events = publish(show)  # unchanged: nothing sent
    assert events == [] and report.unchanged == len(sent)

    # Someone else edits a file at the destination: it is sent again, and only it.
    (www / "road.mp3").write_bytes(b"ID3 edited by hand")
    (report,), events = publish(show)
    assert [e.path for e in events] == ["road.mp3"]
    assert (www / "road.mp3").read_bytes() == (show / "public" / "road.mp3").read_bytes()

    # The record lost: the destination's own bytes are compared, and match.
    shutil.rmtree(show / ".studio" / "publish")
    (report,), events = publish(show)
    assert events == [] and report.unchanged == len(sent)


def test_removed_files_stay_unless_asked_and_go_after_the_feed(show: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / ".htaccess").write_text("not ours")
    (www / "their-page.html").write_text("someone else's")
    set_publish(show, f'to = "{www}"')
    publish(show)
    make_output(tmp_path / "next", feed_names=("walk.mp3",))  # road.mp3 dropped from the feed
    shutil.rmtree(show / "public")
    shutil.copytree(tmp_path / "next", show / "public")

    # The live feed still publishes road.mp3: replacing it is refused unless allowed.
    with pytest.raises(StudioError, match=r"publishes 1 episode\(s\) .* \('road.mp3'\)"):
        publish(show)
    assert b"road.mp3" in (www / "feed.xml").read_bytes()

    (report,), events = publish(show, dry_run=True, allow_removals=True)
    assert events == [] and set(report.ours) == {"road.mp3", "road.chapters.json"}
    assert report.foreign == ("their-page.html",)
    assert report.to_upload[-1].path == "feed.xml" and (www / "road.mp3").exists()

    (report,), events = publish(show, allow_removals=True)  # default: kept
    assert report.kept == report.ours and (www / "road.mp3").exists()
    assert b"road.mp3" not in (www / "feed.xml").read_bytes()

    (report,), events = publish(show, delete=True)
    assert [e.kind for e in events] == ["deleted", "deleted"]
    assert not (www / "road.mp3").exists() and (www / ".htaccess").exists()
    assert (www / "their-page.html").exists()


def test_an_interrupted_publish_leaves_the_old_feed_live(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    set_publish(show, f'to = "{www}"')
    publish(show)
    old_feed = (www / "feed.xml").read_bytes()
    # A new episode: its audio, chapters and feed change together.
    shutil.rmtree(show / "public")
    make_output(show / "public", feed_names=("walk.mp3", "road.mp3", "hill.mp3"))

    real_copy = folder_module.shutil.copyfile
    copied = []

    def interrupted(source: Path, target: Path) -> None:
        if Path(source).name == "hill.mp3":
            raise KeyboardInterrupt  # Ctrl-C, or the machine going down, mid-upload
        copied.append(Path(source).name)
        real_copy(source, target)

    monkeypatch.setattr(folder_module.shutil, "copyfile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish(show)
    assert (www / "feed.xml").read_bytes() == old_feed  # still names only files that are there
    assert not (www / "hill.mp3").exists()
    assert not [p for p in www.iterdir() if p.name.startswith(".")]  # no temporary left behind

    monkeypatch.setattr(folder_module.shutil, "copyfile", real_copy)
    _, events = publish(show)  # resumed: what was finished is not sent again
    assert "hill.chapters.json" not in [e.path for e in events]
    assert [e.path for e in events] == ["hill.mp3", "feed.xml"]


def test_nowhere_to_publish_and_placeholders_are_refused(show: Path, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match=r"nowhere to publish: set `to` under \[publish\]"):
        publish(show)
    with pytest.raises(StudioError, match="does not exist"):
        publish(show, to=[str(tmp_path / "missing")])
    with pytest.raises(StudioError, match="inside the output folder"):
        publish(show, to=[str(show / "public" / "copy")])
    with pytest.raises(StudioError, match="holds the show itself"):
        publish(show, to=[str(show.parent)])
    config = show / CONFIG_NAME
    config.write_text(config.read_text().replace(BASE, "https://example.com/podcast"))
    with pytest.raises(StudioError, match="base_url is still the example"):
        publish(show, to=[str(tmp_path)])
