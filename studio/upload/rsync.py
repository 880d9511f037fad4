"""Publishing over SSH with the system's rsync and ssh (the user's keys, agent and ~/.ssh/config).

rsync compares by content (`--checksum`), so a file changed on the server by someone else is
sent again, and one already there is skipped even when its mtime differs (a fresh checkout in
CI). It writes each file to a temporary name and renames it into place; the feed goes in a run
of its own, after every other file is in place, with `--delay-updates`.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import StudioError
from studio.upload.destinations import Destination
from studio.upload.local import FEED_NAME, LocalFile, for_listeners
from studio.upload.record import Comparison, UploadRecord

if TYPE_CHECKING:
    from studio.show.config import PublishSettings

_COMMON = (
    "--recursive",
    "--checksum",
    "--perms",
    "--chmod=D755,F644",  # readable by the web server, whatever the local umask
    "--timeout=120",  # no data for this long: the connection is gone
    "--8-bit-output",  # names as they are (UTF-8), not escaped, so they can be matched
)


class RsyncRemote:
    def __init__(
        self,
        destination: Destination,
        settings: PublishSettings,
        output: Path,
        record: UploadRecord,
        excludes: Iterable[str] = (),
    ) -> None:
        if shutil.which("rsync") is None:
            raise StudioError("publishing over SSH needs rsync: install it (apt-get install rsync)")
        self.destination = destination
        self.output = output
        self.record = record
        self.excludes = tuple(excludes)
        path = destination.path.rstrip("/") or "/"
        self.target = f"{destination.host}:{path}/"
        ssh = shlex.split(settings.ssh_command)
        if destination.port is not None:
            ssh += ["-p", str(destination.port)]
        # BatchMode: never stop to ask for a password, fail with ssh's own reason instead.
        ssh += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
        self.rsh = shlex.join(ssh)

    def _rsync(self, *args: str, files: Iterable[str] | None = None) -> list[str]:
        """Run rsync from the output folder to the destination; its itemized lines."""
        with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as listing:
            extra: list[str] = []
            if files is not None:
                listing.write("\0".join(files))
                listing.flush()
                extra = [f"--files-from={listing.name}", "--from0"]
            command = [
                "rsync", *_COMMON, "--rsh", self.rsh, "--out-format=%i %n",
                *extra, *args, f"{self.output}/", self.target,
            ]  # fmt: skip
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
            except subprocess.TimeoutExpired:
                raise StudioError(f"rsync to {self.destination} took over an hour") from None
        if done.returncode != 0:
            raise StudioError(self._failure(done.returncode, done.stderr))
        return done.stdout.splitlines()

    def _failure(self, code: int, stderr: str) -> str:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        host = self.destination.host
        # ssh's own lines (and the remote shell's) are the ones not from rsync.
        others = [line for line in lines if not line.startswith(("rsync", "@"))]
        never_connected = any("0 bytes received so far" in line for line in lines)
        if (code == 255 or never_connected) and others:
            reason = others[0].removeprefix("ssh: ")
            if "Permission denied" in reason:
                return f"SSH refused the login to {host}: {reason}; check the user and key"
            if "rsync" in reason and ("not found" in reason or "No such file" in reason):
                return f"{host} has no rsync: install it there ({reason})"
            return f"cannot reach {host} over SSH: {reason}"
        errors = [line for line in lines if line.startswith("rsync:")] or lines
        reason = errors[0].removeprefix("rsync: ") if errors else f"exit status {code}"
        return f"rsync to {self.destination} failed: {reason}"

    def compare(self, files: list[LocalFile]) -> Comparison:
        by_path = {file.path: file for file in files}
        result = Comparison()
        sent = {}
        for line in self._rsync("--dry-run", files=by_path):
            item, _, name = line.partition(" ")
            if item.startswith("<f"):
                if name not in by_path:  # a name rsync escaped: never pass it for unchanged
                    raise StudioError(f"rsync named a file studio cannot match: {name!r}")
                sent[name] = item
        for file in files:
            if file.path not in sent:
                result.unchanged.append(file)
                self._note(file, save=False)  # the server holds exactly this: studio's file
            elif "+++++++++" in sent[file.path]:
                result.new.append(file)
            else:
                result.changed.append(file)
        self.record.save()
        result.extra = [
            path
            for path in self._remote_files()
            if path not in by_path and for_listeners(path, self.excludes)
        ]
        return result

    def _note(self, file: LocalFile, save: bool = True) -> None:
        entry = self.record.get(file.path)
        if not entry or entry.get("sha256") != file.sha256:
            self.record.put(file.path, sha256=file.sha256, size=file.size, save=save)

    def _remote_files(self) -> list[str]:
        command = [
            "rsync", "--recursive", "--list-only", "--8-bit-output", "--rsh", self.rsh, self.target,
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise StudioError(f"listing {self.destination} took over ten minutes") from None
        if done.returncode == 23 and "No such file or directory" in done.stderr:
            return []  # not there yet: the first upload makes it
        if done.returncode != 0:
            raise StudioError(self._failure(done.returncode, done.stderr))
        found = []
        for line in done.stdout.splitlines():
            # "-rw-r--r--          1,234 2026/12/03 07:15:39 name with spaces"
            fields = line.split(None, 4)
            if len(fields) == 5 and fields[0].startswith("-"):
                found.append(fields[4])
        return sorted(found)

    def upload(
        self, batch: list[LocalFile], *, last: bool, uploaded: Callable[[LocalFile], None]
    ) -> None:
        by_path = {file.path: file for file in batch}
        # The feed's run puts its files in place only once all have arrived.
        lines = self._rsync(*(["--delay-updates"] if last else []), files=by_path)
        for line in lines:
            item, _, name = line.partition(" ")
            if item.startswith("<f") and name in by_path:
                file = by_path.pop(name)
                self._note(file)
                uploaded(file)

    def delete(self, paths: list[str], deleted: Callable[[str], None]) -> None:
        # rsync deletes on the receiver each listed path that is missing here.
        missing = [path for path in paths if not (self.output / path).exists()]
        if not missing:
            return
        for line in self._rsync("--delete-missing-args", files=missing):
            if line.startswith("*deleting"):
                path = line.removeprefix("*deleting").strip()
                self.record.forget(path)
                deleted(path)

    def read_feed(self) -> bytes | None:
        with tempfile.TemporaryDirectory(prefix="studio-feed-") as folder:
            command = [
                "rsync", "--timeout=120", "--rsh", self.rsh,
                f"{self.target}{FEED_NAME}", f"{folder}/",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if done.returncode == 23 and "No such file or directory" in done.stderr:
                return None
            if done.returncode != 0:
                raise StudioError(self._failure(done.returncode, done.stderr))
            return (Path(folder) / FEED_NAME).read_bytes()

    def close(self) -> None:
        pass
