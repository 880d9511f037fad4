"""Where a show is published, read from what the user wrote (`studio.toml`'s `publish.to`, or
`--to`): a local or mounted folder, `[user@]host:/path` or `ssh://[user@]host[:port]/path` for
rsync over SSH, or `s3://bucket/prefix` for S3 and S3-compatible storage (R2, B2, MinIO).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

# S3's rule for bucket names; R2, B2 and MinIO accept the same.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")


@dataclasses.dataclass(frozen=True)
class Destination:
    kind: Literal["folder", "ssh", "s3"]
    text: str  # as the user wrote it
    path: str  # the folder; the remote path; the key prefix ("" or ending in "/")
    host: str = ""  # ssh: [user@]host; s3: the bucket
    port: int | None = None  # ssh only

    def __str__(self) -> str:
        return self.text


def parse_destination(text: str) -> Destination:
    """A destination from its text, or ValueError saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ValueError("is empty: give a folder, user@host:/path or s3://bucket/prefix")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return _rsync_style(text)
    name = scheme.group(1).lower()
    if name == "s3":
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not _BUCKET.fullmatch(bucket):
            raise ValueError(f"{text!r}: {bucket!r} is not a bucket name")
        prefix = prefix.strip("/")
        return Destination("s3", text, f"{prefix}/" if prefix else "", host=bucket)
    if name == "ssh":
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{text!r} has no valid port") from None
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError(f"{text!r}: write ssh://[user@]host[:port]/path")
        host = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
        return Destination("ssh", text, unquote(parts.path), host=host, port=port)
    if name == "file":
        return Destination("folder", text, unquote(urlsplit(text).path))
    raise ValueError(
        f"{text!r}: {name}:// is not a destination studio knows; give a folder, "
        "user@host:/path (rsync over SSH) or s3://bucket/prefix"
    )


def _rsync_style(text: str) -> Destination:
    """rsync's own rule: a colon before the first slash makes `host:path` remote."""
    head, colon, path = text.partition(":")
    if colon and "/" not in head and not re.fullmatch(r"[A-Za-z]", head):
        if not head or head.endswith("@"):
            raise ValueError(f"{text!r}: write [user@]host:/path")
        return Destination("ssh", text, path or ".", host=head)
    return Destination("folder", text, str(Path(text).expanduser()))
