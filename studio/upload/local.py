"""What of a show's output folder is uploaded, and how: each listener file with its hashes, its
Content-Type and Cache-Control, and its place in the upload order (the feed last).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import mimetypes
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from lxml import etree

from studio.errors import StudioError
from studio.files import write_text_atomic
from studio.manifest import Manifest

FEED_NAME = "feed.xml"

# Never for listeners, wherever they sit: editors' and desktops' droppings, partial files.
_JUNK_NAMES = {"Thumbs.db", "desktop.ini", "__pycache__", "__MACOSX"}
_JUNK_SUFFIXES = (".tmp", ".part", ".partial", ".lock", ".swp", ".bak", "~")

# Types the feed names or the site serves, spelled as the feed and podcast apps expect them;
# anything else falls back to Python's table, then to application/octet-stream.
_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".xsl": "application/xslt+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".webmanifest": "application/manifest+json",
}

# How long a browser, podcast app or CDN may keep a copy. The feed and pages must refresh within
# minutes; a file whose name carries a hash of its bytes never changes; any other file (audio
# too: `<slug>.mp3` is rewritten in place when an essay is edited) may change at the same URL.
SHORT_CACHE = "public, max-age=300"
MEDIUM_CACHE = "public, max-age=3600"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
_CONTENT_ADDRESSED = re.compile(r"[.\-_][0-9a-f]{8,64}\.[A-Za-z0-9]+$")

# The feed's elements that name files listeners fetch: each must be uploaded before the feed.
_NAMED_FILES = (
    ("enclosure", "url"),
    ("{https://podcastindex.org/namespace/1.0}chapters", "url"),
    ("{https://podcastindex.org/namespace/1.0}transcript", "url"),
    ("{http://www.itunes.com/dtds/podcast-1.0.dtd}image", "href"),
)


@dataclasses.dataclass(frozen=True)
class LocalFile:
    """One file to upload: `path` is posix, relative to the output folder (the remote key)."""

    path: str
    source: Path
    size: int
    sha256: str
    md5: str
    content_type: str
    cache_control: str

    @property
    def rank(self) -> int:
        return upload_rank(self.path)


def upload_rank(path: str) -> int:
    """Where a file goes in the upload order: media, sidecars and assets first; then the pages
    that link to them; then the home page; the feed, which names them all, last of all."""
    if path == FEED_NAME:
        return 3
    if path == "index.html":
        return 2
    if path.endswith((".html", ".htm")):
        return 1
    return 0


def in_upload_order(files: Iterable[LocalFile]) -> list[list[LocalFile]]:
    """`files` in batches, each to be in place before the next starts (the feed alone, last)."""
    batches: dict[int, list[LocalFile]] = {}
    for file in sorted(files, key=lambda f: (f.rank, f.path)):
        batches.setdefault(file.rank, []).append(file)
    return [batches[rank] for rank in sorted(batches)]


def content_type(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    if path == FEED_NAME:
        return "application/rss+xml"
    if name.endswith(".chapters.json"):
        return "application/json+chapters"  # podcast:chapters' own type
    suffix = PurePosixPath(name).suffix
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def cache_control(path: str, overrides: Mapping[str, str] | None = None) -> str:
    """The Cache-Control for `path`: the first of `overrides` (glob -> header) that matches it,
    else studio's policy (see SHORT_CACHE)."""
    for pattern, header in (overrides or {}).items():
        if fnmatch.fnmatchcase(path, pattern):
            return header
    if upload_rank(path) > 0:
        return SHORT_CACHE
    if _CONTENT_ADDRESSED.search(PurePosixPath(path).name):
        return IMMUTABLE_CACHE
    return MEDIUM_CACHE


def for_listeners(path: str, excludes: Iterable[str] = ()) -> bool:
    """Whether a file at `path` (posix, relative to the output folder) may be published: never a
    hidden file or folder (`.studio/`, `.DS_Store`, an atomic writer's temporary file), a lock,
    partial or backup file, or anything the show's `publish.exclude` names."""
    parts = PurePosixPath(path).parts
    if any(part.startswith(".") or part in _JUNK_NAMES for part in parts):
        return False
    if parts[-1].endswith(_JUNK_SUFFIXES):
        return False
    return not any(fnmatch.fnmatchcase(path, pattern) for pattern in excludes)


class HashCache:
    """Hashes of the output's files by size and mtime (in the show's state), so a publish does
    not read a back catalogue of audio again to learn it has not changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, list] = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(self.entries, dict):
                raise ValueError
        except (OSError, ValueError):
            self.entries = {}  # missing or damaged: hash everything again
        self.changed = False

    def hashes(self, source: Path, stat_key: list[int]) -> tuple[str, str]:
        key = str(source)
        entry = self.entries.get(key)
        if isinstance(entry, list) and len(entry) == 4 and entry[:2] == stat_key:
            return entry[2], entry[3]
        sha256, md5 = file_hashes(source)
        self.entries[key] = [*stat_key, sha256, md5]
        self.changed = True
        return sha256, md5

    def save(self, keep: set[str]) -> None:
        entries = {key: value for key, value in self.entries.items() if key in keep}
        if self.changed or entries != self.entries:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(entries, indent=0, sort_keys=True))


def file_hashes(path: Path) -> tuple[str, str]:
    """SHA-256 (what studio compares) and MD5 (what S3 reports as a single-part ETag)."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def listener_files(
    output: Path,
    *,
    excludes: Iterable[str] = (),
    cache_overrides: Mapping[str, str] | None = None,
    hash_cache: HashCache | None = None,
) -> list[LocalFile]:
    """Every file of `output` that is for listeners, in path order.

    Left out besides `for_listeners`' refusals: symbolic links (studio writes none, and one
    could publish a file from outside the folder) and render manifests (`<slug>.json` beside
    `<slug>.mp3`, from `studio render --out` into the folder).
    """
    excludes = tuple(excludes)
    found = []
    for source in sorted(output.rglob("*")):
        path = source.relative_to(output).as_posix()
        if source.is_symlink() or not source.is_file() or not for_listeners(path, excludes):
            continue
        if _is_manifest(source):
            continue
        stat = source.stat()
        stat_key = [stat.st_size, stat.st_mtime_ns]
        if hash_cache is not None:
            sha256, md5 = hash_cache.hashes(source, stat_key)
        else:
            sha256, md5 = file_hashes(source)
        found.append(
            LocalFile(
                path=path,
                source=source,
                size=stat.st_size,
                sha256=sha256,
                md5=md5,
                content_type=content_type(path),
                cache_control=cache_control(path, cache_overrides),
            )
        )
    return found


def _is_manifest(source: Path) -> bool:
    if source.suffix != ".json" or source.name.endswith(".chapters.json"):
        return False
    return source.with_suffix(".mp3").is_file() and Manifest.read(source) is not None


def check_feed(files: list[LocalFile], base_url: str, output: Path) -> None:
    """Refuse to publish a feed that names a file of the show that would not be uploaded: a
    listener would fetch an episode whose audio is not there."""
    by_path = {file.path: file for file in files}
    feed = by_path.get(FEED_NAME)
    if feed is None:
        raise StudioError(f"no {FEED_NAME} in {output}: run `studio build` first")
    try:
        root = etree.fromstring(feed.source.read_bytes(), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        raise StudioError(f"{feed.source} is not a valid feed: {error}") from None
    prefix = base_url.rstrip("/") + "/"
    named = [
        element.get(attribute) or ""
        for tag, attribute in _NAMED_FILES
        for element in root.iter(tag)
    ]
    named += [element.text or "" for element in root.iterfind("channel/image/url")]
    for url in (url.strip() for url in named):
        if not url.startswith(prefix):
            continue  # a file hosted elsewhere is not ours to upload
        path = unquote(url.removeprefix(prefix).split("?")[0].split("#")[0])
        if path not in by_path:
            raise StudioError(
                f"{FEED_NAME} names {url}, but {path} is not in the output folder (or is "
                "excluded from publishing): run `studio build`, or fix publish.exclude"
            )
