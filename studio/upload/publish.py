"""`studio publish`: the output folder to each destination, changed files only, the feed last.

Order is what keeps listeners safe: every file the feed names (audio, chapters, captions, the
cover, pages) is in place at a destination before its feed is replaced, and the feed is replaced
in one step; a publish that fails or is interrupted before then leaves the old feed live, naming
only files that are still there. Remote files the output no longer has are deleted only when
asked (`--delete`, `publish.delete`), and only after the new feed is live, so no file the live
feed names is ever removed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from studio.errors import StudioError
from studio.show.config import PublishSettings, Show
from studio.show.lock import output_lock
from studio.upload.destinations import Destination, parse_destination
from studio.upload.local import (
    FEED_NAME,
    HashCache,
    LocalFile,
    check_feed,
    in_upload_order,
    listener_files,
)
from studio.upload.record import Comparison, Remote, UploadRecord

PUBLISH_STATE = "publish"  # in the show's state folder: records and the hash cache


@dataclasses.dataclass(frozen=True)
class PublishEvent:
    kind: Literal["uploaded", "deleted"]
    destination: Destination
    path: str


@dataclasses.dataclass(frozen=True)
class PublishReport:
    """What one destination was (or, on a dry run, would be) given."""

    destination: Destination
    new: tuple[LocalFile, ...]
    changed: tuple[LocalFile, ...]
    unchanged: int
    extra: tuple[str, ...]  # remote files the output no longer has
    deleted: tuple[str, ...]
    dry_run: bool

    @property
    def to_upload(self) -> list[LocalFile]:
        """In upload order: the feed last."""
        return [file for batch in in_upload_order([*self.new, *self.changed]) for file in batch]

    @property
    def kept(self) -> tuple[str, ...]:
        return tuple(path for path in self.extra if path not in self.deleted)


def destinations(show: Show, to: Sequence[str] | None) -> list[Destination]:
    """`--to` if given, else the show's `publish.to`."""
    texts = list(to or show.config.publish.to)
    if not texts:
        raise StudioError(
            f"nowhere to publish: set `to` under [publish] in {show.config_file}, "
            "or pass --to DEST (a folder, user@host:/path or s3://bucket/prefix)"
        )
    found = []
    for text in texts:
        try:
            destination = parse_destination(text)
        except ValueError as error:
            raise StudioError(f"--to: {error}" if to else f"publish.to: {error}") from None
        if destination.kind == "folder":  # relative: to the shell's folder, or the config's
            folder = Path(destination.path) if to else show.root / destination.path
            where = os.path.abspath(folder)  # `..` folded, links kept (a mount stays itself)
            destination = dataclasses.replace(destination, text=where, path=where)
        found.append(destination)
    return found


def publish_show(
    show: Show,
    *,
    to: Sequence[str] | None = None,
    dry_run: bool = False,
    delete: bool | None = None,
    on_event: Callable[[PublishEvent], None] = lambda event: None,
) -> list[PublishReport]:
    """Publish the show's output folder to each destination in turn (see the module's doc)."""
    settings = show.config.publish
    targets = destinations(show, to)
    if not dry_run:
        from studio.show.init import placeholders

        found = placeholders(show)
        if found:
            raise StudioError(f"{found[0]}: change it before publishing")
    delete = settings.delete if delete is None else delete
    state = show.state / PUBLISH_STATE
    # The build's lock: no build rewrites the feed or an episode while it is being uploaded.
    with output_lock(show):
        hashes = HashCache(state / "hashes.json")
        files = listener_files(
            show.output,
            excludes=settings.exclude,
            cache_overrides=settings.cache_control,
            hash_cache=hashes,
        )
        hashes.save({str(file.source) for file in files})
        check_feed(files, show.info.base_url, show.output)
        reports = []
        for destination in targets:
            record = UploadRecord(state, destination)
            with _remote(show, destination, settings, record) as remote:
                comparison = remote.compare(files)
                reports.append(
                    _publish_to(remote, destination, comparison, dry_run, delete, on_event)
                )
        return reports


def _publish_to(
    remote: Remote,
    destination: Destination,
    comparison: Comparison,
    dry_run: bool,
    delete: bool,
    on_event: Callable[[PublishEvent], None],
) -> PublishReport:
    deleted: list[str] = []
    if not dry_run:
        batches = in_upload_order(comparison.to_upload)
        for index, batch in enumerate(batches):
            last = index == len(batches) - 1 and batch[-1].path == FEED_NAME
            remote.upload(
                batch,
                last=last,
                uploaded=lambda file: on_event(PublishEvent("uploaded", destination, file.path)),
            )
        if delete and comparison.extra:  # the new feed is live: nothing it names goes

            def note(path: str) -> None:
                deleted.append(path)
                on_event(PublishEvent("deleted", destination, path))

            remote.delete(comparison.extra, note)
    return PublishReport(
        destination=destination,
        new=tuple(comparison.new),
        changed=tuple(comparison.changed),
        unchanged=len(comparison.unchanged),
        extra=tuple(comparison.extra),
        deleted=tuple(deleted) if not dry_run else tuple(comparison.extra if delete else ()),
        dry_run=dry_run,
    )


@contextmanager
def _remote(
    show: Show, destination: Destination, settings: PublishSettings, record: UploadRecord
) -> Iterator[Remote]:
    # Each kind is imported only when used: boto3 alone takes ~0.3 s to import.
    remote: Remote
    excludes = settings.exclude
    if destination.kind == "s3":
        from studio.upload.s3 import S3Remote

        remote = S3Remote(destination, settings, record, excludes)
    elif destination.kind == "ssh":
        from studio.upload.rsync import RsyncRemote

        remote = RsyncRemote(destination, settings, show.output, excludes)
    else:
        from studio.upload.folder import FolderRemote

        if Path(destination.path).resolve().is_relative_to(show.output.resolve()):
            raise StudioError(f"{destination} is inside the output folder {show.output}")
        remote = FolderRemote(destination, record, excludes)
    try:
        yield remote
    finally:
        remote.close()
