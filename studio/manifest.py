"""What a render leaves on disk: its files (`output_paths`) and, last, the manifest beside them
(`<slug>.json`): what was rendered, from what, and where everything sits. `render` writes it and
decides from it whether an episode is up to date; a show's feed reads its duration and chapters.
Both go through `Manifest`, so the file has one definition.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from studio.files import write_text_atomic


class _Part(BaseModel):
    # Unknown keys are ignored: a manifest from a newer studio still reads.
    model_config = ConfigDict(frozen=True, extra="ignore")


class ManifestEssay(_Part):
    title: str
    slug: str
    author: str
    date: str | None  # ISO date
    description: str


class ManifestLoudness(_Part):
    integrated_lufs: float | None
    true_peak_dbtp: float | None


class ManifestCache(_Part):
    hits: int
    synthesized: int
    retries: int


class ManifestBreaths(_Part):
    mode: str  # attenuate, remove, cut, or off
    found: int
    seconds: float


class ManifestChapter(_Part):
    title: str
    start: float
    end: float


class ManifestSegment(_Part):
    chapter: int  # index into the script's chapters
    text: str  # spoken
    source: str  # as written
    start: float
    end: float
    cached: bool
    attempts: int
    notes: tuple[str, ...] = ()  # left out of the file when empty
    breaths: tuple[dict[str, Any], ...] = ()  # ditto
    key: str
    seed: int | None = None  # a retake's seed (the voice's own when absent); ditto
    tries: tuple[dict[str, Any], ...] = ()  # render --check's attempts: seed, score; ditto


class Manifest(_Part):
    studio: str
    render_key: str  # vouches for every output written before the manifest
    essay: ManifestEssay
    voice: dict[str, Any]  # its name and the engine's identity
    duration: float
    loudness: ManifestLoudness
    cache: ManifestCache
    breaths: ManifestBreaths
    chapters: tuple[ManifestChapter, ...]
    segments: tuple[ManifestSegment, ...]
    sizes: dict[str, int]  # bytes of each output but the manifest

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        for segment in data["segments"]:
            for optional in ("notes", "breaths", "tries"):
                if not segment[optional]:
                    del segment[optional]
            if segment["seed"] is None:
                del segment["seed"]
        return json.dumps(data, indent=2, ensure_ascii=False)

    def write(self, path: Path) -> None:
        write_text_atomic(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at `path`; None if there is none or it cannot be read as one."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None


def output_paths(out_dir: Path, slug: str, manifest_dir: Path | None = None) -> dict[str, Path]:
    """Where a render's files go: all in `out_dir`, but the manifest in `manifest_dir` if given
    (a show keeps manifests out of the folder it publishes)."""
    suffixes = {
        "mp3": ".mp3",
        "chapters": ".chapters.json",
        "vtt": ".vtt",
        "srt": ".srt",
        "manifest": ".json",
    }
    paths = {kind: out_dir / f"{slug}{suffix}" for kind, suffix in suffixes.items()}
    if manifest_dir is not None:
        paths["manifest"] = manifest_dir / f"{slug}.json"
    return paths
