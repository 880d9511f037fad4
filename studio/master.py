"""Takes → Episode → mastered Episode: trim, place on one timeline, reach -16 LUFS under -1 dBTP.

Everything here works on whole-episode arrays (an hour at 44.1 kHz is ~159 M samples, 636 MB as
float32), so the long passes run block by block with small float64 temporaries: memory stays at
the input plus the output, whatever the episode's length.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyloudnorm
import scipy.ndimage
import scipy.signal
import soxr

from studio.errors import StudioError
from studio.types import ChapterMark, Episode, Loudness, Placement, Script, Take

# A chapter mark sits this far before its first words (at most half the pause before them), so a
# player that jumps to the chapter lands in silence rather than mid-syllable.
CHAPTER_PREROLL = 0.25

# The limiter aims this far below the requested true peak: MP3 encoding adds a few tenths of a dB
# of overshoot, and the published file, not the PCM, is what has to stay under the ceiling.
ENCODER_HEADROOM_DB = 0.5

# The limiter ramps its gain down over the look-ahead, so the gain is already down when a peak
# arrives (no clipped attack), then recovers exponentially; ~80 ms recovers between syllables
# without the audible pumping of faster releases.
LOOKAHEAD_SECONDS = 0.005
RELEASE_SECONDS = 0.08

# Limiting takes loudness with it: synthesized speech with a 22 dB crest factor lands ~1.6 LU
# under target after the first pass, and each extra dB of gain then buys only ~0.4 LU. So the gain
# is corrected (secant steps on the measured loudness) until within this tolerance, at most
# MAX_LOUDNESS_ATTEMPTS passes of ~2.5 s per hour of audio each. The tolerance is tight because
# MP3 encoding costs another ~0.4 LU.
LOUDNESS_TOLERANCE_LU = 0.1
MAX_LOUDNESS_ATTEMPTS = 5
# ...but the gain never goes more than this above plain loudness normalisation. Past it the
# limiter is flattening every syllable to the ceiling, breaths and noise in the pauses rise with
# the gain, and loudness hardly moves: a too-peaky voice ends up under target instead.
MAX_EXTRA_GAIN_DB = 8.0

_BLOCK = 1 << 18  # samples per block in the streaming passes (~6 s at 44.1 kHz)
_TRIM_FRAME_SECONDS = 0.005

# The limiter decides its gain once per 32 samples (0.73 ms at 44.1 kHz) and ramps linearly in
# between: fine beside its 5 ms attack, and 32x less envelope arithmetic and memory than per sample.
_CONTROL_INTERVAL = 32
_CONTROL_BLOCK = 1 << 16  # control points per block of envelope arithmetic

# BS.1770-4 gating: 400 ms blocks overlapping by 75 %, i.e. the mean of four 100 ms sub-blocks.
_GATE_SUBBLOCKS = 4
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0

# True peak: 4x oversampling with a 49-tap Kaiser-windowed sinc (12 taps per phase, the size of
# BS.1770-4's own 48-tap example) rather than resample_poly's default 81 taps. Its every 4th tap
# is zero, so phase 0 is the original samples and only the three in-between phases are computed:
# ~4x faster than resample_poly, which matters for an hour of audio. tests/test_master.py checks
# the result against resample_poly's.
_OVERSAMPLE = 4
_TRUE_PEAK_FILTER = scipy.signal.firwin(49, 1 / _OVERSAMPLE, window=("kaiser", 5.0))
_PHASE_TAPS = 12
_TAPS_BEFORE = 5  # the in-between values after sample n use samples n-5 … n+6
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


def trim_silence(
    audio: np.ndarray, sample_rate: int, *, threshold_db: float = -50.0, keep: float = 0.02
) -> np.ndarray:
    """Return `audio` without its leading and trailing silence, as a view into `audio`.

    Silence is every 5 ms frame whose RMS is more than `threshold_db` below the take's peak;
    `keep` seconds of margin stay on both sides so soft onsets and decaying tails are not clipped.
    An all-silent take trims to nothing.
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"trim_silence expects mono audio, got shape {audio.shape}")
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio[:0]

    frame = max(1, round(_TRIM_FRAME_SECONDS * sample_rate))
    frame_count = -(-len(audio) // frame)
    padded = np.zeros(frame_count * frame, dtype=np.float64)
    padded[: len(audio)] = audio
    frame_rms = np.sqrt(np.mean(np.square(padded.reshape(frame_count, frame)), axis=1))
    loud = np.flatnonzero(frame_rms >= peak * 10.0 ** (threshold_db / 20.0))
    if loud.size == 0:  # only isolated peaks, no sustained sound: keep around the loudest sample
        loud = np.array([int(np.argmax(np.abs(audio))) // frame])

    margin = round(keep * sample_rate)
    start = max(0, int(loud[0]) * frame - margin)
    stop = min(len(audio), (int(loud[-1]) + 1) * frame + margin)
    return audio[start:stop]


def assemble(
    script: Script,
    takes: Sequence[Take],
    *,
    sample_rate: int = 44100,
    lead_in: float = 0.4,
    tail: float = 1.0,
) -> Episode:
    """Place each segment's trimmed take on one timeline, with its pause after it.

    `takes[i]` is the take of `script.segments[i]`. The timeline starts with `lead_in` seconds of
    silence; the last segment's pause is replaced by `tail`. Chapter marks are contiguous: the
    first starts at 0, each later one shortly before its first segment's speech, and the last ends
    at the episode's end. Chapters without segments get no mark.
    """
    segments = script.segments
    if len(takes) != len(segments):
        raise ValueError(f"{len(takes)} takes for {len(segments)} segments: one take per segment")

    # Two passes over the takes, so they never need to be in memory all at once (a render reads
    # them from the cache one by one): lengths first, to allocate, then the audio itself.
    lengths = [
        _resampled_length(
            len(trim_silence(take.audio, take.sample_rate)), take.sample_rate, sample_rate
        )
        for take in takes
    ]
    pauses = [_samples(segment.pause_after, sample_rate) for segment in segments]
    tail_samples = _samples(tail, sample_rate)
    if pauses:
        pauses[-1] = tail_samples
    lead_in_samples = _samples(lead_in, sample_rate)
    total = lead_in_samples + sum(lengths) + (sum(pauses) if pauses else tail_samples)

    # One allocation for the whole episode: growing it take by take would copy it over and over.
    timeline = np.zeros(total, dtype=np.float32)
    starts: list[int] = []
    cursor = lead_in_samples
    for take, length, pause in zip(takes, lengths, pauses, strict=True):
        speech = trim_silence(take.audio, take.sample_rate)
        timeline[cursor : cursor + length] = _resample(
            speech, take.sample_rate, sample_rate, length
        )
        starts.append(cursor)
        cursor += length + pause

    placements = tuple(
        Placement(
            start=start / sample_rate,
            end=(start + length) / sample_rate,
            text=segment.text,
            source=segment.source,
        )
        for segment, start, length in zip(segments, starts, lengths, strict=True)
    )
    chapters = _chapter_marks(script, starts, lengths, len(timeline), sample_rate)
    return Episode(timeline, sample_rate, placements, chapters)


def measure(audio: np.ndarray, sample_rate: int) -> Loudness:
    """Integrated loudness (BS.1770-4, LUFS) and true peak (4x oversampled, dBTP).

    Silence measures -inf for both.
    """
    return Loudness(
        integrated_lufs=integrated_loudness(audio, sample_rate),
        true_peak_dbtp=true_peak_dbtp(audio, sample_rate),
    )


def master(
    episode: Episode,
    *,
    target_lufs: float = -16.0,
    peak_dbtp: float = -1.0,
    in_place: bool = False,
) -> Episode:
    """Return the episode at `target_lufs` with its true peak at most `peak_dbtp`.

    Gain to target, then a look-ahead limiter holds the true peak `ENCODER_HEADROOM_DB` below
    `peak_dbtp`. Limiting lowers the loudness, so while the result is more than
    `LOUDNESS_TOLERANCE_LU` off target the gain is corrected and the limiter rerun (at most
    `MAX_LOUDNESS_ATTEMPTS` passes). Silence stays exactly silent. The returned episode carries
    its measured loudness.

    With `in_place`, the episode's own array is overwritten instead of copied: an hour-long
    episode then needs its timeline once in memory, not twice.
    """
    audio = np.asarray(episode.audio)
    if audio.ndim != 1:
        raise ValueError(f"master expects mono audio, got shape {audio.shape}")
    rate = episode.sample_rate
    source_lufs = integrated_loudness(audio, rate)
    if not math.isfinite(source_lufs):
        raise StudioError(
            "The episode is silent, so there is nothing to master: check that synthesis produced "
            "audio for its segments."
        )

    # The true-peak envelope scales with the gain, so it is measured once, at unity.
    chunk_peaks = _chunk_true_peaks(audio)
    ceiling = 10.0 ** ((peak_dbtp - ENCODER_HEADROOM_DB) / 20.0)
    tried: list[tuple[float, float]] = []  # (gain dB, loudness reached)
    plain_gain_db = target_lufs - source_lufs
    gain_db = plain_gain_db
    for _attempt in range(MAX_LOUDNESS_ATTEMPTS):
        boundary_gains = _limiter_gains(chunk_peaks, 10.0 ** (gain_db / 20.0), ceiling, rate)

        def limited(start: int, stop: int, gains: np.ndarray = boundary_gains) -> np.ndarray:
            out = np.empty(stop - start, dtype=np.float32)
            _apply_gains(out, audio, gains, start, stop)
            return out

        mastered_lufs = _streamed_loudness(limited, len(audio), rate)
        tried.append((gain_db, mastered_lufs))
        if abs(target_lufs - mastered_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
        gain_db = min(_next_gain_db(tried, target_lufs), plain_gain_db + MAX_EXTRA_GAIN_DB)
        if gain_db == tried[-1][0]:
            break  # at the cap already: another pass would give the same result

    mastered = audio if in_place else np.empty(len(audio), dtype=np.float32)
    _apply_gains(mastered, audio, boundary_gains, 0, len(audio))
    loudness = Loudness(
        integrated_lufs=mastered_lufs, true_peak_dbtp=true_peak_dbtp(mastered, rate)
    )
    return Episode(mastered, rate, episode.placements, episode.chapters, loudness)


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

    Uses pyloudnorm's K-weighting filters and the same gating as `Meter.integrated_loudness`,
    which cannot be called on a whole episode: it holds several float64 copies of the signal
    (~4 GB for an hour). The filter state carries across blocks, so the result matches. Audio
    shorter than one 400 ms gating block (a short audition) is measured as a single block, where
    pyloudnorm would refuse it.
    """
    audio = np.asarray(audio)
    return _streamed_loudness(lambda start, stop: audio[start:stop], len(audio), sample_rate)


def _streamed_loudness(
    block_at: Callable[[int, int], np.ndarray], length: int, sample_rate: int
) -> float:
    """Integrated loudness of a signal given block by block, so a gained copy of a long episode
    can be measured without ever existing whole."""
    sections = _k_weighting_sections(sample_rate)
    state = np.zeros((sections.shape[0], 2))
    subblock = round(0.1 * sample_rate)
    # Blocks are whole numbers of sub-blocks, so sub-blocks never straddle two blocks.
    block = max(1, _BLOCK // subblock) * subblock
    subblock_energy: list[np.ndarray] = []
    total_energy = 0.0
    for start in range(0, length, block):
        chunk = block_at(start, min(start + block, length)).astype(np.float64)
        weighted, state = scipy.signal.sosfilt(sections, chunk, zi=state)
        squares = np.square(weighted, out=weighted)
        whole = len(squares) // subblock * subblock
        subblock_energy.append(squares[:whole].reshape(-1, subblock).sum(axis=1))
        total_energy += float(squares.sum())

    energy = np.concatenate(subblock_energy) if subblock_energy else np.zeros(0)
    if len(energy) >= _GATE_SUBBLOCKS:
        window = np.lib.stride_tricks.sliding_window_view(energy, _GATE_SUBBLOCKS)
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


def _chunk_true_peaks(audio: np.ndarray) -> np.ndarray:
    """Per `_CONTROL_INTERVAL`-sample chunk: the largest true-peak magnitude from its first
    sample to the first sample of the next chunk (float32, one value per chunk)."""
    interval = _CONTROL_INTERVAL
    chunk_peaks = np.empty(-(-len(audio) // interval), dtype=np.float32)

    def block_chunks(start: int) -> None:
        rows = min(_BLOCK, len(chunk_peaks) * interval - start)
        between, samples = _oversampled(audio, start, start + rows)
        magnitude = np.abs(between, out=between)
        peaks = np.maximum(magnitude[0], magnitude[1], out=magnitude[0])
        np.maximum(peaks, magnitude[2], out=peaks)
        np.maximum(peaks, np.abs(samples[:rows]), out=peaks)
        block = chunk_peaks[start // interval : (start + rows) // interval]
        np.max(peaks.reshape(-1, interval), axis=1, out=block)
        np.maximum(block, np.abs(samples[interval::interval]), out=block)

    _in_parallel(block_chunks, range(0, len(audio), _BLOCK))
    return chunk_peaks


def _oversampled(audio: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """The 3 in-between 4x oversampled values after each sample in [start, stop), as a
    (3, stop - start) array, and the samples start ... stop (one more: the last interval's end).

    Each phase is a 12-tap FIR, done as in-place multiply-adds: pure numpy, so the worker threads
    run it in parallel without a BLAS thread pool of its own competing with them.
    """
    size = stop - start
    padded = _padded_slice(audio, start - _TAPS_BEFORE, stop + _PHASE_TAPS - _TAPS_BEFORE)
    between = np.empty((3, size), dtype=np.float32)
    product = np.empty(size, dtype=np.float32)
    for phase, out in enumerate(between):
        np.multiply(padded[:size], _PHASE_MATRIX[0, phase], out=out)
        for tap in range(1, _PHASE_TAPS):
            np.multiply(padded[tap : tap + size], _PHASE_MATRIX[tap, phase], out=product)
            np.add(out, product, out=out)
    return between, padded[_TAPS_BEFORE : _TAPS_BEFORE + size + 1]


def _limiter_gains(
    chunk_peaks: np.ndarray, gain: float, ceiling: float, sample_rate: int
) -> np.ndarray:
    """The limiter: the gain (including `gain`) at every chunk boundary, len(chunk_peaks) + 1
    values, such that `gain` x true peak stays under `ceiling` with the gain ramped linearly
    between boundaries.

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
    lookahead = max(1, math.ceil(LOOKAHEAD_SECONDS * sample_rate / _CONTROL_INTERVAL))
    decay = _CONTROL_INTERVAL / (RELEASE_SECONDS * sample_rate)
    log_excess = math.log(gain) - math.log(ceiling)
    chunks = len(chunk_peaks)
    gains = np.empty(chunks + 1, dtype=np.float32)
    previous_env = 0.0
    recent_env = np.zeros(lookahead - 1)

    for start in range(0, chunks + 1, _CONTROL_BLOCK):
        stop = min(start + _CONTROL_BLOCK, chunks + 1)
        size = stop - start
        # Boundaries [start, stop + L - 1) touch chunks [start - 1, stop + L - 1).
        first_chunk = start - 1
        peaks = _padded_slice(chunk_peaks, first_chunk, stop + lookahead - 1)
        with np.errstate(divide="ignore"):
            chunk_need = np.maximum(np.log(peaks.astype(np.float64)) + log_excess, 0.0)
        need = np.maximum(chunk_need[:-1], chunk_need[1:])

        # Forward-looking window [j, j+L): origin shifts ndimage's centred window to start at j.
        hold = scipy.ndimage.maximum_filter1d(
            need, lookahead, origin=-(lookahead // 2), mode="constant", cval=0.0
        )[:size]

        ramp = np.arange(size) * decay
        with np.errstate(divide="ignore"):
            running = np.maximum.accumulate(np.log(hold) + ramp)
            carried = math.log(previous_env) - decay if previous_env > 0.0 else -math.inf
        env = np.exp(np.maximum(running, carried) - ramp)
        previous_env = float(env[-1])

        history = np.concatenate((recent_env, env))
        sums = np.concatenate(([0.0], np.cumsum(history)))
        attenuation = (sums[lookahead:] - sums[:-lookahead]) / lookahead
        recent_env = history[len(history) - (lookahead - 1) :]
        gains[start:stop] = gain * np.exp(-attenuation)
    return gains


def _apply_gains(
    out: np.ndarray, audio: np.ndarray, boundary_gains: np.ndarray, begin: int, end: int
) -> None:
    """out = audio[begin:end] x the gain, ramped linearly from each chunk boundary to the next.

    `out` holds just that range; it may be `audio` itself (in place) when the range is whole.
    `begin` is a multiple of the control interval whenever it is not 0.
    """
    interval = _CONTROL_INTERVAL
    ramp = np.arange(interval, dtype=np.float32) / interval
    for start in range(begin, end, _BLOCK):
        stop = min(start + _BLOCK, end)
        first, last = start // interval, -(-stop // interval)
        left = boundary_gains[first:last, None]
        right = boundary_gains[first + 1 : last + 1, None]
        offset = start - first * interval
        gain = (left + (right - left) * ramp).reshape(-1)[offset : offset + stop - start]
        np.multiply(
            audio[start:stop], gain, out=out[start - begin : stop - begin], casting="unsafe"
        )


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
    """pyloudnorm's K-weighting stages for this rate, as second-order sections for sosfilt."""
    meter = pyloudnorm.Meter(sample_rate)  # K-weighting, as BS.1770-4 specifies
    sections = []
    for stage in meter._filters.values():
        b = np.asarray(stage.b, dtype=np.float64) * stage.passband_gain
        a = np.asarray(stage.a, dtype=np.float64)
        sections.append(np.concatenate((b, a)) / a[0])
    return np.array(sections)


def _chapter_marks(
    script: Script, starts: list[int], lengths: list[int], total: int, sample_rate: int
) -> tuple[ChapterMark, ...]:
    titles: list[str] = []
    mark_samples: list[int] = []
    first_segment = 0
    for chapter in script.chapters:
        index = first_segment
        first_segment += len(chapter.segments)
        if not chapter.segments:
            continue
        if not mark_samples:
            mark_samples.append(0)
        else:
            previous_end = starts[index - 1] + lengths[index - 1]
            pause = starts[index] - previous_end
            preroll = min(_samples(CHAPTER_PREROLL, sample_rate), pause // 2)
            mark_samples.append(starts[index] - preroll)
        titles.append(chapter.title)

    if not mark_samples:
        return ()
    ends = [*mark_samples[1:], total]
    return tuple(
        ChapterMark(title=title, start=start / sample_rate, end=end / sample_rate)
        for title, start, end in zip(titles, mark_samples, ends, strict=True)
    )


def _samples(seconds: float, sample_rate: int) -> int:
    return max(0, round(seconds * sample_rate))


def _resampled_length(length: int, source_rate: int, target_rate: int) -> int:
    return (length * target_rate + source_rate // 2) // source_rate


def _resample(audio: np.ndarray, source_rate: int, target_rate: int, length: int) -> np.ndarray:
    """Resample to `target_rate`, fitted to exactly `length` samples.

    soxr's output can differ from the rounded ideal length by one sample; the timeline was laid
    out with the ideal lengths, so the last sample is dropped or a zero added.
    """
    if len(audio) == 0:
        return np.zeros(length, dtype=np.float32)
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if source_rate != target_rate:
        audio = soxr.resample(audio, source_rate, target_rate, quality="HQ")
    if len(audio) >= length:
        return audio[:length]
    return np.concatenate((audio, np.zeros(length - len(audio), dtype=np.float32)))
