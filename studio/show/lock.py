"""The show's lock: one build (or feed) writes into its output folder and state at a time."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from studio.errors import StudioError
from studio.show.config import Show

LOCK_NAME = "build.lock"  # in the show's state folder, never in the published output
OLD_LOCK_NAME = ".studio-build.lock"  # where studio 0.x kept it: in the output folder


@contextlib.contextmanager
def output_lock(show: Show) -> Iterator[None]:
    """Hold the show's lock: one build (or feed) writes into its output folder at a time."""
    try:
        show.state.mkdir(parents=True, exist_ok=True)
        show.output.mkdir(parents=True, exist_ok=True)
        handle = (show.state / LOCK_NAME).open("a")
    except OSError as error:
        raise StudioError(
            f"cannot write to {error.filename or show.output}: {error.strerror}"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudioError(
                f"another studio build is writing to {show.output}; wait for it to finish"
            ) from None
        try:
            (show.output / OLD_LOCK_NAME).unlink(missing_ok=True)  # not to be uploaded
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
