"""`studio publish`: the output folder to each destination, changed files only, the feed last.

Order is what keeps listeners safe: every file the feed names (audio, chapters, captions, the
cover, pages) is in place at a destination before its feed is replaced, and the feed is replaced
in one step; a publish that fails or is interrupted before then leaves the old feed live, naming
only files that are still there. Remote files the output no longer has are deleted only when
asked (`--delete`, `publish.delete`), only after the new feed is live, so no file the live feed
names is ever removed, and only if studio published them there (the upload record): a folder or
bucket shared with other files loses none of them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from lxml import etree

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
    extra: tuple[str, ...]  # remote files the output does not have
    ours: tuple[str, ...]  # those of them studio published there: --delete removes them
    deleted: tuple[str, ...]
    dry_run: bool

    @property
    def to_upload(self) -> list[LocalFile]:
        """In upload order: the feed last."""
        return [file for batch in in_upload_order([*self.new, *self.changed]) for file in batch]

    @property
    def kept(self) -> tuple[str, ...]:
        """Files studio published there that the output no longer has, left in place."""
        return tuple(path for path in self.ours if path not in self.deleted)

    @property
    def foreign(self) -> tuple[str, ...]:
        """Remote files studio never published there: never deleted."""
        return tuple(path for path in self.extra if path not in self.ours)


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
    allow_removals: bool = False,
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
                ours = [path for path in comparison.extra if record.owns(path)]
                report = _publish_to(
                    remote,
                    destination,
                    comparison,
                    ours=ours,
                    dry_run=dry_run,
                    delete=delete,
                    allow_removals=allow_removals,
                    on_event=on_event,
                )
                reports.append(report)
        return reports


def check_nothing_lost(live: bytes | None, ours: LocalFile, destination: Destination) -> None:
    """Refuse to replace a live feed that publishes episodes the new one lacks (a publish from
    a stale checkout, or another machine's newer build): they would vanish from apps."""
    if live is None:
        return
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        items = etree.fromstring(live, parser).iterfind("channel/item")
        published = {item.findtext("guid"): item.findtext("title") or "?" for item in items}
    except etree.XMLSyntaxError:
        return  # not a feed: nothing listeners could lose
    root = etree.fromstring(ours.source.read_bytes(), parser)  # check_feed parsed it
    new = {item.findtext("guid") for item in root.iterfind("channel/item")}
    lost = [title for guid, title in published.items() if guid and guid not in new]
    if lost:
        shown = ", ".join(repr(title) for title in lost[:3]) + (" ..." if len(lost) > 3 else "")
        raise StudioError(
            f"the live feed at {destination} publishes {len(lost)} episode(s) this output's "
            f"feed lacks ({shown}): build from an up-to-date show, or pass --allow-removals"
        )


def _publish_to(
    remote: Remote,
    destination: Destination,
    comparison: Comparison,
    *,
    ours: list[str],
    dry_run: bool,
    delete: bool,
    allow_removals: bool,
    on_event: Callable[[PublishEvent], None],
) -> PublishReport:
    feed = next((file for file in comparison.changed if file.path == FEED_NAME), None)
    if feed is not None and not allow_removals:
        check_nothing_lost(remote.read_feed(), feed, destination)
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
        if delete and ours:  # the new feed is live: nothing it names goes

            def note(path: str) -> None:
                deleted.append(path)
                on_event(PublishEvent("deleted", destination, path))

            remote.delete(ours, note)
    return PublishReport(
        destination=destination,
        new=tuple(comparison.new),
        changed=tuple(comparison.changed),
        unchanged=len(comparison.unchanged),
        extra=tuple(comparison.extra),
        ours=tuple(ours),
        deleted=tuple(deleted) if not dry_run else tuple(ours if delete else ()),
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

        remote = RsyncRemote(destination, settings, show.output, record, excludes)
    else:
        from studio.upload.folder import FolderRemote

        folder = Path(destination.path).resolve()
        if folder.is_relative_to(show.output.resolve()):
            raise StudioError(f"{destination} is inside the output folder {show.output}")
        if show.root.is_relative_to(folder):  # its essays and state would pass for old files
            raise StudioError(f"{destination} holds the show itself ({show.root})")
        remote = FolderRemote(destination, record, excludes)
    try:
        yield remote
    finally:
        remote.close()
