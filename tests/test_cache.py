from pathlib import Path

import numpy as np

from studio.cache import TakeCache, take_key


def test_key_depends_on_text_and_voice() -> None:
    voice = {"engine": "bundled", "model": "abc"}
    assert take_key("Hello.", voice) == take_key("Hello.", dict(voice))
    assert take_key("Hello.", voice) != take_key("Hello!", voice)
    assert take_key("Hello.", voice) != take_key("Hello.", {**voice, "model": "abd"})


def test_put_returns_exactly_what_get_returns(tmp_path: Path) -> None:
    cache = TakeCache(tmp_path)
    audio = (np.sin(np.linspace(0, 200, 22050)) * 0.5).astype(np.float32)
    stored, rate = cache.put("ab" * 32, audio, 22050)
    again = cache.get("ab" * 32)
    assert again is not None
    assert rate == again[1] == 22050
    assert np.array_equal(stored, again[0])
    assert np.max(np.abs(stored - audio)) < 1e-6  # 24-bit: far below audibility
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind


def test_missing_or_damaged_take_is_a_miss(tmp_path: Path) -> None:
    cache = TakeCache(tmp_path)
    assert cache.get("cd" * 32) is None
    path = cache.path("cd" * 32)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a flac file")
    assert cache.get("cd" * 32) is None
