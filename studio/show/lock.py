"""The output folder's lock: one build (or feed) writes into it at a time."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from studio.errors import StudioError
from studio.show.config import Show

LOCK_NAME = ".studio-build.lock"


@contextlib.contextmanager
def output_lock(show: Show) -> Iterator[None]:
    """Hold the output folder's lock: one build (or feed) writes into it at a time."""
    try:
        show.output.mkdir(parents=True, exist_ok=True)
        handle = (show.output / LOCK_NAME).open("a")
    except OSError as error:
        raise StudioError(
            f"cannot write to the output folder {show.output}: {error.strerror}"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudioError(
                f"another studio build is writing to {show.output}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
