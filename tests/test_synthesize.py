"""The synthesis edge: takes made in a worker process, cleaned of breaths, cached with a record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.breath import BreathSettings, clean_take
from studio.cache import TakeCache
from studio.errors import StudioError
from studio.render import take_keys
from studio.synthesize import synthesize
from studio.takes import CachedTakes, cleaned_records
from studio.types import Script, ScriptChapter, Segment
from studio.voices import VoiceProfile, load_profile, open_engine

pytestmark = pytest.mark.slow  # synthesizes with the bundled voice in its worker process

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


def test_takes_are_synthesized_then_cleaned_and_both_are_cached(cache_dir: Path) -> None:
    profile = VoiceProfile()
    engine = open_engine(profile, cache_dir)
    breath = BreathSettings(mode="attenuate")
    seen: list[tuple[int, int]] = []
    raw = synthesize(
        SCRIPT,
        take_keys(SCRIPT, engine),
        profile,
        cache_dir,
        lambda done, total, _: seen.append((done, total)),
    )
    assert seen[-1] == (2, 2)
    cache = TakeCache(cache_dir)
    records = cleaned_records(raw, take_keys(SCRIPT, engine, breath), cache, breath)
    for segment, record, made in zip(SCRIPT.segments, records, raw, strict=True):
        assert record.key != made.key
        assert cache.meta(record.key)["breaths"] == list(record.breaths)
        expected, events = clean_take(engine.synthesize(segment.text).audio, 22050, breath)
        assert len(events) == len(record.breaths)
        cached = cache.get(record.key)
        assert cached is not None
        assert np.max(np.abs(cached[0] - expected)) < 1e-5  # the cleaned take, as 24-bit FLAC

    again = synthesize(SCRIPT, take_keys(SCRIPT, engine), profile, cache_dir)
    assert all(record.cached for record in again)
    sizes = [
        t.audio.size
        for t in CachedTakes(cache, cleaned_records(again, [r.key for r in records], cache, breath))
    ]
    assert sizes == [t.audio.size for t in CachedTakes(cache, records)]


def test_a_repeated_sentence_is_synthesized_once_and_reported_for_each_place(
    cache_dir: Path,
) -> None:
    repeated = Segment("This line comes back twice in the dedupe test.", "Back twice.", 0.3)
    script = Script(
        "Twice",
        (
            ScriptChapter(
                "Twice",
                (
                    repeated,
                    Segment("Between the two, a dedupe test line.", "Between.", 0.3),
                    repeated,
                ),
            ),
        ),
    )
    profile = VoiceProfile()
    keys = take_keys(script, open_engine(profile, cache_dir))
    heard: list[int] = []
    progress: list[tuple[int, int]] = []
    records = synthesize(
        script,
        keys,
        profile,
        cache_dir,
        lambda done, total, _: progress.append((done, total)),
        on_take=lambda index, _: heard.append(index),
    )
    assert sorted(heard) == [0, 1, 2]
    assert records[0].key == records[2].key and not records[2].cached
    assert len(progress) == 3 and progress[-1] == (3, 3)  # the start, then two takes made


def test_without_cleaning_the_raw_take_is_the_take(cache_dir: Path) -> None:
    engine = open_engine(VoiceProfile(), cache_dir)
    off = BreathSettings(enabled=False)
    assert take_keys(SCRIPT, engine, off) == take_keys(SCRIPT, engine)


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
