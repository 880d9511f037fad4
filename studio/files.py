"""Atomic file writes: a crash never leaves a half-written file where a good one is expected.

A temporary file carries the id of the process writing it (`.<stem>.tmp<pid>.<random><suffix>`),
so a later run can tell the leftovers of a killed one from a live run's work in progress.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

# A temporary file whose name has no writer's pid (made before names carried one) is stale once
# nothing has written to it for this long: a live render appends to its MP3 every few seconds.
UNOWNED_STALE_SECONDS = 3600.0

_OWNER = re.compile(r"\.tmp(\d+)\.[a-z0-9_]{8}(?:\.[^.]+)?$")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, else remove it.

    The temporary name keeps the suffix, so libraries that pick a format from it still work.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.tmp{os.getpid()}.", suffix=path.suffix
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def sweep_stale(candidates: Iterable[Path]) -> int:
    """Remove the temporary files among `candidates` that no live process is writing.

    One is stale when the process named in it is gone, or (names without one) when it has not
    been written for `UNOWNED_STALE_SECONDS`. Returns how many were removed.
    """
    removed = 0
    now = time.time()
    for path in candidates:
        if not path.name.startswith(".") or not path.is_file():
            continue
        owner = _OWNER.search(path.name)
        try:
            if owner is not None:
                stale = not process_alive(int(owner.group(1)))
            else:
                stale = now - path.stat().st_mtime > UNOWNED_STALE_SECONDS
            if stale:
                path.unlink()
                removed += 1
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user's counts)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill there ends the process: count every owner as alive
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
