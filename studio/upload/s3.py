"""Publishing to S3 and S3-compatible storage (Cloudflare R2, Backblaze B2, MinIO) with boto3.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, ~/.aws, an
instance role); `publish.profile`, `publish.region` and `publish.endpoint_url` choose among them.
Each file is one PUT, which S3 applies whole or not at all: the feed, put last, replaces the
live one in a single step. A PUT carries the file's MD5 (Content-MD5), so the storage refuses
bytes damaged on the way, and its SHA-256 as metadata.
"""

from __future__ import annotations

import base64
import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from studio.errors import StudioError
from studio.upload.destinations import Destination
from studio.upload.local import FEED_NAME, LocalFile, for_listeners
from studio.upload.record import Comparison, UploadRecord

if TYPE_CHECKING:
    from studio.show.config import PublishSettings

MAX_PUT_BYTES = 5 * 1024**3  # S3's limit for one PUT
PARALLEL_PUTS = 4  # boto3 clients are thread-safe; within a batch, order does not matter


class S3Remote:
    def __init__(
        self,
        destination: Destination,
        settings: PublishSettings,
        record: UploadRecord,
        excludes: Iterable[str] = (),
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StudioError("publishing to S3 needs boto3: pip install 'studio[s3]'") from None
        self.destination = destination
        self.bucket = destination.host
        self.prefix = destination.path
        self.record = record
        self._lock = threading.Lock()  # the record, written as each PUT completes
        self.excludes = tuple(excludes)
        endpoint = settings.endpoint_url or None
        config = Config(
            connect_timeout=10,
            read_timeout=120,
            retries={"max_attempts": 4, "mode": "standard"},
            # boto3 >= 1.36 adds CRC checksums some S3-compatible stores refuse; Content-MD5,
            # which they all check, is sent instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # Other stores (MinIO, a local endpoint) want the bucket in the path.
            s3={"addressing_style": "path" if endpoint else "auto"},
        )
        with self._errors("list"):
            session = boto3.session.Session(
                profile_name=settings.profile or None, region_name=settings.region or None
            )
            self.client = session.client("s3", endpoint_url=endpoint, config=config)
            # A listing, not HEAD: its error names the problem (HEAD's has no body to).
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)

    def _errors(self, doing: str) -> Any:
        return _S3Errors(self.destination, doing)

    def _key(self, path: str) -> str:
        return f"{self.prefix}{path}"

    def compare(self, files: list[LocalFile]) -> Comparison:
        listing: dict[str, tuple[str, int]] = {}
        with self._errors("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    path = item["Key"][len(self.prefix) :]
                    listing[path] = (item.get("ETag", "").strip('"'), int(item.get("Size", -1)))
        result = Comparison()
        for file in files:
            remote = listing.get(file.path)
            if remote is None:
                result.new.append(file)
            elif self._same(file, *remote):
                result.unchanged.append(file)
            else:
                result.changed.append(file)
        ours = {file.path for file in files}
        result.extra = sorted(
            path for path in listing if path not in ours and for_listeners(path, self.excludes)
        )
        return result

    def _same(self, file: LocalFile, etag: str, size: int) -> bool:
        """Whether the object holds `file`'s bytes with the headers it would be sent with."""
        if size != file.size:
            return False
        entry = self.record.get(file.path)
        if entry and entry.get("etag") == etag and entry.get("size") == size:
            # As studio left it: the record knows its bytes and headers.
            return (
                entry.get("sha256") == file.sha256
                and entry.get("content_type") == file.content_type
                and entry.get("cache_control") == file.cache_control
            )
        if etag != file.md5:  # a single-part object's ETag is its MD5; else it cannot be told
            return False
        with self._errors("read"):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(file.path))
        if (head.get("ContentType"), head.get("CacheControl")) != (
            file.content_type,
            file.cache_control,
        ):
            return False
        self.record.put(
            file.path,
            sha256=file.sha256,
            size=size,
            etag=etag,
            content_type=file.content_type,
            cache_control=file.cache_control,
        )
        return True

    def upload(
        self, batch: list[LocalFile], *, last: bool, uploaded: Callable[[LocalFile], None]
    ) -> None:
        """PUT the batch a few files at a time (a back catalogue's first publish is latency
        bound), every one done before returning; the first failure stops the rest."""
        for file in batch:
            if file.size > MAX_PUT_BYTES:
                raise StudioError(f"{file.source} is over 5 GiB, more than one S3 PUT takes")
        if len(batch) == 1:
            self._put(batch[0])
            uploaded(batch[0])
            return
        with concurrent.futures.ThreadPoolExecutor(PARALLEL_PUTS) as pool:
            running = {pool.submit(self._put, file): file for file in batch}
            try:
                for done in concurrent.futures.as_completed(running):
                    done.result()
                    uploaded(running[done])
            except BaseException:
                for future in running:
                    future.cancel()
                raise

    def _put(self, file: LocalFile) -> None:
        with self._errors("upload to"), file.source.open("rb") as body:
            answer = self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(file.path),
                Body=body,
                ContentLength=file.size,
                ContentType=file.content_type,
                CacheControl=file.cache_control,
                ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode("ascii"),
                Metadata={"sha256": file.sha256},
            )
        with self._lock:
            self.record.put(
                file.path,
                sha256=file.sha256,
                size=file.size,
                etag=answer.get("ETag", "").strip('"'),
                content_type=file.content_type,
                cache_control=file.cache_control,
            )

    def delete(self, paths: list[str], deleted: Callable[[str], None]) -> None:
        for start in range(0, len(paths), 1000):  # S3's limit per request
            chunk = paths[start : start + 1000]
            with self._errors("delete from"):
                answer = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": self._key(p)} for p in chunk], "Quiet": True},
                )
            failed = answer.get("Errors") or []
            if failed:
                first = failed[0]
                raise StudioError(
                    f"cannot delete s3://{self.bucket}/{first.get('Key')}: "
                    f"{first.get('Message') or first.get('Code')}"
                )
            for path in chunk:
                self.record.forget(path)
                deleted(path)

    def read_feed(self) -> bytes | None:
        from botocore.exceptions import ClientError

        with self._errors("read"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(FEED_NAME))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None  # no feed there yet
                raise
            return answer["Body"].read()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


class _S3Errors:
    """boto3's exceptions as one line that says what to check."""

    def __init__(self, destination: Destination, doing: str) -> None:
        self.destination = destination
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, trace: Any) -> bool:
        if error is None:
            return False
        from botocore import exceptions as boto

        where = f"s3://{self.destination.host}"
        if isinstance(error, boto.ClientError):
            info = error.response.get("Error", {})
            code = str(info.get("Code", ""))
            message = info.get("Message") or code
            if code in ("NoSuchBucket", "404", "NotFound"):
                line = f"bucket {self.destination.host} does not exist (or is at another endpoint)"
            elif code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                          "ExpiredToken", "AuthorizationHeaderMalformed"):  # fmt: skip
                line = (
                    f"{where} refused the credentials ({code}): check AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or publish.profile"
                )
            elif code in ("AccessDenied", "403", "Forbidden"):
                line = f"access denied to {where}: the credentials may not {self.doing} it"
            else:
                line = f"cannot {self.doing} {where}: {message} ({code})"
        elif isinstance(error, boto.NoCredentialsError):
            line = (
                f"no credentials to {self.doing} {where}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / publish.profile"
            )
        elif isinstance(error, boto.ProfileNotFound):
            line = f"{error}: name a profile in ~/.aws/config, or none"
        elif isinstance(error, (boto.EndpointConnectionError, boto.ConnectTimeoutError)):
            line = f"cannot reach the S3 endpoint for {where}: {error}"
        elif isinstance(error, (boto.BotoCoreError, OSError)):
            line = f"cannot {self.doing} {where}: {error}"
        else:
            return False
        raise StudioError(" ".join(line.split())) from None
