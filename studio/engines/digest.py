"""File hashes for engine identities, memoized so a cache key never pays twice for a big model.

An XTTS v2 checkpoint is 1.8 GB: hashing it takes seconds, and every render computes its take keys
from the model's hash. Hashes are memoized in the process, and, for big files, on disk beside the
take cache, keyed by the file's path, size, modification time and inode (as git's index does), so
an unchanged re-render reads one small file instead of the model.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from studio.errors import StudioError
from studio.files import write_text_atomic

DISK_MEMO_BYTES = 16 << 20  # files smaller than this hash in milliseconds: no need to remember


def file_digest(path: Path, memo_dir: Path | None = None, *, what: str = "") -> str:
    """SHA-256 of a file's bytes, hex. `what` names the file in the error ("cover image")."""
    try:
        stat = path.stat()
        return _digest(path.resolve(), stat.st_size, stat.st_mtime_ns, stat.st_ino, memo_dir)
    except OSError as error:
        raise StudioError(
            f"cannot read {what + ' ' if what else ''}{path}: {error.strerror}"
        ) from None


@cache
def _digest(path: Path, size: int, mtime_ns: int, inode: int, memo_dir: Path | None) -> str:
    memo = None
    if memo_dir is not None and size >= DISK_MEMO_BYTES:
        stamp = json.dumps([str(path), size, mtime_ns, inode])
        memo = memo_dir / "digests" / f"{hashlib.sha256(stamp.encode()).hexdigest()[:32]}.txt"
        try:
            known = memo.read_text(encoding="ascii").strip()
            if len(known) == 64:
                return known
        except OSError:
            pass
    digest = hashlib.sha256()
    with open(path, "rb") as handle:  # an OSError is named by file_digest
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if memo is not None:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(memo, digest.hexdigest())
        except OSError:
            pass  # a read-only cache only costs the hash next time
    return digest.hexdigest()
