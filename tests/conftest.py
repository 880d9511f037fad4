from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One take cache for the whole run, so tests that speak the same text synthesize it once."""
    path = tmp_path_factory.mktemp("studio-cache")
    os.environ["STUDIO_CACHE_DIR"] = str(path)
    return path


def run_studio(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `studio` command in a fresh process, as a user would (`env`: extra
    environment variables)."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
        timeout=900,
    )


# Most of test_breath.py reaches the bundled voice only through fixtures (`engine`, under the
# shared breath fixture), so its slow tests are marked by what they need, in one place: the
# voice, or a comparison with librosa (a numba JIT of half a minute).
_SLOW_BREATH_FIXTURES = {"engine"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name != "test_breath.py":
            continue
        needs_voice = _SLOW_BREATH_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs_voice or "match_librosa" in item.name:
            item.add_marker(pytest.mark.slow)
