"""Time `studio publish` of a back catalogue to each kind of destination on 127.0.0.1.

The output folder holds N episodes (an MP3 of M MB of random bytes, chapters JSON, VTT, SRT
each) and a feed naming them all; it is published to a folder, to moto's S3 server and over
SSH to an sshd started here (the test suite's servers, `tests/publish_servers.py`), each three
times: first (everything sent), unchanged (nothing sent), and after one episode's audio changed.
What an unchanged publish costs is what matters for a weekly show with a long catalogue.

    .venv/bin/python benchmarks/publish.py [--episodes 60] [--megabytes 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from studio.show.config import load_show  # noqa: E402
from studio.show.init import init_show  # noqa: E402
from studio.upload.publish import publish_show  # noqa: E402
from tests.publish_servers import BASE_URL, moto_s3, set_publish, sshd  # noqa: E402


def make_show(folder: Path, episodes: int, megabytes: float) -> Path:
    init_show(folder, title="Catalogue", author="Ada Brook")
    config = folder / "studio.toml"
    text = config.read_text(encoding="utf-8").replace("https://example.com/podcast", BASE_URL)
    config.write_text(text.replace("you@example.com", "ada@audio.example.org"), encoding="utf-8")
    (folder / "essays" / "welcome.md").write_text("---\ntitle: T\ndate: 2026-11-02\n---\n\nHi.\n")
    public = folder / "public"
    public.mkdir()
    items = []
    for number in range(episodes):
        slug = f"episode-{number:03d}"
        (public / f"{slug}.mp3").write_bytes(os.urandom(int(megabytes * 1e6)))
        (public / f"{slug}.chapters.json").write_text('{"version": "1.2.0", "chapters": []}')
        (public / f"{slug}.vtt").write_text("WEBVTT\n")
        (public / f"{slug}.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi.\n")
        items.append(
            f'<item><title>{slug}</title><guid isPermaLink="false">{slug}</guid>'
            f'<enclosure url="{BASE_URL}/{slug}.mp3" length="1" type="audio/mpeg"/></item>'
        )
    (public / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>C</title>{"".join(items)}'
        "</channel></rss>"
    )
    return folder


def timed(folder: Path, destination: str) -> tuple[float, int]:
    started = time.perf_counter()
    (report,) = publish_show(load_show(folder), to=[destination])
    return time.perf_counter() - started, len(report.new) + len(report.changed)


def run(folder: Path, name: str, destination: str) -> None:
    first, sent_first = timed(folder, destination)
    unchanged, sent_unchanged = timed(folder, destination)
    audio = folder / "public" / "episode-000.mp3"
    audio.write_bytes(os.urandom(audio.stat().st_size))
    one, sent_one = timed(folder, destination)
    print(
        f"{name:7} first {first:6.2f} s ({sent_first} files)   unchanged {unchanged:5.2f} s "
        f"({sent_unchanged})   one episode changed {one:5.2f} s ({sent_one})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--megabytes", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-publish-bench-") as scratch:
        root = Path(scratch)
        show = make_show(root / "show", args.episodes, args.megabytes)
        total = sum(p.stat().st_size for p in (show / "public").iterdir()) / 1e6
        print(f"{args.episodes} episodes, {total:.0f} MB in the output folder")
        (root / "www").mkdir()
        run(show, "folder", str(root / "www"))
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
        )
        with moto_s3(root / "moto") as server:
            import boto3

            boto3.client("s3", endpoint_url=server.endpoint).create_bucket(Bucket="bench")
            set_publish(show, f'endpoint_url = "{server.endpoint}"')
            run(show, "s3", "s3://bench/pod")
        with sshd(root / "sshd") as ssh:
            set_publish(show, f"ssh_command = '''{ssh.ssh_command}'''")
            run(show, "rsync", ssh.destination(root / "remote"))


if __name__ == "__main__":
    main()
