"""What the check measures of a segment's audio without a recognizer: its length, the longest
gap inside it, clipping, its level, and breaths left in; and the picture of the whole episode
(waveform and level) the proof page draws. Pure functions of samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_SECONDS = 0.02
QUIET_BELOW_PEAK_DB = 35.0  # a frame this far under the segment's loudest is a gap, not speech
QUIET_FLOOR_DBFS = -55.0
CLIP_LEVEL = 0.999
CLIP_RUN = 3  # consecutive samples at full scale: a flattened peak, not a loud one


@dataclass(frozen=True)
class SegmentSignal:
    seconds: float  # from its first to its last sounding frame
    longest_gap: float  # seconds: the longest quiet stretch between sounding frames
    clipped_runs: int  # runs of CLIP_RUN or more samples at full scale
    level_db: float  # the power mean of its sounding frames, dBFS


def frame_levels(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS of each 20 ms frame, dBFS."""
    size = max(1, int(sample_rate * FRAME_SECONDS))
    count = len(audio) // size
    if count == 0:
        return np.full(1, -120.0)
    frames = np.asarray(audio[: count * size], dtype=np.float64).reshape(count, size)
    return 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))


def measure(audio: np.ndarray, sample_rate: int) -> SegmentSignal:
    levels = frame_levels(audio, sample_rate)
    threshold = max(QUIET_FLOOR_DBFS, float(levels.max()) - QUIET_BELOW_PEAK_DB)
    loud = np.flatnonzero(levels >= threshold)
    if loud.size == 0 or float(levels.max()) < -70.0:
        return SegmentSignal(0.0, 0.0, 0, -120.0)
    span = levels[loud[0] : loud[-1] + 1] >= threshold
    longest = run = 0
    for sounding in span:
        run = 0 if sounding else run + 1
        longest = max(longest, run)
    power = np.mean(10.0 ** (levels[loud] / 10.0))
    return SegmentSignal(
        seconds=(loud[-1] - loud[0] + 1) * FRAME_SECONDS,
        longest_gap=longest * FRAME_SECONDS,
        clipped_runs=clipped_runs(audio),
        level_db=float(10.0 * np.log10(power)),
    )


def clipped_runs(audio: np.ndarray) -> int:
    hot = np.abs(audio) >= CLIP_LEVEL
    if not hot.any():
        return 0
    edges = np.diff(np.concatenate(([0], hot.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.sum(stops - starts >= CLIP_RUN))


def level_outliers(
    levels: list[float], *, neighbours: int = 3, limit_db: float = 6.0
) -> list[bool]:
    """Whether each segment is more than `limit_db` louder or quieter than the median of the
    segments around it (`neighbours` each side)."""
    out = []
    for index, level in enumerate(levels):
        around = [
            levels[j]
            for j in range(max(0, index - neighbours), min(len(levels), index + neighbours + 1))
            if j != index and levels[j] > -100
        ]
        far = bool(around) and abs(level - float(np.median(around))) > limit_db
        out.append(far and level > -100)
    return out


@dataclass(frozen=True)
class Picture:
    """The episode drawn at `columns` points: the waveform's min and max, and the level."""

    seconds: float
    low: list[float]
    high: list[float]
    level_db: list[float]  # RMS over 400 ms around each column, dBFS


def picture(audio: np.ndarray, sample_rate: int, columns: int = 1200) -> Picture:
    seconds = len(audio) / sample_rate
    if len(audio) == 0:
        return Picture(0.0, [], [], [])
    columns = max(1, min(columns, len(audio)))
    edges = np.linspace(0, len(audio), columns + 1).astype(int)
    low = np.minimum.reduceat(audio, edges[:-1])
    high = np.maximum.reduceat(audio, edges[:-1])
    window = int(0.4 * sample_rate)
    power = np.cumsum(np.concatenate(([0.0], np.asarray(audio, np.float64) ** 2)))
    centres = (edges[:-1] + edges[1:]) // 2
    a = np.clip(centres - window // 2, 0, len(audio))
    b = np.clip(centres + window // 2, 0, len(audio))
    mean = (power[b] - power[a]) / np.maximum(b - a, 1)
    level = 10.0 * np.log10(np.maximum(mean, 1e-10))
    return Picture(
        seconds,
        [round(float(v), 3) for v in low],
        [round(float(v), 3) for v in high],
        [round(float(v), 1) for v in level],
    )
