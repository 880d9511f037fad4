"""The synthesis edge: takes made in a worker process, cleaned of breaths, cached with a record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.breath import BreathSettings, clean_take
from studio.cache import TakeCache
from studio.errors import StudioError
from studio.render import take_keys
from studio.synthesize import CachedTakes, synthesize
from studio.types import Script, ScriptChapter, Segment
from studio.voices import VoiceProfile, load_profile, open_engine

SCRIPT = Script(
    "Breath",
    (
        ScriptChapter(
            "Breath",
            (
                Segment("A first sentence, read by the worker.", "A first sentence.", 0.3),
                Segment("And a second one after it.", "And a second one.", 0.3),
            ),
        ),
    ),
)


def test_worker_cleans_each_take_before_caching_it(cache_dir: Path) -> None:
    profile = VoiceProfile()
    engine = open_engine(profile, cache_dir)
    breath = BreathSettings(mode="attenuate")
    keys = take_keys(SCRIPT, engine, breath)
    seen: list[tuple[int, int]] = []
    records = synthesize(
        SCRIPT, keys, profile, cache_dir, lambda d, t, _: seen.append((d, t)), breath=breath
    )
    assert seen[-1] == (2, 2)
    cache = TakeCache(cache_dir)
    for segment, record in zip(SCRIPT.segments, records, strict=True):
        assert cache.meta(record.key)["breaths"] == list(record.breaths)
        raw = engine.synthesize(segment.text).audio
        expected, events = clean_take(raw, engine.sample_rate, breath)
        assert len(events) == len(record.breaths)
        cached = cache.get(record.key)
        assert cached is not None
        assert np.max(np.abs(cached[0] - expected)) < 1e-6  # 24-bit cache of the cleaned take

    again = synthesize(SCRIPT, keys, profile, cache_dir, breath=breath)
    assert all(record.cached for record in again)
    assert [t.audio.size for t in CachedTakes(cache, again)] == [
        t.audio.size for t in CachedTakes(cache, records)
    ]


def test_breath_settings_are_part_of_the_take_key(cache_dir: Path) -> None:
    engine = open_engine(VoiceProfile(), cache_dir)
    on = take_keys(SCRIPT, engine, BreathSettings())
    off = take_keys(SCRIPT, engine, BreathSettings(enabled=False))
    assert set(on).isdisjoint(off)


def test_voice_breath_overrides_apply_and_are_validated(tmp_path: Path) -> None:
    folder = tmp_path / "calm"
    folder.mkdir()
    (folder / "voice.toml").write_text('[breath]\nmode = "remove"\n', encoding="utf-8")
    profile = load_profile(folder / "voice.toml")
    assert profile.apply_breath(BreathSettings()).mode == "remove"

    (folder / "voice.toml").write_text('[breath]\nmode = "vanish"\n', encoding="utf-8")
    with pytest.raises(StudioError, match="breath"):
        load_profile(folder / "voice.toml")
