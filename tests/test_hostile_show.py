"""Hostile and careless shows: a feed never loses published episodes by accident, a config never
reaches outside its folder, and damaged state is one line, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from studio.errors import StudioError
from studio.show.config import CONFIG_NAME, load_show
from studio.show.guids import GUIDS_PATH, assign_guids
from studio.show.init import init_show, placeholders
from studio.show.plan import ESSAYS_CACHE_PATH, plan_episodes
from tests.conftest import run_studio
from tests.test_cli import assert_one_line_error

REAL_URL = "https://audio.essays.test/pod"
REAL_EMAIL = "ada@essays.test"
EPISODE_FILES = (".mp3", ".chapters.json", ".vtt", ".srt")


def set_config(folder: Path, old: str, new: str) -> None:
    config = folder / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def essay(title: str, date: str = "2026-11-02", body: str = "Short.", **extra: str) -> str:
    front = "".join(f"{key}: {value}\n" for key, value in extra.items())
    return f"---\ntitle: {title}\ndate: {date}\n{front}---\n\n{body}\n"


def make_show(folder: Path, **essays: str) -> Path:
    """A show from `studio init` with its placeholders replaced and `essays` (name: text)."""
    init_show(folder, author="Ada Brook")
    set_config(folder, 'base_url = "https://example.com/podcast"', f'base_url = "{REAL_URL}"')
    set_config(folder, 'email = "you@example.com"', f'email = "{REAL_EMAIL}"')
    shutil.rmtree(folder / "essays")
    (folder / "essays").mkdir()
    for name, text in essays.items():
        (folder / "essays" / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def feed_guids(folder: Path) -> dict[str, str]:
    """title: guid of every item in the show's feed.xml."""
    root = etree.parse(str(folder / "public" / "feed.xml")).getroot()
    return {item.findtext("title"): item.findtext("guid") for item in root.iter("item")}


# --- placeholders -------------------------------------------------------------------------------


def test_placeholders_name_each_one_until_it_is_changed(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    init_show(folder)
    found = placeholders(load_show(folder))
    assert any("base_url" in line and "example.com" in line for line in found), found
    assert any("you@example.com" in line for line in found), found
    assert any("essays/welcome.md" in line and "starter" in line for line in found), found
    assert any("Your Name" in line for line in found), found

    make_show(tmp_path / "real", one=essay("One"))
    assert placeholders(load_show(tmp_path / "real")) == []


@pytest.mark.slow
def test_a_show_with_placeholders_warns_loudly(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    init_show(folder, author="Ada Brook")
    result = run_studio("feed", "--config", str(folder))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3, result.stdout  # base_url, owner email, starter essay
    assert "change it before publishing" in warnings[0]


# --- control characters in show settings --------------------------------------------------------


@pytest.mark.slow
def test_control_characters_in_show_settings_give_a_good_feed(tmp_path: Path) -> None:
    folder = make_show(tmp_path / "show")
    set_config(folder, 'title = "Essays, Read Aloud"', 'title = "Bad\\u0001 title\\u001b[31m"')
    set_config(folder, 'description = "Essays', 'description = "Vertical\\u000btab. Essays')
    set_config(folder, 'name = "Ada Brook"', 'name = "Ada\\u0007 Brook"')
    info = load_show(folder).info
    assert (info.title, info.owner.name) == ("Bad title[31m", "Ada Brook")
    assert info.description.startswith("Vertical tab. Essays")

    result = run_studio("feed", "--config", str(folder))
    assert result.returncode == 0, result.stderr
    channel = etree.parse(str(folder / "public" / "feed.xml")).getroot().find("channel")
    assert channel.findtext("title") == "Bad title[31m"


# --- paths and trust ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('essays = "essays/*.md"', 'essays = [{ path = "../../secret/*.txt" }]', "essays[0].path"),
        ('essays = "essays/*.md"', 'essays = ["essays/*.md", "/etc/host*"]', "essays[1].path"),
        ('output = "public"', 'output = "../.."', "output"),
        ('output = "public"', 'output = "/"', "output"),
        ('output = "public"', 'output = "public/../../out"', "output"),
        ('lexicons = ["lexicon.toml"]', 'lexicons = ["../lexicon.toml"]', "defaults.lexicons[0]"),
        ('image = "cover.png"', 'image = "../cover.png"', "show.image"),
    ],
)
def test_config_paths_outside_the_show_are_refused(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("The secret is forty two.")
    folder = make_show(tmp_path / "a" / "show", one=essay("One"))
    shutil.copy(folder / "cover.png", tmp_path / "a" / "cover.png")
    (tmp_path / "a" / "lexicon.toml").write_text("")
    set_config(folder, old, new)
    with pytest.raises(StudioError) as caught:
        load_show(folder)
    message = str(caught.value)
    assert "\n" not in message and fragment in message, message
    assert "outside the show folder" in message and "--allow-outside" in message
    if "output" not in fragment:  # the user may allow it; an output holding the show, never
        load_show(folder, allow_outside=True)


@pytest.mark.parametrize("output", [".", ".studio", "./.studio/out"])
def test_an_output_folder_holding_the_shows_own_files_is_refused(
    tmp_path: Path, output: str
) -> None:
    folder = make_show(tmp_path / "show", one=essay("One"))
    set_config(folder, 'output = "public"', f'output = "{output}"')
    for allow in (False, True):
        with pytest.raises(StudioError, match="would publish the show's own files"):
            load_show(folder, allow_outside=allow)


def test_an_essay_linked_from_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text(essay("Secret", body="The secret."))
    folder = make_show(tmp_path / "show", one=essay("One"))
    (folder / "essays" / "two.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(StudioError, match=r"essays\[0\]\.path: .*two.md is outside"):
        load_show(folder)


@pytest.mark.slow
def test_a_config_reaching_outside_writes_and_publishes_nothing(tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("The secret is forty two.")
    folder = make_show(tmp_path / "a" / "show", one=essay("One"))
    set_config(folder, 'essays = "essays/*.md"', 'essays = [{ path = "../../secret/*.txt" }]')
    result = run_studio("build", "--config", str(folder))
    assert_one_line_error(result, "essays[0].path", "outside the show folder", "--allow-outside")
    assert not (folder / "public").exists() and not (folder / ".studio").exists()


# --- damaged state and caches -------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        b"not json {",
        b"[]",
        b"\xff\xfe",
        b'{"essays/one.md": 5}',
        b'{"essays/one.md": {"stamp": [], "front": []}}',
        "stamp kept, slug damaged",
        "stamp kept, front matter damaged",
    ],
)
def test_a_damaged_essays_cache_is_rebuilt(tmp_path: Path, damage: bytes | str) -> None:
    folder = make_show(tmp_path / "show", one=essay("One"))
    (plan,) = plan_episodes(load_show(folder))
    cache = folder / ESSAYS_CACHE_PATH
    good = json.loads(cache.read_text())
    if isinstance(damage, bytes):
        cache.write_bytes(damage)
    else:  # an entry that still matches the essay's size and mtime
        entry = good["essays/one.md"]
        changed = {"slug": 1} if "slug" in damage else {"front": {"episode": "two"}}
        cache.write_text(json.dumps({"essays/one.md": {**entry, **changed}}))
    (again,) = plan_episodes(load_show(folder))
    assert again == plan
    assert json.loads(cache.read_text()) == good


@pytest.mark.parametrize(
    "damage",
    ["not json {", "[]", '{"episodes": {"a": 1}}', '{"episodes": [1]}', '{"episodes": [{}]}'],
)
def test_a_damaged_guids_file_is_one_line_and_nothing_is_written(
    tmp_path: Path, damage: str
) -> None:
    folder = make_show(tmp_path / "show", one=essay("One"))
    (folder / GUIDS_PATH).parent.mkdir()
    (folder / GUIDS_PATH).write_text(damage)
    show = load_show(folder)
    with pytest.raises(StudioError) as caught:
        assign_guids(show, plan_episodes(show))
    message = str(caught.value)
    assert "\n" not in message and str(folder / GUIDS_PATH) in message
    assert (folder / GUIDS_PATH).read_text() == damage


@pytest.mark.slow
def test_a_damaged_guids_file_stops_a_build_in_one_line(tmp_path: Path) -> None:
    folder = make_show(tmp_path / "show", one=essay("One"))
    (folder / GUIDS_PATH).parent.mkdir()
    (folder / GUIDS_PATH).write_text('{"episodes": [1]}')
    result = run_studio("build", "--config", str(folder))
    assert_one_line_error(result, "guids.json is damaged")
    assert not (folder / "public" / "feed.xml").exists()
    assert not (folder / "public" / "one.mp3").exists()


# --- a published show: nothing lost -------------------------------------------------------------

ONE = essay("First Light", body="Morning comes early.")
TWO = essay("Second Wind", date="2026-11-09", body="Rest, then run.")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """A built show of two tiny essays, its feed published."""
    folder = make_show(tmp_path_factory.mktemp("published") / "show", one=ONE, two=TWO)
    result = run_studio("build", "--config", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "feed.xml (2 episodes)" in result.stdout and "warning" not in result.stdout
    return folder


@pytest.fixture
def copy(published: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    shutil.copytree(published, folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("command", ["build", "feed"])
def test_a_glob_that_matches_nothing_cannot_wipe_the_feed(copy: Path, command: str) -> None:
    feed = (copy / "public" / "feed.xml").read_bytes()
    set_config(copy, 'essays = "essays/*.md"', 'essays = "essay/*.md"')  # a typo
    result = run_studio(command, "--config", str(copy))
    assert_one_line_error(result, "would drop", '"First Light"', '"Second Wind"')
    assert "--allow-removals" in result.stderr
    assert (copy / "public" / "feed.xml").read_bytes() == feed

    result = run_studio(command, "--config", str(copy), "--allow-removals")
    assert result.returncode == 0, result.stderr
    assert feed_guids(copy) == {}
    assert "dropped from the feed: Second Wind, First Light" in result.stdout  # newest first


@pytest.mark.slow
def test_a_lost_guids_file_cannot_replace_published_episodes(copy: Path) -> None:
    feed = (copy / "public" / "feed.xml").read_bytes()
    (copy / GUIDS_PATH).unlink()  # new guids would make every app list each episode twice
    result = run_studio("feed", "--config", str(copy))
    assert_one_line_error(result, "2 episode(s) this feed would drop", "guids.json is intact")
    assert (copy / "public" / "feed.xml").read_bytes() == feed


@pytest.mark.slow
def test_an_essay_removed_on_purpose_needs_allow_removals(copy: Path) -> None:
    guids = feed_guids(copy)
    (copy / "essays" / "two.md").unlink()
    result = run_studio("build", "--config", str(copy))
    assert_one_line_error(result, "1 episode(s) this feed would drop", '"Second Wind"')
    result = run_studio("build", "--config", str(copy), "--allow-removals")
    assert result.returncode == 0, result.stderr
    assert feed_guids(copy) == {"First Light": guids["First Light"]}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (TWO.replace("date: 2026-11-09", "date: someday"), "not a date"),
        (TWO.replace("---\n\n", "voice: nobody\n---\n\n"), "unknown voice 'nobody'"),
        (TWO.replace("Rest, then run.", "```\ncode only\n```"), "nothing to read"),
    ],
)
def test_a_failed_essay_keeps_its_last_good_episode(copy: Path, broken: str, reason: str) -> None:
    feed = (copy / "public" / "feed.xml").read_bytes()
    (copy / "essays" / "two.md").write_text(broken.replace("Second Wind", "Retitled"))
    result = run_studio("build", "--config", str(copy))
    assert_one_line_error(result, "1 of 2 essays failed")
    assert reason in result.stdout
    assert "kept as last published (failed this time): essays/two.md" in result.stdout
    assert (copy / "public" / "feed.xml").read_bytes() == feed  # the episode as published


@pytest.mark.slow
def test_a_show_built_by_an_older_studio_moves_its_files_out_of_the_output(copy: Path) -> None:
    feed = (copy / "public" / "feed.xml").read_bytes()
    for manifest in (copy / ".studio" / "manifests").iterdir():  # where they used to be
        manifest.rename(copy / "public" / manifest.name)
    (copy / ".studio" / "build.lock").rename(copy / "public" / ".studio-build.lock")
    result = run_studio("build", "--config", str(copy))
    assert result.returncode == 0, result.stderr
    assert "2 essays: 2 up to date" in result.stdout  # the old manifests still vouch for them
    served = [f"{slug}{suffix}" for slug in ("one", "two") for suffix in EPISODE_FILES]
    site = ["index.html", "assets", "episodes", "embed"]
    assert sorted(p.name for p in (copy / "public").iterdir()) == sorted(
        ["cover.png", "feed.xml", *served, *site]
    )
    assert sorted(p.name for p in (copy / ".studio" / "manifests").iterdir()) == [
        "one.json",
        "two.json",
    ]
    assert (copy / "public" / "feed.xml").read_bytes() == feed
