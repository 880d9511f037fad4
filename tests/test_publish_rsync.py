"""`studio publish` over SSH: a real show, built once, sent with the system's rsync to an sshd this
module starts on 127.0.0.1 (its own host key, one authorized key, the running user by key only)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_studio
from tests.publish_servers import SshServer, add_site, build_show, free_port, set_publish, sshd
from tests.test_cli import assert_one_line_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    return build_show(tmp_path_factory.mktemp("built") / "show")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with sshd(tmp_path_factory.mktemp("sshd")) as running:
        yield running


@pytest.fixture
def show(built: Path, server: SshServer, tmp_path: Path) -> Path:
    """A copy of the built show, told how to reach the test's sshd."""
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    set_publish(folder, f"ssh_command = '''{server.ssh_command}'''")
    return folder


def publish(show: Path, *args: str):
    return run_studio("publish", "--config", str(show), *args)


def uploaded(stdout: str) -> list[str]:
    return re.findall(r"(?m)^uploaded +(.+)$", stdout)


def served(show: Path) -> list[str]:
    public = show / "public"
    return sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file())


def placed_order(remote: Path) -> list[str]:
    """The server's own account of when each file was put in place: rsync renames each file
    into place as it lands, which sets the file's ctime then (mtimes are copied, not set)."""
    files = [p for p in remote.rglob("*") if p.is_file()]
    return [
        p.relative_to(remote).as_posix() for p in sorted(files, key=lambda p: p.stat().st_ctime_ns)
    ]


def test_rsync_over_ssh_sends_every_file_then_the_feed(
    show: Path, server: SshServer, tmp_path: Path
) -> None:
    remote = tmp_path / "www" / "podcast"
    remote.parent.mkdir()
    (show / "public" / ".DS_Store").write_bytes(b"not for listeners")
    (show / "public" / "second.vtt~").write_text("an editor's backup")
    add_site(show / "public")
    (show / "public" / "embed" / "café walk.html").write_text("<!doctype html><title>é</title>")
    destination = server.destination(remote)

    dry = publish(show, "--to", destination, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    would = re.findall(r"(?m)^would upload (.+) \(new, ", dry.stdout)
    listeners = [name for name in served(show) if name not in (".DS_Store", "second.vtt~")]
    assert sorted(would) == listeners and would[-1] == "feed.xml"
    assert not remote.exists()  # a dry run changes nothing

    result = publish(show, "--to", destination)
    assert result.returncode == 0, result.stderr
    sent = uploaded(result.stdout)
    assert sorted(sent) == listeners and sent[-1] == "feed.xml"
    assert "the feed last" in result.stdout
    for name in listeners:
        assert (remote / name).read_bytes() == (show / "public" / name).read_bytes(), name
    assert not (remote / ".DS_Store").exists() and not (remote / "second.vtt~").exists()
    order = placed_order(remote)
    assert order[-1] == "feed.xml", order  # the server saw the feed arrive after all it names
    assert order[-2] == "index.html" and order.index("embed/first.html") > order.index("first.mp3")
    assert "Accepted publickey" in server.log.read_text()

    again = publish(show, "--to", destination)  # unchanged: nothing sent
    assert again.returncode == 0, again.stderr
    assert uploaded(again.stdout) == [] and "up to date" in again.stdout
    assert placed_order(remote) == order

    # A fresh checkout (new mtimes, same bytes) sends nothing: rsync compares content.
    for name in listeners:
        os.utime(show / "public" / name, (1_000_000_000, 1_000_000_000))
    assert uploaded(publish(show, "--to", destination).stdout) == []

    # Someone edits a file on the server: it is put back, and only it, before the feed is
    # (unchanged here, so not sent).
    (remote / "second.vtt").write_text("WEBVTT\n\nedited on the server\n")
    result = publish(show, "--to", destination)
    assert uploaded(result.stdout) == ["second.vtt"], result.stdout
    assert (remote / "second.vtt").read_bytes() == (show / "public" / "second.vtt").read_bytes()


def test_a_new_episode_is_on_the_server_before_the_feed_names_it(
    show: Path, built: Path, server: SshServer, tmp_path: Path
) -> None:
    remote = tmp_path / "podcast"
    destination = server.destination(remote)
    # The config's destination, no --to.
    ssh = f"ssh_command = '''{server.ssh_command}'''"
    set_publish(show, f'to = "{destination}"\n{ssh}')
    assert publish(show).returncode == 0
    (remote / "old-episode.mp3").write_bytes(b"ID3 from an earlier host")
    (remote / ".well-known").mkdir()
    (remote / ".well-known" / "x").write_text("not studio's")

    third = "---\ntitle: Third\ndate: 2026-11-16\n---\n\nA third short line.\n"
    (show / "essays" / "third.md").write_text(third, encoding="utf-8")
    rebuilt = run_studio("build", "--config", str(show))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

    result = publish(show)
    assert result.returncode == 0, result.stderr
    sent = uploaded(result.stdout)
    assert sent[-1] == "feed.xml" and {"third.mp3", "third.vtt", "third.chapters.json"} <= set(sent)
    assert "first.mp3" not in sent and "second.mp3" not in sent
    order = placed_order(remote)
    for name in ("third.mp3", "third.vtt", "third.chapters.json"):
        assert order.index(name) < order.index("feed.xml"), order
    assert b"third.mp3" in (remote / "feed.xml").read_bytes()
    # A file someone else put there is left alone, and said so.
    assert "left alone: 1 remote files studio did not publish there (old-episode.mp3)" in (
        result.stdout
    )

    # A stale copy's feed, without the new episode, does not replace the live one.
    live = (remote / "feed.xml").read_bytes()
    feed = show / "public" / "feed.xml"
    current = feed.read_bytes()
    shutil.copy(built / "public" / "feed.xml", feed)
    result = publish(show)
    assert_one_line_error(result, "publishes 1 episode(s)", "'Third'", "--allow-removals")
    assert (remote / "feed.xml").read_bytes() == live
    feed.write_bytes(current)

    # The episode withdrawn (its essay deleted, built with --allow-removals, its files taken
    # out of the output): they stay on the server until --delete, which removes them once
    # the feed without them is live, and nothing studio did not put there.
    (show / "essays" / "third.md").unlink()
    rebuilt = run_studio("build", "--config", str(show), "--allow-removals")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    withdrawn = sorted(p.name for p in (show / "public").glob("third.*"))
    assert withdrawn == ["third.chapters.json", "third.mp3", "third.srt", "third.vtt"]
    for name in withdrawn:
        (show / "public" / name).unlink()
    pages = ["embed/third.html", "episodes/third.html"]  # the build removed them, and relisted
    assert not any((show / "public" / page).exists() for page in pages)
    result = publish(show, "--allow-removals")
    assert result.returncode == 0, result.stderr
    assert uploaded(result.stdout) == ["index.html", "feed.xml"]
    assert "kept 6 remote files" in result.stdout
    assert (remote / "third.mp3").exists()
    result = publish(show, "--delete")
    assert result.returncode == 0, result.stderr
    assert sorted(re.findall(r"(?m)^deleted +(\S+)$", result.stdout)) == sorted(withdrawn + pages)
    assert (
        not (remote / "third.mp3").exists() and b"third" not in (remote / "feed.xml").read_bytes()
    )
    assert (remote / "old-episode.mp3").exists() and (remote / ".well-known" / "x").exists()


def test_ssh_failures_are_one_line_and_leave_the_feed_alone(
    show: Path, server: SshServer, tmp_path: Path
) -> None:
    remote = tmp_path / "podcast"
    assert publish(show, "--to", server.destination(remote)).returncode == 0
    feed = (remote / "feed.xml").read_bytes()
    (show / "essays" / "third.md").write_text("---\ntitle: T\ndate: 2026-11-16\n---\n\nHi.\n")
    assert run_studio("build", "--config", str(show)).returncode == 0

    closed = free_port()  # nothing listens there
    result = publish(show, "--to", f"ssh://{server.user}@127.0.0.1:{closed}{remote}")
    assert_one_line_error(result, "cannot reach", "127.0.0.1", "Connection refused")

    stranger = tmp_path / "stranger"
    assert os.system(f"ssh-keygen -q -t ed25519 -N '' -f {stranger}") == 0
    config = show / "studio.toml"
    config.write_text(config.read_text().replace(str(server.key), str(stranger)))
    result = publish(show, "--to", server.destination(remote))
    assert_one_line_error(result, "SSH refused the login", "Permission denied")

    assert (remote / "feed.xml").read_bytes() == feed and not (remote / "third.mp3").exists()

    # The server cannot take one of the new episode's files (a folder is in its place): the
    # feed that would name it is not sent.
    config.write_text(config.read_text().replace(str(stranger), str(server.key)))
    (remote / "third.mp3" / "in-the-way").mkdir(parents=True)
    result = publish(show, "--to", server.destination(remote))
    assert_one_line_error(result, "rsync to", "third.mp3")
    assert (remote / "feed.xml").read_bytes() == feed
