"""Streamed episode assembly: the stages after synthesis, run on each take as it arrives while
the rest are synthesized: clean, lay out, analyse, master and encode. See `EpisodeProducer`."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from studio.breath import BreathSettings
from studio.cache import TakeCache
from studio.config import RenderSettings
from studio.publish.mp3 import Id3Tags, Mp3Writer
from studio.takes import TakeRecord, cleaned_record, read_take
from studio.timeline import TimelineBuilder
from studio.types import Loudness, Script, Timeline

if TYPE_CHECKING:
    from studio.master import MasteringPass, TimelineAnalysis

# The gain is chosen once this share of the script's text has been synthesized and analysed, and
# encoding starts: the first half predicts the whole episode's gain well inside the loudness
# tolerance, a third does not (benchmarks/README.md).
SPECULATE_AT = 0.5


class EpisodeProducer(threading.Thread):
    """The stages after synthesis, run on each take as it arrives: clean, lay out, analyse, and
    (once half the script is in) master and encode, so the MP3 is nearly done when synthesis is.

    Mastering needs a gain for the whole episode before its first sample is encoded. It is
    chosen from the first half and kept if the whole episode, measured as it is encoded, lands
    within the loudness tolerance; otherwise the episode is encoded again with a gain from all
    of it (the file is replaced only by a finished encode). Nothing here holds the episode's
    audio: takes are read from the cache when needed.

    The threads run at normal priority: at the lowest, they would get only what the synthesis
    worker leaves idle and most of the encoding would wait for synthesis to end; sharing the
    cores evenly costs synthesis less than that wait (benchmarks/README.md).
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
        # One lock guards the lists and flags below; each thread that waits has a condition of its
        # own, so a notify always reaches the thread it is meant for (with one shared condition, a
        # take's arrival could wake the encoder instead of the analysis, and the render hung).
        lock = threading.Lock()
        self._take_arrived = threading.Condition(lock)  # the analysis thread waits on it
        self._take_analysed = threading.Condition(lock)  # the encode thread waits on it
        self._analysed: list[TakeRecord] = []  # cleaned takes, laid out and analysed
        self._analysis_closed = False
        self._halted = False  # the analysis thread failed: the encoder stops too
        self._encode_error: BaseException | None = None
        self._aborted = False
        self._error: BaseException | None = None
        self._outcome: tuple[list[TakeRecord], Timeline] | None = None

    def take_ready(self, index: int, record: TakeRecord) -> None:
        with self._take_arrived:
            self._raw[index] = record
            self._take_arrived.notify()

    def abort(self) -> None:
        with self._take_arrived:
            self._aborted = True
            self._take_arrived.notify()
        self.join()

    def result(self) -> tuple[list[TakeRecord], Timeline]:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def run(self) -> None:
        try:
            self._outcome = self._produce()
        except _Aborted:
            pass
        except BaseException as error:  # handed to the render's thread by result()
            self._error = error

    def _raw_take(self, index: int) -> TakeRecord:
        with self._take_arrived:
            while self._raw[index] is None and not self._aborted:
                self._take_arrived.wait()
            if self._aborted:
                raise _Aborted
            record = self._raw[index]
        assert record is not None
        return record

    def _produce(self) -> tuple[list[TakeRecord], Timeline]:
        # Imported here, in this thread: scipy and friends take about a second, which would
        # otherwise delay the start of the synthesis worker.
        from studio.master import (
            LOUDNESS_TOLERANCE_LU,
            TimelineAnalysis,
            delivered_lufs,
            next_pass_gain,
            solve_gain,
        )

        settings, segments = self.settings, self.script.segments
        analysis = TimelineAnalysis(settings.sample_rate)
        layout = TimelineBuilder(self.script, sample_rate=settings.sample_rate)
        speculate_at = SPECULATE_AT * sum(len(segment.text) for segment in segments)
        analysed_text = 0
        encode: _EncodePass | None = None
        encoder: threading.Thread | None = None
        try:
            for index, key in enumerate(self.keys):
                record = cleaned_record(self._raw_take(index), key, self.cache, self.breath)
                for piece in layout.pieces(read_take(self.cache, record)):
                    analysis.feed(piece)
                with self._take_analysed:
                    self._analysed.append(record)
                    self._take_analysed.notify_all()
                analysed_text += len(segments[index].text)
                if encode is None and analysed_text >= speculate_at and index < len(segments) - 1:
                    encode = self._start_encode(analysis, solve_gain(analysis, **self._aims()))
                    encoder = self._encode_along(encode)
            analysis.close()
            with self._take_analysed:
                self._analysis_closed = True
                self._take_analysed.notify_all()
            if encode is None:
                encode = self._start_encode(analysis, solve_gain(analysis, **self._aims()))
                encoder = self._encode_along(encode)
            assert encoder is not None
            encoder.join()
            if self._encode_error is not None:
                raise self._encode_error
            gain_db = next_pass_gain(analysis, encode.mastering, target_lufs=settings.target_lufs)
            if gain_db is not None:  # the first half misled the gain: encode again
                encode.discard()
                encode = self._start_encode(analysis, gain_db)
                encode.catch_up(self._analysed)
                encode.close()
            mastered = encode.mastering.loudness
            encode.commit(layout.timeline(mastered))
            delivered = delivered_lufs(self.mp3)
            miss = settings.target_lufs - delivered
            if abs(miss) > LOUDNESS_TOLERANCE_LU:  # the codec moved it: correct once, by the miss
                encode = self._start_encode(analysis, encode.gain_db + miss)
                encode.catch_up(self._analysed)
                mastered = encode.close()
                encode.commit(layout.timeline(mastered))
                delivered = delivered_lufs(self.mp3)
            # What is reported is what listeners get: loudness measured on the MP3 itself.
            timeline = layout.timeline(Loudness(delivered, mastered.true_peak_dbtp))
        except BaseException:
            with self._take_analysed:
                self._halted = True
                self._take_analysed.notify_all()
            if encoder is not None:
                encoder.join()
            if encode is not None:
                encode.discard()
            raise
        return list(self._analysed), timeline

    def _encode_along(self, encode: _EncodePass) -> threading.Thread:
        """Feed `encode` each take as soon as it is analysed, on a thread of its own, so the
        encoder (the bulk of the work) never waits for the analysis of the next take."""

        def run() -> None:
            try:
                while True:
                    with self._take_analysed:
                        while (
                            len(self._analysed) <= encode.taken
                            and not self._analysis_closed
                            and not self._halted
                        ):
                            self._take_analysed.wait()
                        if self._halted:
                            return
                        analysed, closed = list(self._analysed), self._analysis_closed
                    encode.catch_up(analysed)
                    if closed and encode.taken == len(analysed):
                        encode.close()
                        return
            except BaseException as error:  # re-raised by the analysis thread
                self._encode_error = error

        thread = threading.Thread(target=run, name="studio-encode", daemon=True)
        thread.start()
        return thread

    def _aims(self) -> dict[str, float]:
        settings = self.settings
        return {"target_lufs": settings.target_lufs, "peak_dbtp": settings.peak_dbtp}

    def _start_encode(self, analysis: TimelineAnalysis, gain_db: float) -> _EncodePass:
        from studio.master import MasteringPass  # on this thread, as in _produce

        settings = self.settings
        writer = Mp3Writer(
            self.mp3, settings.sample_rate, tags=self.tags, bitrate_kbps=settings.bitrate
        )
        mastering = MasteringPass(analysis, gain_db, settings.peak_dbtp)
        layout = TimelineBuilder(self.script, sample_rate=settings.sample_rate)
        return _EncodePass(mastering, layout, writer, self.cache, gain_db)


class _EncodePass:
    """One pass of the timeline through mastering into the MP3 encoder, fed takes in order."""

    def __init__(
        self,
        mastering: MasteringPass,
        layout: TimelineBuilder,
        writer: Mp3Writer,
        cache: TakeCache,
        gain_db: float,
    ) -> None:
        self.mastering = mastering
        self.gain_db = gain_db
        self.layout = layout
        self.cache = cache
        self.writer = writer.__enter__()
        self.open = True  # until committed or discarded
        self.taken = 0  # takes fed so far

    def catch_up(self, records: list[TakeRecord]) -> None:
        """Feed every take in `records` not fed yet."""
        for record in records[self.taken :]:
            for piece in self.layout.pieces(read_take(self.cache, record)):
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
