"""The stages after synthesis, streamed: takes arrive one by one (as from the synthesis worker)
and come out as one mastered, encoded, chaptered MP3."""

from __future__ import annotations

import threading
from pathlib import Path

import pyloudnorm
import pytest
import soundfile

from studio.assembly import EpisodeProducer
from studio.breath import BreathSettings
from studio.cache import TakeCache
from studio.config import RenderSettings
from studio.publish.mp3 import Id3Tags
from studio.takes import TakeRecord
from studio.types import Script, ScriptChapter, Segment
from tests.mp3 import read_chapters
from tests.signals import speech_like

OFF = BreathSettings(enabled=False)


def episode_inputs(tmp_path: Path, levels: list[float]) -> tuple[Script, list[str], TakeCache]:
    """A two-chapter script with one cached take per level (cleaning off: raw takes are final)."""
    cache = TakeCache(tmp_path / "cache")
    keys = []
    for index, level in enumerate(levels):
        key = f"{index:02d}" + "0" * 62
        cache.put(key, speech_like(3.0, 22050, seed=index, level=level), 22050)
        keys.append(key)
    half = len(levels) // 2
    segments = [Segment(f"Sentence {i}.", f"Sentence {i}.", 0.5) for i in range(len(levels))]
    script = Script(
        "Streams",
        (ScriptChapter("", tuple(segments[:half])), ScriptChapter("Later", tuple(segments[half:]))),
    )
    return script, keys, cache


def producer(script: Script, keys: list[str], cache: TakeCache, out: Path) -> EpisodeProducer:
    return EpisodeProducer(
        script,
        keys,
        cache,
        RenderSettings(),
        breath=OFF,
        mp3=out,
        tags=Id3Tags(title="Streams"),
    )


def deliver(producer: EpisodeProducer, keys: list[str], upto: int | None = None) -> None:
    """Hand takes over from another thread, as the synthesis loop does."""

    def run() -> None:
        for index, key in enumerate(keys[:upto]):
            producer.take_ready(index, TakeRecord(key, cached=False))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.parametrize(
    "levels",
    [[0.2] * 10, [0.02] * 5 + [0.3] * 5],
    ids=["steady", "quiet-first-half"],
)
def test_streamed_episode_is_on_target_and_chaptered(tmp_path: Path, levels: list[float]) -> None:
    script, keys, cache = episode_inputs(tmp_path, levels)
    out = tmp_path / "streams.mp3"
    episode = producer(script, keys, cache, out)
    episode.start()
    deliver(episode, keys)
    records, timeline = episode.result()

    assert [record.key for record in records] == keys
    assert timeline.loudness is not None
    # Whatever the first half suggested, the episode measures on target.
    assert timeline.loudness.integrated_lufs == pytest.approx(-16, abs=0.1)
    audio, rate = soundfile.read(out, dtype="float64")
    assert rate == 44100
    assert len(audio) / rate == pytest.approx(timeline.duration, abs=0.01)
    assert pyloudnorm.Meter(rate).integrated_loudness(audio) == pytest.approx(-16, abs=1.0)
    chapters = read_chapters(out)
    assert [c.title for c in chapters] == ["Streams", "Later"]  # the opening takes the title
    assert chapters[1].start == pytest.approx(timeline.chapters[1].start, abs=0.001)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "streams.mp3"]


def test_an_aborted_episode_leaves_no_file(tmp_path: Path) -> None:
    script, keys, cache = episode_inputs(tmp_path, [0.2] * 10)
    out = tmp_path / "streams.mp3"
    episode = producer(script, keys, cache, out)
    episode.start()
    deliver(episode, keys, upto=7)  # past the half: encoding has begun
    episode.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
