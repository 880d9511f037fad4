"""What every destination offers `publish` (`Remote`, `Comparison`), and the record of what was
uploaded where (`UploadRecord`, one JSON file per destination in the show's state).

The record is a hint, never the truth: a destination is always compared with what it holds now
(an S3 listing's sizes and ETags, a folder's files, rsync's checksums), and the record only
vouches for a remote file that still looks exactly as studio left it. Someone else changing,
deleting or adding files there, or a lost record, costs at most an upload, never a skipped one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from studio.files import write_text_atomic
from studio.upload.destinations import Destination
from studio.upload.local import LocalFile


@dataclasses.dataclass
class Comparison:
    """The output folder against a destination."""

    new: list[LocalFile] = dataclasses.field(default_factory=list)
    changed: list[LocalFile] = dataclasses.field(default_factory=list)
    unchanged: list[LocalFile] = dataclasses.field(default_factory=list)
    extra: list[str] = dataclasses.field(default_factory=list)  # there, not in the output

    @property
    def to_upload(self) -> list[LocalFile]:
        return [*self.new, *self.changed]


class Remote(Protocol):
    def compare(self, files: list[LocalFile]) -> Comparison: ...

    def upload(
        self, batch: list[LocalFile], *, last: bool, uploaded: Callable[[LocalFile], None]
    ) -> None:
        """Put every file of `batch` in place, each whole or not at all, before returning;
        `last`: the final batch (the feed), which must replace the live copy in one step."""

    def delete(self, paths: list[str], deleted: Callable[[str], None]) -> None: ...

    def read_feed(self) -> bytes | None:
        """The live feed at the destination; None if there is none yet."""

    def close(self) -> None: ...


class UploadRecord:
    """What studio uploaded to one destination: per path, the file's SHA-256 and what the
    destination said of it (size, mtime or ETag) and the headers it was sent with."""

    def __init__(self, folder: Path, destination: Destination) -> None:
        # Where the files are, however it was written (a relative folder, a port or not).
        where = f"{destination.kind}:{destination.host}:{destination.port}:{destination.path}"
        digest = hashlib.sha256(where.encode()).hexdigest()
        self.path = folder / f"{destination.kind}-{digest[:16]}.json"
        self.where = where
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            files = data["files"] if data.get("destination") == where else {}
            self.files: dict[str, dict[str, Any]] = files if isinstance(files, dict) else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.files = {}  # missing or damaged: every file is compared with the remote again

    def get(self, path: str) -> dict[str, Any] | None:
        entry = self.files.get(path)
        return entry if isinstance(entry, dict) else None

    def put(self, path: str, *, save: bool = True, **entry: Any) -> None:
        """Note one file as it now is at the destination, at once (unless `save` is False):
        an interrupted publish keeps the record of every file it finished."""
        self.files[path] = entry
        if save:
            self.save()

    def owns(self, path: str) -> bool:
        """Whether studio knows the remote file as one of its own (it uploaded it, or found
        it holding exactly what it would upload): only those are ever deleted."""
        return path in self.files

    def forget(self, path: str) -> None:
        if self.files.pop(path, None) is not None:
            self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"destination": self.where, "files": self.files}
        write_text_atomic(self.path, json.dumps(payload, indent=1, sort_keys=True))
