"""A content-addressed store of synthesized takes.

A take's key is the hash of its spoken text and everything about the voice that changes the audio
(engine, settings, model file hash), so an edit re-synthesizes only the segments it touched. Takes
are stored as 24-bit FLAC: lossless far below audibility, about half the size of raw floats.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from platformdirs import user_cache_dir

from studio.files import atomic_path, write_text_atomic


def default_cache_dir() -> Path:
    """`$STUDIO_CACHE_DIR`, else the platform's user cache folder."""
    return Path(os.environ.get("STUDIO_CACHE_DIR") or user_cache_dir("studio", appauthor=False))


def take_key(text: str, identity: dict[str, Any]) -> str:
    payload = json.dumps({"text": text, "voice": identity}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TakeCache:
    def __init__(self, root: Path) -> None:
        self.root = root / "takes"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.flac"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def seconds(self, key: str) -> float:
        """A cached take's duration, from its header alone."""
        try:
            return float(sf.info(self.path(key)).duration)
        except (OSError, sf.LibsndfileError):
            return 0.0

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        path = self.path(key)
        try:
            audio, sample_rate = sf.read(path, dtype="float32")
        except (OSError, sf.LibsndfileError):
            return None  # missing or damaged: synthesize again
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
        if meta:
            write_text_atomic(path.with_suffix(".json"), json.dumps(meta, ensure_ascii=False))
        with atomic_path(path) as tmp:
            sf.write(tmp, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_24")
        stored = self.get(key)
        assert stored is not None, f"take {key} vanished right after it was written"
        return stored
