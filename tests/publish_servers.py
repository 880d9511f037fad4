"""Real servers on 127.0.0.1 for the publish tests, and a real show to publish.

`sshd`: OpenSSH's server with its own host key, one authorized key and a config of its own, on a
free port (the tests connect as the user running them, by key only). `moto_s3`: moto's standalone
S3 server, whose request log records the order objects arrived in. Both are stopped when their
context exits, whatever happened inside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import run_studio

BASE_URL = "https://audio.example.org/essays"

# Two short essays: the real build stays quick, and the feed names two of everything.
FIRST = """---
title: The First Walk
date: 2026-11-02
---

A short line to read.

## The second part

Another short line.
"""
SECOND = """---
title: Rivers & Roads
date: 2026-11-09
---

Cats sleep all day. Dogs do not.
"""


def build_show(folder: Path) -> Path:
    """`studio init`, the starter essay replaced by two of ours, and a real `studio build`."""
    result = run_studio("init", str(folder), "--title", "Walks", "--author", "Ada Brook")
    assert result.returncode == 0, result.stderr
    config = folder / "studio.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("https://example.com/podcast", BASE_URL)
    text = text.replace("you@example.com", "ada@audio.example.org")
    config.write_text(text, encoding="utf-8")
    (folder / "essays" / "welcome.md").unlink()
    (folder / "essays" / "first.md").write_text(FIRST, encoding="utf-8")
    (folder / "essays" / "second.md").write_text(SECOND, encoding="utf-8")
    result = run_studio("build", "--config", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "feed.xml (2 episodes)" in result.stdout
    return folder


def set_publish(folder: Path, table: str) -> None:
    """Replace the show's `[publish]` table (wherever it is in studio.toml) by `table`'s lines."""
    config = folder / "studio.toml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[publish\]\n.*?(?=^\[(?!publish[.\]])|\Z)", "", text)
    config.write_text(f"{text.rstrip()}\n\n[publish]\n{table}\n", encoding="utf-8")


def add_site(public: Path) -> None:
    """The show's website beside the episodes (`studio build` writes it), and a page nested one
    folder deeper, as a show's own templates might add."""
    for page in ("index.html", "episodes/first.html", "embed/first.html", "assets/studio.css"):
        assert (public / page).is_file(), page
    (public / "episodes" / "first").mkdir(parents=True)
    (public / "episodes" / "first" / "index.html").write_text("<!doctype html><title>1</title>")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclasses.dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    key: Path
    known_hosts: Path
    log: Path

    @property
    def ssh_command(self) -> str:
        """How the client reaches it: this key only, this host key only, no user config."""
        return shlex.join([
            "ssh", "-F", "/dev/null", "-i", str(self.key), "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        ])  # fmt: skip

    def destination(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def sshd(folder: Path) -> Iterator[SshServer]:
    """An sshd of the test's own, on 127.0.0.1, accepting only `key` (the running user, root
    included, by key alone), stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    host_key, user_key = folder / "host_key", folder / "user_key"
    _keygen(host_key)
    _keygen(user_key)
    authorized = folder / "authorized_keys"
    shutil.copy(user_key.with_suffix(".pub"), authorized)
    authorized.chmod(0o600)
    port = free_port()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.with_suffix('.pub').read_text()}")
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
        "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nLogLevel VERBOSE\n"
    )
    # sshd refuses to start without its privilege separation folder (Debian makes it at boot).
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    process = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        _wait_for_port(port, process, log)
        user = (
            os.environ.get("USER")
            or subprocess.run(
                ["id", "-un"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        yield SshServer(port, user, user_key, known_hosts, log)
    finally:
        _stop(process)


@dataclasses.dataclass(frozen=True)
class S3Server:
    endpoint: str
    log: Path

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request the server answered, in order, from its log."""
        found = []
        text = self.log.read_text(encoding="utf-8", errors="replace")
        for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines():
            # werkzeug: 127.0.0.1 - - [03/Dec/2026 07:40:01] "PUT /bucket/key HTTP/1.1" 200 -
            if '"' in line:
                parts = line.split('"')[1].split()
                if len(parts) == 3 and parts[2].startswith("HTTP/"):
                    found.append((parts[0], parts[1]))
        return found


@contextlib.contextmanager
def moto_s3(folder: Path, env: dict[str, str] | None = None) -> Iterator[S3Server]:
    """moto's standalone server (`moto_server`) on 127.0.0.1, stopped on exit. `env`, e.g.
    INITIAL_NO_AUTH_ACTION_COUNT=0, makes it check credentials as S3 does."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / f"moto-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        env={**os.environ, **(env or {})},
    )
    try:
        _wait_for_port(port, process, log)
        endpoint = f"http://127.0.0.1:{port}"
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=10).close()
        yield S3Server(endpoint, log)
    finally:
        _stop(process)
