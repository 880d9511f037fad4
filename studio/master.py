"""Mastering: bring a timeline to -16 LUFS under a -1 dBTP true-peak ceiling, and measure it.

A render never holds its episode whole (an hour at 44.1 kHz is 636 MB as float32):
`TimelineAnalysis` keeps 8 bytes per 32 samples of the timeline as it is laid out, `solve_gain`
chooses the gain from those, and `MasteringPass` applies gain and limiter as the timeline streams
past a second time. `master` does the same on an episode held in memory, for auditions. Loudness
is BS.1770-4 (`LoudnessMeter`), true peak 4x oversampled (`true_peak_dbtp`).
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy.ndimage
import scipy.signal
import soundfile

from studio.errors import StudioError
from studio.types import Episode, Loudness

# The limiter aims this far below the requested true peak: MP3 encoding adds a few tenths of a dB
# of overshoot, and the published file, not the PCM, is what has to stay under the ceiling.
ENCODER_HEADROOM_DB = 0.5

# The limiter ramps its gain down over the look-ahead, so the gain is already down when a peak
# arrives (no clipped attack), then recovers exponentially; ~80 ms recovers between syllables
# without the audible pumping of faster releases.
LOOKAHEAD_SECONDS = 0.005
RELEASE_SECONDS = 0.08

# Limiting takes loudness with it (synthesized speech is peaky, and past the ceiling each extra
# dB of gain buys well under a LU), so the gain is found by secant steps on the estimated
# loudness (at most MAX_LOUDNESS_ATTEMPTS), and a mastered pass that measures outside this
# tolerance is made once more. The tolerance is tight because MP3 encoding costs some loudness
# too. Figures: benchmarks/README.md.
LOUDNESS_TOLERANCE_LU = 0.1
MAX_LOUDNESS_ATTEMPTS = 5
# ...but the gain never goes more than this above plain loudness normalisation. Past it the
# limiter is flattening every syllable to the ceiling, breaths and noise in the pauses rise with
# the gain, and loudness hardly moves: a too-peaky voice ends up under target instead.
MAX_EXTRA_GAIN_DB = 8.0

_BLOCK = 1 << 18  # samples per block in the streaming passes (~6 s at 44.1 kHz)

# The limiter decides its gain once per 32 samples (0.73 ms at 44.1 kHz) and ramps linearly in
# between: fine beside its 5 ms attack, and 32x less envelope arithmetic and memory than per sample.
_CONTROL_INTERVAL = 32
_CONTROL_BLOCK = 1 << 16  # control points per block of envelope arithmetic

# BS.1770-4 gating: 400 ms blocks overlapping by 75 %, i.e. the mean of four 100 ms sub-blocks.
_GATE_SUBBLOCKS = 4
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0

# BS.1770-4 K-weighting: a high shelf (about +4 dB above 1.7 kHz: the head) then a high-pass
# (about 38 Hz: the RLB curve). These analog parameters reproduce the standard's 48 kHz biquads
# to their printed precision (the derivation libebur128 uses). Shelf: (Hz, gain dB, Q).
_SHELF = (1681.974450955533, 3.999843853973347, 0.7071752369554196)
_SHELF_BAND_EXPONENT = 0.4996667741545416  # the shelf's mid-band gain is high ** this
_HIGH_PASS = (38.13547087602444, 0.5003270373238773)  # (Hz, Q)

# True peak: 4x oversampling with a 49-tap Kaiser-windowed sinc (12 taps per phase, the size of
# BS.1770-4's own 48-tap example) rather than resample_poly's default 81 taps. Its every 4th tap
# is zero, so phase 0 is the original samples and only the three in-between phases are computed,
# which matters for an hour of audio. tests/test_master.py checks it against resample_poly's.
_OVERSAMPLE = 4
_TRUE_PEAK_FILTER = scipy.signal.firwin(49, 1 / _OVERSAMPLE, window=("kaiser", 5.0))
_PHASE_TAPS = 12
_TAPS_BEFORE = 5  # the in-between values after sample n use samples n-5 … n+6
_CONTEXT_AFTER = _PHASE_TAPS - _TAPS_BEFORE  # samples n+1 … n+6, and the interval's end
_FILTER_CENTER = len(_TRUE_PEAK_FILTER) // 2
# _PHASE_MATRIX[tap, phase - 1]: the weight of sample n - 5 + tap in the value at n + phase/4.
_PHASE_MATRIX = np.array(
    [
        [
            _OVERSAMPLE
            * _TRUE_PEAK_FILTER[_FILTER_CENTER + phase + _OVERSAMPLE * (_TAPS_BEFORE - tap)]
            for phase in (1, 2, 3)
        ]
        for tap in range(_PHASE_TAPS)
    ],
    dtype=np.float32,
)
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_Result = TypeVar("_Result")


def master(
    episode: Episode,
    *,
    target_lufs: float = -16.0,
    peak_dbtp: float = -1.0,
) -> Episode:
    """Return the episode at `target_lufs` with its true peak at most `peak_dbtp`.

    Gain to target, then a look-ahead limiter holds the true peak `ENCODER_HEADROOM_DB` below
    `peak_dbtp`. The gain is solved on the episode's analysis (`solve_gain`); the mastered
    result is measured, and should it be more than `LOUDNESS_TOLERANCE_LU` off target the pass
    is made again with the estimate corrected. Silence stays exactly silent. The returned
    episode carries its measured loudness. A render does the same, streamed: `EpisodeProducer`.
    """
    audio = np.asarray(episode.audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"master expects mono audio, got shape {audio.shape}")
    analysis = TimelineAnalysis(episode.sample_rate)
    analysis.feed(audio)
    analysis.close()
    gain_db: float | None = solve_gain(analysis, target_lufs=target_lufs, peak_dbtp=peak_dbtp)
    for _pass in range(2):
        if gain_db is None:
            break
        mastering = MasteringPass(analysis, gain_db, peak_dbtp)
        mastered = np.concatenate((*mastering.feed(audio), *mastering.close()))
        gain_db = next_pass_gain(analysis, mastering, target_lufs=target_lufs)
    return Episode(
        mastered, episode.sample_rate, episode.placements, episode.chapters, mastering.loudness
    )


class TimelineAnalysis:
    """What mastering needs to know of the unmastered timeline, gathered as it is fed in order:
    each control chunk's true peak and K-weighted energy, 8 bytes per 32 samples (two float32).

    With it the gain can be chosen (`solve_gain`) before the timeline is complete, and without
    keeping the audio: `MasteringPass` applies it as the timeline is fed a second time.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._rolling = _Rolling()
        self._peaks = _Chunks(np.float32)
        self._energy = _Chunks(np.float32)
        self._sections = _k_weighting_sections(sample_rate)
        self._state = np.zeros((self._sections.shape[0], 2))
        self.length = 0  # samples fed
        self.closed = False

    def feed(self, samples: np.ndarray) -> None:
        self.length += len(samples)
        ready = self._rolling.push(samples)
        if ready is not None:
            self._analyse(*ready)

    def close(self) -> None:
        ready = self._rolling.close()
        if ready is not None:
            self._analyse(*ready)
        self.closed = True

    @property
    def peaks(self) -> _Chunks:
        return self._peaks

    @property
    def analysed(self) -> int:
        """Samples whose chunks are analysed (all of them once closed)."""
        return min(self.length, len(self._peaks) * _CONTROL_INTERVAL)

    def estimated_lufs(self, gain_db: float, ceiling: float) -> float:
        """Integrated loudness of the analysed timeline after gain and limiter, from the chunk
        energies alone: within a few hundredths of a LU of measuring the output, since the
        limiter's gain hardly moves within the K-weighting filter's memory."""
        limiter = _Limiter(10.0 ** (gain_db / 20.0), ceiling, self.sample_rate)
        gains = limiter.advance(self._peaks, final=True)

        def weighted(start: int, stop: int) -> np.ndarray:
            left = gains[start:stop].astype(np.float64)
            right = gains[start + 1 : stop + 1].astype(np.float64)
            energy = self._energy.window(start, stop)
            return energy * (left * left + left * right + right * right) / 3.0

        return self._gated(weighted)

    def source_lufs(self) -> float:
        """Integrated loudness of the analysed timeline as it is (no gain, no limiter)."""
        return self._gated(lambda start, stop: self._energy.window(start, stop).astype(np.float64))

    def _gated(self, chunk_energy: Callable[[int, int], np.ndarray]) -> float:
        """Gated loudness from the energies of the chunks, given block by block."""
        subblock = round(0.1 * self.sample_rate)
        chunks = len(self._energy)
        subblocks = np.zeros(chunks * _CONTROL_INTERVAL // subblock + 1)
        total = 0.0
        for start in range(0, chunks, _CONTROL_BLOCK):
            stop = min(start + _CONTROL_BLOCK, chunks)
            energy = chunk_energy(start, stop)
            index = np.arange(start, stop) * _CONTROL_INTERVAL // subblock
            subblocks += np.bincount(index, weights=energy, minlength=len(subblocks))
            total += float(energy.sum())
        length = self.analysed
        return _gated_lufs(subblocks[: length // subblock], subblock, total, length)

    def _analyse(self, start: int, padded: np.ndarray, size: int) -> None:
        del start
        self._peaks.append(_padded_chunk_peaks(padded, size))
        block = padded[_TAPS_BEFORE : _TAPS_BEFORE + size].astype(np.float64)
        weighted, self._state = scipy.signal.sosfilt(self._sections, block, zi=self._state)
        squares = np.square(weighted, out=weighted)
        self._energy.append(squares.reshape(-1, _CONTROL_INTERVAL).sum(axis=1))


def solve_gain(
    analysis: TimelineAnalysis,
    *,
    target_lufs: float = -16.0,
    peak_dbtp: float = -1.0,
    correction_lu: float = 0.0,
) -> float:
    """The gain in dB that brings the analysed timeline to `target_lufs` through the limiter.

    Limiting takes loudness with it, so the gain is found by secant steps on
    `TimelineAnalysis.estimated_lufs`, capped at `MAX_EXTRA_GAIN_DB` above plain normalisation.
    `correction_lu` is what a measured pass found the estimate off by, so a second pass aims
    better.
    """
    source_lufs = analysis.source_lufs()
    if not math.isfinite(source_lufs):
        raise StudioError(
            "The episode is silent, so there is nothing to master: check that synthesis produced "
            "audio for its segments."
        )
    ceiling = 10.0 ** ((peak_dbtp - ENCODER_HEADROOM_DB) / 20.0)
    aim = target_lufs - correction_lu
    plain_gain_db = target_lufs - source_lufs
    gain_db = plain_gain_db
    tried: list[tuple[float, float]] = []
    for _attempt in range(MAX_LOUDNESS_ATTEMPTS):
        lufs = analysis.estimated_lufs(gain_db, ceiling)
        tried.append((gain_db, lufs))
        if abs(aim - lufs) <= LOUDNESS_TOLERANCE_LU / 4:  # estimates are cheap: aim closer
            break
        gain_db = min(_next_gain_db(tried, aim), plain_gain_db + MAX_EXTRA_GAIN_DB)
        if gain_db == tried[-1][0]:
            break  # at the cap already: another step would give the same result
    return gain_db


def next_pass_gain(
    analysis: TimelineAnalysis, finished: MasteringPass, *, target_lufs: float = -16.0
) -> float | None:
    """The gain for a second pass after `finished` missed the loudness tolerance, aimed with the
    estimate corrected by what the pass measured; None if the pass stands (on target, or a gain
    that would not change: the extra-gain cap). Callers make at most two passes."""
    measured = finished.loudness.integrated_lufs
    if abs(measured - target_lufs) <= LOUDNESS_TOLERANCE_LU:
        return None
    estimate = analysis.estimated_lufs(finished.gain_db, finished.ceiling)
    gain_db = solve_gain(
        analysis,
        target_lufs=target_lufs,
        peak_dbtp=finished.peak_dbtp,
        correction_lu=measured - estimate,
    )
    return gain_db if abs(gain_db - finished.gain_db) > 0.01 else None


class MasteringPass:
    """Gain and limiter applied to the timeline fed again, in order, after `analysis` has seen
    it (it may still be growing); measures the loudness and true peak of what comes out.

    `feed` and `close` return the mastered samples that are ready, in order; the pass holds back
    the few hundred samples whose limiter gain depends on peaks not yet analysed.
    """

    def __init__(self, analysis: TimelineAnalysis, gain_db: float, peak_dbtp: float) -> None:
        self.gain_db = gain_db
        self.peak_dbtp = peak_dbtp
        self.ceiling = 10.0 ** ((peak_dbtp - ENCODER_HEADROOM_DB) / 20.0)
        self._analysis = analysis
        self._limiter = _Limiter(10.0 ** (gain_db / 20.0), self.ceiling, analysis.sample_rate)
        self._gains = _Chunks(np.float32)  # boundary gains, the ones still needed
        self._rolling = _Rolling()
        self._waiting: list[tuple[int, np.ndarray, int]] = []
        self._meter = LoudnessMeter(analysis.sample_rate)
        self._peak = 0.0
        self._fed = 0
        self._emitted = 0

    def feed(self, samples: np.ndarray) -> list[np.ndarray]:
        self._fed += len(samples)
        ready = self._rolling.push(samples)
        if ready is not None:
            self._waiting.append(ready)
        return self._drain(final=False)

    def close(self) -> list[np.ndarray]:
        """The rest of the output; the analysis must be closed first."""
        if not self._analysis.closed:
            raise ValueError("close the analysis before the mastering pass")
        ready = self._rolling.close()
        if ready is not None:
            self._waiting.append(ready)
        return self._drain(final=True)

    @property
    def loudness(self) -> Loudness:
        peak = 20.0 * math.log10(self._peak) if self._peak > 0.0 else -math.inf
        return Loudness(self._meter.integrated_lufs(), peak)

    def _drain(self, *, final: bool) -> list[np.ndarray]:
        self._gains.append(self._limiter.advance(self._analysis.peaks, final=final))
        # Samples before `decided` have the gains of both boundaries around them and of their
        # true-peak context; a range reaching past it is split there.
        decided = (len(self._gains) - 1) * _CONTROL_INTERVAL - _CONTEXT_AFTER
        out = []
        while self._waiting:
            start, padded, size = self._waiting.pop(0)
            if not final and start + size > decided:
                ready = (decided - start) // _CONTROL_INTERVAL * _CONTROL_INTERVAL
                if ready <= 0:
                    self._waiting.insert(0, (start, padded, size))
                    break
                self._waiting.insert(0, (start + ready, padded[ready:], size - ready))
                padded, size = padded[: _TAPS_BEFORE + ready + _CONTEXT_AFTER], ready
            gained = padded * _ramped_gains(self._gains, start - _TAPS_BEFORE, len(padded))
            between, samples = _between_samples(gained, size)
            self._peak = max(self._peak, float(np.abs(between).max()), float(np.abs(samples).max()))
            block = gained[_TAPS_BEFORE : _TAPS_BEFORE + min(size, self._fed - self._emitted)]
            self._emitted += len(block)
            self._meter.feed(block)
            out.append(block)
            self._gains.drop_before((start + size - _TAPS_BEFORE) // _CONTROL_INTERVAL - 1)
        return out


def _ramped_gains(boundary_gains: _Chunks, begin: int, count: int) -> np.ndarray:
    """The per-sample gain for samples begin … begin+count-1, ramped linearly from each chunk
    boundary to the next (zero past either end of the boundaries, where the samples are too)."""
    first = begin // _CONTROL_INTERVAL
    gains = boundary_gains.window(first, (begin + count - 1) // _CONTROL_INTERVAL + 2)
    positions = np.arange(begin, begin + count)
    chunk = positions // _CONTROL_INTERVAL - first
    fraction = ((positions % _CONTROL_INTERVAL) / _CONTROL_INTERVAL).astype(np.float32)
    left, right = gains[chunk], gains[chunk + 1]
    return left + (right - left) * fraction


class _Rolling:
    """Timeline samples in, in order; out come consecutive ranges, whole control chunks (until
    `close`), each with the context the true-peak filter needs: `_TAPS_BEFORE` samples before it
    and `_CONTEXT_AFTER` after, zeros beyond either end of the timeline."""

    def __init__(self) -> None:
        self._buffer = np.zeros(_TAPS_BEFORE, dtype=np.float32)  # context, then pending samples
        self._position = 0  # timeline index of the first pending sample

    def push(self, samples: np.ndarray) -> tuple[int, np.ndarray, int] | None:
        self._buffer = np.concatenate((self._buffer, np.asarray(samples, dtype=np.float32)))
        available = len(self._buffer) - _TAPS_BEFORE - _CONTEXT_AFTER
        return self._take(available // _CONTROL_INTERVAL * _CONTROL_INTERVAL)

    def close(self) -> tuple[int, np.ndarray, int] | None:
        pending = len(self._buffer) - _TAPS_BEFORE
        size = -(-pending // _CONTROL_INTERVAL) * _CONTROL_INTERVAL
        padding = np.zeros(size - pending + _CONTEXT_AFTER, dtype=np.float32)
        self._buffer = np.concatenate((self._buffer, padding))
        return self._take(size)

    def _take(self, size: int) -> tuple[int, np.ndarray, int] | None:
        if size <= 0:
            return None
        start = self._position
        padded = self._buffer[: _TAPS_BEFORE + size + _CONTEXT_AFTER]
        self._buffer = self._buffer[size:]
        self._position += size
        return start, padded, size


class _Chunks:
    """Append-only storage kept as the pieces appended: growing it never copies or reallocates
    (an hour's analysis is ~40 MB), and a prefix no longer needed can be dropped. Reading is
    safe while another thread appends."""

    def __init__(self, dtype: type) -> None:
        self._dtype = dtype
        self._pieces: list[np.ndarray] = []
        self._starts: list[int] = []
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, values: np.ndarray) -> None:
        if len(values):
            self._pieces.append(np.asarray(values, dtype=self._dtype))
            self._starts.append(self._length)
            self._length += len(values)  # last: a reader never sees a piece half added

    def window(self, start: int, stop: int) -> np.ndarray:
        """Values start … stop-1, zeros where that runs past either end."""
        out = np.zeros(stop - start, dtype=self._dtype)
        length = self._length  # first: every piece before it is complete
        lo, hi = max(start, 0), min(stop, length)
        index = max(0, bisect.bisect_right(self._starts, lo) - 1)
        while lo < hi:
            piece, begin = self._pieces[index], self._starts[index]
            if piece.size == 0:
                raise ValueError("that part has been dropped")
            end = min(hi, begin + len(piece))
            out[lo - start : end - start] = piece[lo - begin : end - begin]
            lo, index = end, index + 1
        return out

    def drop_before(self, index: int) -> None:
        """Free the pieces that end before `index` (their values read as an error after)."""
        for position, (piece, begin) in enumerate(zip(self._pieces, self._starts, strict=False)):
            if begin + len(piece) > index:
                break
            self._pieces[position] = np.empty(0, dtype=self._dtype)  # not a view: frees it


def _next_gain_db(tried: list[tuple[float, float]], target_lufs: float) -> float:
    """The gain for the next pass: a secant step through the last two passes.

    Limiting makes loudness grow slower than gain (slope < 1); the slope is kept in [0.2, 1] so
    measurement noise cannot send the gain far off.
    """
    gain_db, lufs = tried[-1]
    slope = 1.0
    if len(tried) >= 2:
        previous_gain_db, previous_lufs = tried[-2]
        if gain_db != previous_gain_db:
            slope = (lufs - previous_lufs) / (gain_db - previous_gain_db)
    return gain_db + (target_lufs - lufs) / min(1.0, max(0.2, slope))


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness in LUFS, streamed block by block (-inf for silence).

    The same K-weighting and gating as pyloudnorm's `Meter.integrated_loudness`, which cannot be
    called on a whole episode: it holds several float64 copies of the signal
    (~4 GB for an hour). The filter state carries across blocks, so the result matches. Audio
    shorter than one 400 ms gating block (a short audition) is measured as a single block, where
    pyloudnorm would refuse it.
    """
    audio = np.asarray(audio)
    meter = LoudnessMeter(sample_rate)
    for start in range(0, len(audio), _BLOCK):
        meter.feed(audio[start : start + _BLOCK])
    return meter.integrated_lufs()


def delivered_lufs(path: Path) -> float:
    """Integrated loudness of an encoded file, decoded in blocks (an hour is ~600 MB of floats)."""
    info = soundfile.info(path)
    meter = LoudnessMeter(info.samplerate)
    for block in soundfile.blocks(path, blocksize=1 << 20, dtype="float32", always_2d=True):
        meter.feed(block.mean(axis=1))
    return meter.integrated_lufs()


class LoudnessMeter:
    """BS.1770-4 integrated loudness of a signal fed in consecutive pieces of any size.

    The K-weighting filter state and the partly filled 100 ms sub-block carry from piece to
    piece, so the result is the same however the signal is cut.
    """

    def __init__(self, sample_rate: int) -> None:
        self._sections = _k_weighting_sections(sample_rate)
        self._state = np.zeros((self._sections.shape[0], 2))
        self._subblock = round(0.1 * sample_rate)
        self._partial = 0.0  # energy of the sub-block being filled
        self._partial_length = 0
        self._energies: list[np.ndarray] = []
        self._total_energy = 0.0
        self._length = 0

    def feed(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        weighted, self._state = scipy.signal.sosfilt(
            self._sections, np.asarray(samples, dtype=np.float64), zi=self._state
        )
        squares = np.square(weighted, out=weighted)
        self._total_energy += float(squares.sum())
        self._length += len(squares)
        head = min(len(squares), self._subblock - self._partial_length)
        self._partial += float(squares[:head].sum())
        self._partial_length += head
        if self._partial_length < self._subblock:
            return
        rest = squares[head:]
        whole = len(rest) // self._subblock * self._subblock
        self._energies.append(
            np.concatenate(([self._partial], rest[:whole].reshape(-1, self._subblock).sum(axis=1)))
        )
        self._partial = float(rest[whole:].sum())
        self._partial_length = len(rest) - whole

    def integrated_lufs(self) -> float:
        energy = np.concatenate(self._energies) if self._energies else np.zeros(0)
        return _gated_lufs(energy, self._subblock, self._total_energy, self._length)


def _gated_lufs(
    subblock_energy: np.ndarray, subblock: int, total_energy: float, length: int
) -> float:
    """BS.1770-4 gating over 400 ms blocks made of four 100 ms sub-block energies.

    A signal shorter than one gating block (a short audition) is measured as a single block,
    where pyloudnorm would refuse it.
    """
    if len(subblock_energy) >= _GATE_SUBBLOCKS:
        window = np.lib.stride_tricks.sliding_window_view(subblock_energy, _GATE_SUBBLOCKS)
        mean_square = window.sum(axis=1) / (_GATE_SUBBLOCKS * subblock)
    elif length:
        mean_square = np.array([total_energy / length])
    else:
        return -math.inf
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(mean_square)
    above_absolute = mean_square[block_lufs >= _ABSOLUTE_GATE_LUFS]
    if above_absolute.size == 0:
        return -math.inf
    relative_gate = -0.691 + 10.0 * math.log10(above_absolute.mean()) + _RELATIVE_GATE_LU
    gated = mean_square[(block_lufs > relative_gate) & (block_lufs > _ABSOLUTE_GATE_LUFS)]
    return -0.691 + 10.0 * math.log10(gated.mean())


def true_peak_dbtp(audio: np.ndarray, sample_rate: int) -> float:
    """The highest 4x oversampled magnitude in dBTP, streamed block by block (-inf for silence).

    `sample_rate` is unused (oversampling is relative); it keeps the signature of its siblings.
    """
    del sample_rate
    audio = np.asarray(audio)

    def block_peak(start: int) -> float:
        stop = min(start + _BLOCK, len(audio))
        between, samples = _oversampled(audio, start, stop)
        return float(max(between.max(), -between.min(), np.abs(samples).max()))

    peak = max(_in_parallel(block_peak, range(0, len(audio), _BLOCK)), default=0.0)
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def _padded_chunk_peaks(padded: np.ndarray, size: int) -> np.ndarray:
    """Per `_CONTROL_INTERVAL`-sample chunk of `size` samples (a multiple of the interval),
    given with `_TAPS_BEFORE` samples of context before and `_CONTEXT_AFTER` after: the largest
    true-peak magnitude from its first sample to the first sample of the next chunk."""
    interval = _CONTROL_INTERVAL
    between, samples = _between_samples(padded, size)
    magnitude = np.abs(between, out=between)
    peaks = np.maximum(magnitude[0], magnitude[1], out=magnitude[0])
    np.maximum(peaks, magnitude[2], out=peaks)
    np.maximum(peaks, np.abs(samples[:size]), out=peaks)
    block = np.max(peaks.reshape(-1, interval), axis=1)
    return np.maximum(block, np.abs(samples[interval::interval]), out=block)


def _oversampled(audio: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """The 3 in-between 4x oversampled values after each sample in [start, stop), as a
    (3, stop - start) array, and the samples start ... stop (one more: the last interval's end).
    """
    padded = _padded_slice(audio, start - _TAPS_BEFORE, stop + _CONTEXT_AFTER)
    return _between_samples(padded, stop - start)


def _between_samples(padded: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`_oversampled` of a padded slice: `size` samples with `_TAPS_BEFORE` before and
    `_CONTEXT_AFTER` after.

    Each phase is a 12-tap FIR, done as in-place multiply-adds: pure numpy, so the worker threads
    run it in parallel without a BLAS thread pool of its own competing with them.
    """
    between = np.empty((3, size), dtype=np.float32)
    product = np.empty(size, dtype=np.float32)
    for phase, out in enumerate(between):
        np.multiply(padded[:size], _PHASE_MATRIX[0, phase], out=out)
        for tap in range(1, _PHASE_TAPS):
            np.multiply(padded[tap : tap + size], _PHASE_MATRIX[tap, phase], out=product)
            np.add(out, product, out=out)
    return between, padded[_TAPS_BEFORE : _TAPS_BEFORE + size + 1]


class _Limiter:
    """The limiter: the gain (including `gain`) at every chunk boundary, one more value than
    there are chunk peaks, such that `gain` x true peak stays under `ceiling` with the gain ramped
    linearly between boundaries. `advance` returns the gains of the boundaries that the peaks
    known so far decide (all of them once `final`), so it runs as the timeline streams in.

    Written here rather than taken from a library: pedalboard's Limiter (JUCE's) is two
    compressors and a hard clipper, with neither look-ahead nor true-peak detection, and a
    compiled dependency for ~40 lines of vectorised numpy is not worth it.

    Per boundary j, with attenuations in nepers (natural-log gain):
      need[j]  what keeps both chunks touching boundary j under the ceiling (0 if nothing)
      hold[j]  max of need over the next L boundaries (the look-ahead, ~5 ms)
      env[j]   max(hold[j], env[j-1]·e^(-λ)): exponential recovery (release)
      att[j]   mean of env over the last L boundaries: a smooth ramp down over L boundaries
    att[j] ≥ need[j] always (every window averaged contains a hold that covers j), so the ramp
    has finished by the peak and no peak gets through; the gain between two boundaries is at
    most the larger of the two, so within a chunk too. The recursion of env is vectorised with a
    running maximum, in logs: env[j] = max_k hold[k]·e^(-(j-k)λ) = e^(-jλ)·max_k hold[k]·e^(kλ).
    Streamed in blocks: env's last value and its last L-1 values carry over.
    """

    def __init__(self, gain: float, ceiling: float, sample_rate: int) -> None:
        self.gain = gain
        self.lookahead = max(1, math.ceil(LOOKAHEAD_SECONDS * sample_rate / _CONTROL_INTERVAL))
        self._decay = _CONTROL_INTERVAL / (RELEASE_SECONDS * sample_rate)
        self._log_excess = math.log(gain) - math.log(ceiling)
        self._previous_env = 0.0
        self._recent_env = np.zeros(self.lookahead - 1)
        self.boundaries = 0  # boundaries decided so far

    def advance(self, chunk_peaks: _Chunks, *, final: bool) -> np.ndarray:
        """Gains of the next boundaries: `chunk_peaks` holds every chunk peak known so far."""
        lookahead, decay = self.lookahead, self._decay
        chunks = len(chunk_peaks)
        # Boundary j touches chunks j-1 and j and looks ahead to chunk j+L-1.
        end = chunks + 1 if final else max(self.boundaries, chunks - lookahead + 1)
        gains = np.empty(end - self.boundaries, dtype=np.float32)
        for start in range(self.boundaries, end, _CONTROL_BLOCK):
            stop = min(start + _CONTROL_BLOCK, end)
            size = stop - start
            # Boundaries [start, stop + L - 1) touch chunks [start - 1, stop + L - 1).
            peaks = chunk_peaks.window(start - 1, stop + lookahead - 1)
            with np.errstate(divide="ignore"):
                chunk_need = np.maximum(np.log(peaks.astype(np.float64)) + self._log_excess, 0.0)
            need = np.maximum(chunk_need[:-1], chunk_need[1:])

            # Forward-looking window [j, j+L): origin shifts ndimage's centred window to start at j.
            hold = scipy.ndimage.maximum_filter1d(
                need, lookahead, origin=-(lookahead // 2), mode="constant", cval=0.0
            )[:size]

            ramp = np.arange(size) * decay
            with np.errstate(divide="ignore"):
                running = np.maximum.accumulate(np.log(hold) + ramp)
                previous = self._previous_env
                carried = math.log(previous) - decay if previous > 0.0 else -math.inf
            env = np.exp(np.maximum(running, carried) - ramp)
            self._previous_env = float(env[-1])

            history = np.concatenate((self._recent_env, env))
            sums = np.concatenate(([0.0], np.cumsum(history)))
            attenuation = (sums[lookahead:] - sums[:-lookahead]) / lookahead
            self._recent_env = history[len(history) - (lookahead - 1) :]
            gains[start - self.boundaries : stop - self.boundaries] = self.gain * np.exp(
                -attenuation
            )
        self.boundaries = end
        return gains


def _in_parallel(work: Callable[[int], _Result], starts: Iterable[int]) -> list[_Result]:
    """`work` over block starts, in order, on a few threads (numpy releases the GIL)."""
    starts = list(starts)
    if len(starts) <= 1 or _WORKERS == 1:
        return [work(start) for start in starts]
    with ThreadPoolExecutor(_WORKERS) as pool:
        return list(pool.map(work, starts))


def _padded_slice(audio: np.ndarray, start: int, stop: int) -> np.ndarray:
    """A float32 copy of audio[start:stop], with zeros where the range runs past either end."""
    piece = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(audio))
    if hi > lo:
        piece[lo - start : hi - start] = audio[lo:hi]
    return piece


def _k_weighting_sections(sample_rate: int) -> np.ndarray:
    """BS.1770-4's K-weighting at `sample_rate`, as second-order sections for sosfilt.

    The standard tabulates the two biquads at 48 kHz only; their analog parameters (`_SHELF`,
    `_HIGH_PASS`) through the bilinear transform give exactly those at 48 kHz, and the same
    curves at any other rate.
    """
    frequency, gain_db, q = _SHELF
    k = math.tan(math.pi * frequency / sample_rate)
    high = 10.0 ** (gain_db / 20.0)
    band = high**_SHELF_BAND_EXPONENT
    a0 = 1.0 + k / q + k * k
    shelf = (
        (high + band * k / q + k * k) / a0,
        2.0 * (k * k - high) / a0,
        (high - band * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    )
    high_pass_a0 = _high_pass_a0(sample_rate)
    k = math.tan(math.pi * _HIGH_PASS[0] / sample_rate)
    gain = _high_pass_a0(48000) / high_pass_a0
    high_pass = (
        gain,
        -2.0 * gain,
        gain,
        1.0,
        2.0 * (k * k - 1.0) / high_pass_a0,
        (1.0 - k / _HIGH_PASS[1] + k * k) / high_pass_a0,
    )
    return np.array((shelf, high_pass))


def _high_pass_a0(sample_rate: int) -> float:
    # The standard's 48 kHz high-pass leaves b = (1, -2, 1) unnormalised, a passband gain of
    # this a0 (+0.04 dB, which its -0.691 offset accounts for); kept the same at every rate.
    frequency, q = _HIGH_PASS
    k = math.tan(math.pi * frequency / sample_rate)
    return 1.0 + k / q + k * k
