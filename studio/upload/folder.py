"""Publishing to a local or mounted folder (a web server's root, an NFS or SMB share)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from studio.errors import StudioError
from studio.files import atomic_path
from studio.upload.destinations import Destination
from studio.upload.local import FEED_NAME, LocalFile, file_hashes, for_listeners
from studio.upload.record import Comparison, UploadRecord


class FolderRemote:
    """Each file is copied to a temporary name beside its place, flushed to disk, then renamed
    over it: a reader sees the old file or the new one, never part of one."""

    def __init__(
        self, destination: Destination, record: UploadRecord, excludes: Iterable[str] = ()
    ) -> None:
        self.root = Path(destination.path)
        self.record = record
        self.excludes = tuple(excludes)
        # Never created: a share that is not mounted would have studio fill its mount point.
        if not self.root.is_dir():
            raise StudioError(
                f"destination folder {self.root} does not exist (or is not mounted): "
                "create or mount it first"
            )

    def compare(self, files: list[LocalFile]) -> Comparison:
        result = Comparison()
        for file in files:
            target = self.root / file.path
            try:
                stat = target.stat()
            except (FileNotFoundError, NotADirectoryError):
                result.new.append(file)
                continue
            except OSError as error:
                raise StudioError(f"cannot read {target}: {error.strerror}") from None
            remote = self._remote_sha256(file, target, stat)
            (result.unchanged if remote == file.sha256 else result.changed).append(file)
        ours = {file.path for file in files}
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if path.is_file() and name not in ours and for_listeners(name, self.excludes):
                result.extra.append(name)
        return result

    def _remote_sha256(self, file: LocalFile, target: Path, stat: os.stat_result) -> str | None:
        """The remote file's SHA-256: the record's, while the file is as studio left it (same
        size and mtime to the nanosecond); else read from the file itself."""
        if not target.is_file() or stat.st_size != file.size:
            return None
        entry = self.record.get(file.path)
        as_left = (stat.st_size, stat.st_mtime_ns)
        if entry and (entry.get("size"), entry.get("mtime_ns")) == as_left:
            return entry.get("sha256")
        try:
            sha256, _ = file_hashes(target)
        except OSError as error:
            raise StudioError(f"cannot read {target}: {error.strerror}") from None
        if sha256 == file.sha256:  # the same bytes, put there by someone: remember them
            self.record.put(file.path, sha256=sha256, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        return sha256

    def upload(
        self, batch: list[LocalFile], *, last: bool, uploaded: Callable[[LocalFile], None]
    ) -> None:
        for file in batch:
            target = self.root / file.path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(target) as temporary:
                    shutil.copyfile(file.source, temporary)
                    with temporary.open("rb+") as stream:  # on disk before the feed names it
                        os.fsync(stream.fileno())
                stat = target.stat()
            except OSError as error:
                where = error.filename or target
                raise StudioError(f"cannot write {where}: {error.strerror}") from None
            self.record.put(
                file.path, sha256=file.sha256, size=file.size, mtime_ns=stat.st_mtime_ns
            )
            uploaded(file)

    def delete(self, paths: list[str], deleted: Callable[[str], None]) -> None:
        for path in paths:
            try:
                (self.root / path).unlink(missing_ok=True)
            except OSError as error:
                raise StudioError(f"cannot delete {self.root / path}: {error.strerror}") from None
            self.record.forget(path)
            deleted(path)

    def read_feed(self) -> bytes | None:
        try:
            return (self.root / FEED_NAME).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StudioError(f"cannot read {self.root / FEED_NAME}: {error.strerror}") from None

    def close(self) -> None:
        pass
