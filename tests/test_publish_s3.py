"""`studio publish` to S3-compatible storage: a real show, built once, sent with boto3 to moto's
standalone S3 server started by this module on 127.0.0.1, whose request log gives the order in
which objects arrived."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import run_studio
from tests.publish_servers import S3Server, add_site, build_show, free_port, moto_s3, set_publish
from tests.test_cli import assert_one_line_error

pytestmark = pytest.mark.slow

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "studio-test",
    "AWS_SECRET_ACCESS_KEY": "studio-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    # The user's own AWS settings never reach the test's server.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
PREFIX = "shows/walks/"
TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json+chapters",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    return build_show(tmp_path_factory.mktemp("built") / "show")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_s3(tmp_path_factory.mktemp("moto")) as running:
        yield running


@pytest.fixture
def s3(server: S3Server):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3) -> str:
    name = f"pod-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def show(built: Path, server: S3Server, bucket: str, tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    shutil.copytree(built, folder)
    set_publish(folder, f'to = "s3://{bucket}/{PREFIX}"\nendpoint_url = "{server.endpoint}"')
    return folder


def publish(show: Path, *args: str, env: dict[str, str] | None = None):
    return run_studio("publish", "--config", str(show), *args, env={**CREDENTIALS, **(env or {})})


def uploaded(stdout: str) -> list[str]:
    return re.findall(r"(?m)^uploaded +(\S+)$", stdout)


def puts(server: S3Server, bucket: str, since: int = 0) -> list[str]:
    """Paths of the objects the server received (PUT), in the order it received them."""
    found = []
    for method, path in server.requests()[since:]:
        if method == "PUT" and path.startswith(f"/{bucket}/{PREFIX}"):
            found.append(path.removeprefix(f"/{bucket}/{PREFIX}"))
    return found


def listener_files(show: Path) -> list[str]:
    public = show / "public"
    return sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file())


def objects(s3, bucket: str) -> dict[str, str]:
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: item["ETag"] for item in listing}


def test_s3_gets_every_file_with_its_type_then_the_feed(
    show: Path, server: S3Server, bucket: str, s3
) -> None:
    add_site(show / "public")
    expected = listener_files(show)
    (show / "public" / ".DS_Store").write_bytes(b"not for listeners")
    (show / "public" / "upload.part").write_bytes(b"half a file")

    dry = publish(show, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert re.findall(r"(?m)^would upload (\S+)", dry.stdout)[-1] == "feed.xml"
    assert objects(s3, bucket) == {}  # a dry run uploads nothing

    mark = len(server.requests())
    result = publish(show)
    assert result.returncode == 0, result.stderr
    received = puts(server, bucket, mark)
    assert sorted(received) == expected
    assert received[-1] == "feed.xml", received  # the server got the feed after all it names
    assert received[-2] == "index.html" and received.index("embed/first.html") > received.index(
        "first.mp3"
    )
    # Studio's own account agrees (within a batch, files go a few at a time, in any order).
    assert sorted(uploaded(result.stdout)) == expected and uploaded(result.stdout)[-1] == "feed.xml"
    assert sorted(objects(s3, bucket)) == [PREFIX + name for name in expected]
    for name in expected:
        head = s3.head_object(Bucket=bucket, Key=PREFIX + name)
        body = s3.get_object(Bucket=bucket, Key=PREFIX + name)["Body"].read()
        assert body == (show / "public" / name).read_bytes(), name
        assert head["ContentType"] == TYPES[Path(name).suffix], name
        short = name == "feed.xml" or name.endswith(".html")
        assert head["CacheControl"] == ("public, max-age=300" if short else "public, max-age=3600")

    mark = len(server.requests())
    again = publish(show)  # unchanged: nothing sent
    assert again.returncode == 0, again.stderr
    assert puts(server, bucket, mark) == [] and uploaded(again.stdout) == []
    assert f"up to date ({len(expected)} files unchanged)" in again.stdout


def test_what_someone_else_changed_is_put_back(
    show: Path, server: S3Server, bucket: str, s3
) -> None:
    assert publish(show).returncode == 0
    s3.put_object(Bucket=bucket, Key=PREFIX + "second.vtt", Body=b"WEBVTT\n\nedited by hand\n")
    s3.delete_object(Bucket=bucket, Key=PREFIX + "first.mp3")
    mark = len(server.requests())
    result = publish(show)
    assert result.returncode == 0, result.stderr
    assert sorted(puts(server, bucket, mark)) == ["first.mp3", "second.vtt"]
    body = s3.get_object(Bucket=bucket, Key=PREFIX + "second.vtt")["Body"].read()
    assert body == (show / "public" / "second.vtt").read_bytes()

    # The record of uploads lost (a new machine, CI): the objects' ETags and headers are
    # compared, and nothing is sent again.
    shutil.rmtree(show / ".studio" / "publish")
    mark = len(server.requests())
    result = publish(show)
    assert result.returncode == 0, result.stderr
    assert puts(server, bucket, mark) == []

    # ...but an object whose bytes match and whose Content-Type is wrong is sent again.
    s3.copy_object(
        Bucket=bucket,
        Key=PREFIX + "first.vtt",
        CopySource={"Bucket": bucket, "Key": PREFIX + "first.vtt"},
        ContentType="text/plain",
        MetadataDirective="REPLACE",
    )
    shutil.rmtree(show / ".studio" / "publish")
    mark = len(server.requests())
    assert publish(show).returncode == 0
    assert puts(server, bucket, mark) == ["first.vtt"]
    assert s3.head_object(Bucket=bucket, Key=PREFIX + "first.vtt")["ContentType"] == "text/vtt"


def test_a_new_episode_lands_before_the_feed_and_old_ones_go_only_when_asked(
    show: Path, built: Path, server: S3Server, bucket: str, s3
) -> None:
    assert publish(show).returncode == 0
    s3.put_object(Bucket=bucket, Key=PREFIX + "old-episode.mp3", Body=b"ID3 older")
    s3.put_object(Bucket=bucket, Key=PREFIX + ".well-known/x", Body=b"not studio's")
    s3.put_object(Bucket=bucket, Key="elsewhere/site.html", Body=b"outside the prefix")
    third = "---\ntitle: Third\ndate: 2026-11-16\n---\n\nA third short line.\n"
    (show / "essays" / "third.md").write_text(third, encoding="utf-8")
    rebuilt = run_studio("build", "--config", str(show))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

    mark = len(server.requests())
    result = publish(show)
    assert result.returncode == 0, result.stderr
    received = puts(server, bucket, mark)
    assert set(received) == {
        "third.mp3", "third.vtt", "third.srt", "third.chapters.json", "feed.xml",
        "episodes/third.html", "embed/third.html", "index.html",  # the site: its page, its listing
    }  # fmt: skip
    assert received[-1] == "feed.xml"
    assert "left alone: 1 remote files studio did not publish there (old-episode.mp3)" in (
        result.stdout
    )

    # A publish from a stale copy of the show (its feed without the new episode) is refused:
    # the live feed is read back, and it publishes an episode the stale one lacks.
    shutil.copy(built / "public" / "feed.xml", show / "public" / "feed.xml")
    mark = len(server.requests())
    result = publish(show)
    assert_one_line_error(result, "publishes 1 episode(s)", "'Third'", "--allow-removals")
    assert puts(server, bucket, mark) == []

    # The episode withdrawn on purpose (its files out of the output too): the feed without it
    # goes first, then its files are deleted, and nothing studio did not put there.
    withdrawn = sorted(p.name for p in (show / "public").glob("third.*"))
    for name in withdrawn:
        (show / "public" / name).unlink()
    dry = publish(show, "--allow-removals", "--delete", "--dry-run")
    assert sorted(re.findall(r"(?m)^would delete (\S+)$", dry.stdout)) == withdrawn
    mark = len(server.requests())
    result = publish(show, "--allow-removals", "--delete")
    assert result.returncode == 0, result.stderr
    assert sorted(re.findall(r"(?m)^deleted +(\S+)$", result.stdout)) == withdrawn
    requests = server.requests()[mark:]
    feed_put = requests.index(("PUT", f"/{bucket}/{PREFIX}feed.xml"))
    deletes = [i for i, (method, path) in enumerate(requests) if path.endswith("?delete")]
    assert deletes and min(deletes) > feed_put, requests
    keys = objects(s3, bucket)
    assert not any(key.startswith(PREFIX + "third.") for key in keys)
    assert {PREFIX + "old-episode.mp3", PREFIX + ".well-known/x", "elsewhere/site.html"} <= set(
        keys
    )


def test_s3_failures_are_one_line(show: Path, server: S3Server, tmp_path: Path) -> None:
    result = publish(show, "--to", "s3://no-such-bucket-here/pod")
    assert_one_line_error(result, "bucket no-such-bucket-here does not exist")

    closed = free_port()
    set_publish(show, f'to = "s3://pod/x"\nendpoint_url = "http://127.0.0.1:{closed}"')
    result = publish(show)
    assert_one_line_error(result, "cannot reach the S3 endpoint", str(closed))

    # A server that checks credentials, as S3, R2 and MinIO do: ours are unknown to it.
    with moto_s3(tmp_path / "strict", env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as strict:
        set_publish(show, f'to = "s3://pod/x"\nendpoint_url = "{strict.endpoint}"')
        result = publish(show)
    assert_one_line_error(result, "refused the credentials", "InvalidAccessKeyId")

    result = publish(show, env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert_one_line_error(result, "no credentials")
