"""A content-addressed store of synthesized takes.

A take's key is the hash of its spoken text and everything about the voice that changes the audio
(engine, settings, model file hash), so an edit re-synthesizes only the segments it touched. Takes
are stored as 24-bit FLAC: lossless far below audibility, about half the size of raw floats.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from platformdirs import user_cache_dir

from studio.errors import StudioError
from studio.files import atomic_path, sweep_stale, write_bytes_atomic, write_text_atomic

try:
    import fcntl
except ImportError:  # Windows: no flock, so renders there do not share their work in progress
    fcntl = None  # type: ignore[assignment]

_SIZE, _SHA256 = "bytes", "sha256"  # in each take's record, to tell a damaged take


def default_cache_dir() -> Path:
    """`$STUDIO_CACHE_DIR`, else the platform's user cache folder."""
    return Path(os.environ.get("STUDIO_CACHE_DIR") or user_cache_dir("studio", appauthor=False))


def take_key(text: str, identity: dict[str, Any]) -> str:
    payload = json.dumps({"text": text, "voice": identity}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredTake:
    """One take as the cache holds it: its FLAC file and the record beside it, byte for byte.

    This is how a take travels between caches (a cluster worker's and the build's), so that a
    take made elsewhere lands as the very files a local synthesis would have written.
    """

    key: str
    flac: bytes
    record: dict[str, Any]


class TakeCache:
    def __init__(self, root: Path) -> None:
        self.root = root / "takes"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.flac"

    def has(self, key: str) -> bool:
        """Whether a sound copy of the take is stored (a damaged one is removed: make it again)."""
        return self._read_verified(key) is not None

    def seconds(self, key: str) -> float:
        """A cached take's duration, from its header alone."""
        try:
            return float(sf.info(self.path(key)).duration)
        except (OSError, sf.LibsndfileError):
            return 0.0

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        data = self._read_verified(key)
        if data is None:
            return None
        try:
            audio, sample_rate = sf.read(io.BytesIO(data), dtype="float32")
        except (OSError, sf.LibsndfileError):
            self._discard(key)  # undecodable although its checksum matched (an old entry)
            return None
        return audio, sample_rate

    def meta(self, key: str) -> dict[str, Any]:
        """What was recorded beside a take when it was made (attempts, breaths cleaned)."""
        try:
            return json.loads(self.path(key).with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def put(
        self, key: str, audio: np.ndarray, sample_rate: int, meta: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, int]:
        """Store a take; return it exactly as a later `get` will, so cold and warm renders match.

        `meta` is written first: a take that is in the cache always has its record beside it.
        """
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            sf.write(tmp, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_24")
            data = tmp.read_bytes()
            # The record goes in before the take: a take in the cache always has its checksum.
            record = {**(meta or {}), _SIZE: len(data), _SHA256: hashlib.sha256(data).hexdigest()}
            write_text_atomic(path.with_suffix(".json"), json.dumps(record, ensure_ascii=False))
        stored = self.get(key)
        assert stored is not None, f"take {key} vanished right after it was written"
        return stored

    def entry(self, key: str) -> StoredTake | None:
        """The take's files as stored (checked against its record), or None if it is not here."""
        data = self._read_verified(key)
        return None if data is None else StoredTake(key, data, self.meta(key))

    def store(self, take: StoredTake) -> None:
        """Add a take exactly as another cache stored it, the record first (as `put` does)."""
        record = take.record
        if record.get(_SIZE) != len(take.flac) or (
            record.get(_SHA256) != hashlib.sha256(take.flac).hexdigest()
        ):
            raise StudioError(f"take {take.key[:12]} arrived damaged: build again")
        path = self.path(take.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path.with_suffix(".json"), json.dumps(record, ensure_ascii=False))
        write_bytes_atomic(path, take.flac)

    def claim(self, key: str) -> TakeClaim | None:
        """Claim the making of a take, or None while another live process holds the claim.

        A claim is an exclusive `flock` on `<key>.claim`, which the kernel drops when its holder
        dies however it dies: a claim whose owner was killed is free to take over, with no pid
        to check or reuse to fear. Release it once the take is in the cache (or abandoned).
        """
        if fcntl is None:
            return TakeClaim(None, None)
        path = self.path(key).with_suffix(".claim")
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                return TakeClaim(path, fd)
            os.close(fd)  # locked a claim file its holder had just removed: try the new one

    def sweep(self) -> int:
        """Remove the partial takes that killed runs left behind; how many were removed."""
        removed = sweep_stale(self._hidden_files())
        for claim in self.root.glob("*/*.claim") if fcntl is not None else ():
            held = self.claim(claim.stem)  # free: its holder is gone, so the file is litter
            if held is not None:
                held.release()
                removed += 1
        return removed

    def _hidden_files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from self.root.glob("*/.*")

    def _read_verified(self, key: str) -> bytes | None:
        """The take's bytes if they are what was written (size and SHA-256), else None.

        Entries written before checksums were recorded are taken as they are.
        """
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        record = self.meta(key)
        if _SHA256 in record and (
            record.get(_SIZE) != len(data) or hashlib.sha256(data).hexdigest() != record[_SHA256]
        ):
            self._discard(key)
            return None
        return data

    def _discard(self, key: str) -> None:
        path = self.path(key)
        for stale in (path, path.with_suffix(".json")):
            stale.unlink(missing_ok=True)


class TakeClaim:
    """A held claim on making one take (see `TakeCache.claim`)."""

    def __init__(self, path: Path | None, fd: int | None) -> None:
        self._path, self._fd = path, fd

    def release(self) -> None:
        if self._fd is None:
            return
        # Removed before it is unlocked: whoever then locks the old file sees it is not the
        # current one and tries again (claim's inode check).
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None
