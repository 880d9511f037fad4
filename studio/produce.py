"""The stages after synthesis, run take by take while synthesis goes on: clean, lay out,
analyse, master and encode. See `EpisodeProducer`."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from studio.breath import BreathSettings
from studio.cache import TakeCache
from studio.config import RenderSettings
from studio.master import (
    MasteringPass,
    TimelineAnalysis,
    TimelineBuilder,
    next_pass_gain,
    solve_gain,
)
from studio.publish.mp3 import Id3Tags, Mp3Writer
from studio.synthesize import CachedTakes, TakeRecord, clean_one
from studio.types import Loudness, Script, Take, Timeline

# The gain is chosen once this share of the script's text has been synthesized and analysed, and
# encoding starts: measured on the benchmark essay, a gain from the first half lands the whole
# episode within 0.03 LU of the one from all of it (a third: 0.12 LU, outside the tolerance).
SPECULATE_AT = 0.5


class EpisodeProducer(threading.Thread):
    """The stages after synthesis, run on each take as it arrives: clean, lay out, analyse, and
    (once half the script is in) master and encode, so the MP3 is nearly done when synthesis is.

    Mastering needs a gain for the whole episode before its first sample is encoded. It is
    chosen from the first half and kept if the whole episode, measured as it is encoded, lands
    within the loudness tolerance; otherwise the episode is encoded again with a gain from all
    of it (the file is replaced only by a finished encode). The thread runs at low priority: the
    synthesis worker keeps its cores, and this work fills the time its threads leave idle.
    Nothing here holds the episode's audio: takes are read from the cache when needed.
    """

    def __init__(
        self,
        script: Script,
        keys: Sequence[str],
        cache: TakeCache,
        settings: RenderSettings,
        *,
        breath: BreathSettings,
        mp3: Path,
        tags: Id3Tags,
    ) -> None:
        """`keys[i]`: the cache key of segment i's cleaned take; `mp3`: where the episode goes."""
        super().__init__(name="studio-episode", daemon=True)
        self.script = script
        self.keys = keys
        self.cache = cache
        self.settings = settings
        self.breath = breath
        self.mp3 = mp3
        self.tags = tags
        count = len(keys)
        self._raw: list[TakeRecord | None] = [None] * count
        self._ready = threading.Condition()
        self._aborted = False
        self._error: BaseException | None = None
        self._outcome: tuple[list[TakeRecord], Timeline] | None = None

    def take_ready(self, index: int, record: TakeRecord) -> None:
        with self._ready:
            self._raw[index] = record
            self._ready.notify()

    def abort(self) -> None:
        with self._ready:
            self._aborted = True
            self._ready.notify()
        self.join()

    def result(self) -> tuple[list[TakeRecord], Timeline]:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def run(self) -> None:
        _lower_this_threads_priority()
        try:
            self._outcome = self._produce()
        except _Aborted:
            pass
        except BaseException as error:  # handed to the render's thread by result()
            self._error = error

    def _raw_take(self, index: int) -> TakeRecord:
        with self._ready:
            while self._raw[index] is None and not self._aborted:
                self._ready.wait()
            if self._aborted:
                raise _Aborted
            record = self._raw[index]
        assert record is not None
        return record

    def _produce(self) -> tuple[list[TakeRecord], Timeline]:
        settings, segments = self.settings, self.script.segments
        analysis = TimelineAnalysis(settings.sample_rate)
        layout = TimelineBuilder(self.script, sample_rate=settings.sample_rate)
        records: list[TakeRecord] = []
        speculate_at = SPECULATE_AT * sum(len(segment.text) for segment in segments)
        analysed_text = 0
        encode: _EncodePass | None = None
        try:
            for index, key in enumerate(self.keys):
                record = clean_one(self._raw_take(index), key, self.cache, self.breath)
                records.append(record)
                for piece in layout.pieces(_read_take(self.cache, record)):
                    analysis.feed(piece)
                analysed_text += len(segments[index].text)
                if encode is None and analysed_text >= speculate_at and index < len(segments) - 1:
                    encode = self._start_encode(analysis, solve_gain(analysis, **self._aims()))
                if encode is not None:
                    encode.catch_up(records)
            analysis.close()
            if encode is None:
                encode = self._start_encode(analysis, solve_gain(analysis, **self._aims()))
            encode.catch_up(records)
            loudness = encode.close()
            gain_db = next_pass_gain(analysis, encode.mastering, target_lufs=settings.target_lufs)
            if gain_db is not None:  # the first half misled the gain: encode again
                encode.discard()
                encode = self._start_encode(analysis, gain_db)
                encode.catch_up(records)
                loudness = encode.close()
            timeline = layout.timeline(loudness)
            encode.commit(timeline)
        except BaseException:
            if encode is not None:
                encode.discard()
            raise
        return records, timeline

    def _aims(self) -> dict[str, float]:
        settings = self.settings
        return {"target_lufs": settings.target_lufs, "peak_dbtp": settings.peak_dbtp}

    def _start_encode(self, analysis: TimelineAnalysis, gain_db: float) -> _EncodePass:
        settings = self.settings
        writer = Mp3Writer(
            self.mp3, settings.sample_rate, tags=self.tags, bitrate_kbps=settings.bitrate
        )
        mastering = MasteringPass(analysis, gain_db, settings.peak_dbtp)
        layout = TimelineBuilder(self.script, sample_rate=settings.sample_rate)
        return _EncodePass(mastering, layout, writer, self.cache)


class _EncodePass:
    """One pass of the timeline through mastering into the MP3 encoder, fed takes in order."""

    def __init__(
        self, mastering: MasteringPass, layout: TimelineBuilder, writer: Mp3Writer, cache: TakeCache
    ) -> None:
        self.mastering = mastering
        self.layout = layout
        self.cache = cache
        self.writer = writer.__enter__()
        self.open = True  # until committed or discarded
        self.taken = 0  # takes fed so far

    @property
    def gain_db(self) -> float:
        return self.mastering.gain_db

    @property
    def ceiling(self) -> float:
        return self.mastering.ceiling

    def catch_up(self, records: list[TakeRecord]) -> None:
        """Feed every take in `records` not fed yet."""
        for record in records[self.taken :]:
            for piece in self.layout.pieces(_read_take(self.cache, record)):
                for block in self.mastering.feed(piece):
                    self.writer.write(block)
            self.taken += 1

    def close(self) -> Loudness:
        for block in self.mastering.close():
            self.writer.write(block)
        return self.mastering.loudness

    def commit(self, timeline: Timeline) -> None:
        """Tag the file and move it into place."""
        self.writer.finish(timeline)
        self.open = False
        self.writer.__exit__(None, None, None)

    def discard(self) -> None:
        """Drop the partial file (again is harmless)."""
        if self.open:
            self.open = False
            self.writer.__exit__(_Aborted, _Aborted(), None)


class _Aborted(Exception):
    """Synthesis failed or was interrupted: the episode thread stops, leaving no file."""


def _read_take(cache: TakeCache, record: TakeRecord) -> Take:
    return CachedTakes(cache, [record])[0]


def _lower_this_threads_priority() -> None:
    """Nice the calling thread (Linux applies nice per thread), so it yields to synthesis."""
    # Elsewhere (no per-thread nice, or not allowed) it simply runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
