"""`studio publish` to a folder, through the command line, with a real show built once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_studio
from tests.publish_servers import BASE_URL, add_site, build_show, set_publish
from tests.test_cli import assert_one_line_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    return build_show(tmp_path_factory.mktemp("built") / "show")


@pytest.fixture
def show(built: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    return folder


def publish(show: Path, *args: str, cwd: Path | None = None):
    return run_studio("publish", "--config", str(show), *args, cwd=cwd)


def test_a_folder_gets_the_show_feed_last_and_then_nothing(show: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    add_site(show / "public")
    set_publish(show, 'to = "../www"')  # relative to the show's folder

    dry = publish(show, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    would = re.findall(r"(?m)^would upload (\S+) \(new, ", dry.stdout)
    assert would[-2:] == ["index.html", "feed.xml"] and list(www.iterdir()) == []

    result = publish(show)
    assert result.returncode == 0, result.stderr
    sent = re.findall(r"(?m)^uploaded +(\S+)$", result.stdout)
    assert sent == would  # the order the dry run announced
    public = show / "public"
    for path in public.rglob("*"):
        if path.is_file():
            name = path.relative_to(public).as_posix()
            assert (www / name).read_bytes() == path.read_bytes(), name
    assert f"{www}: uploaded {len(sent)} files" in result.stdout.replace("\n", "")

    # A second publish, from another folder, to the same place named on the command line.
    again = publish(show, "--to", "www", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "uploaded" not in again.stdout and "up to date" in again.stdout


def test_refusals_are_one_line(show: Path, tmp_path: Path) -> None:
    assert_one_line_error(publish(show), "nowhere to publish", "--to DEST")
    assert_one_line_error(publish(show, "--to", str(tmp_path / "absent")), "does not exist")
    assert_one_line_error(publish(show, "--to", "gs://bucket"), "--to:", "gs://")
    set_publish(show, 'to = "ftp://example.org/pod"')
    assert_one_line_error(publish(show), "publish.to")

    set_publish(show, f'to = "{tmp_path}"')
    (show / "public" / "second.mp3").unlink()  # the feed names it
    assert_one_line_error(publish(show), "second.mp3 is not in the output folder")
    assert not (tmp_path / "feed.xml").exists()

    config = show / "studio.toml"
    config.write_text(config.read_text().replace(BASE_URL, "https://example.com/podcast"))
    assert_one_line_error(publish(show), "base_url is still the example")
