"""The code base stays ruff clean: lint and formatting are part of the test suite."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if executable is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    return subprocess.run([executable, *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_check() -> None:
    result = ruff("check", "studio", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout


def test_ruff_format() -> None:
    result = ruff("format", "--check", "studio", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout
