"""Takes → one timeline: each take trimmed of its silence, resampled to the episode rate and
placed with its pause after it, and the chapter marks that fall out of the layout.

`TimelineBuilder` lays a timeline out one take at a time, so a render never holds it whole;
`assemble` does the same in memory, for short pieces such as auditions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import soxr

from studio.types import ChapterMark, Episode, Loudness, Placement, Script, Take, Timeline

# A chapter mark sits this far before its first words (at most half the pause before them), so a
# player that jumps to the chapter lands in silence rather than mid-syllable.
CHAPTER_PREROLL = 0.25

_TRIM_FRAME_SECONDS = 0.005


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
    at the episode's end. Chapters without segments get no mark. This holds the whole episode
    in memory, for short pieces such as auditions; a render streams (`TimelineBuilder`).
    """
    segments = script.segments
    if len(takes) != len(segments):
        raise ValueError(f"{len(takes)} takes for {len(segments)} segments: one take per segment")
    if not segments:
        silence = np.zeros(_samples(lead_in, sample_rate) + _samples(tail, sample_rate))
        return Episode(silence.astype(np.float32), sample_rate, (), ())
    builder = TimelineBuilder(script, sample_rate=sample_rate, lead_in=lead_in, tail=tail)
    audio = np.concatenate([piece for take in takes for piece in builder.pieces(take)])
    timeline = builder.timeline()
    return Episode(audio, sample_rate, timeline.placements, timeline.chapters)


class TimelineBuilder:
    """Lays the segments out one take at a time, for a timeline that need never be whole.

    `lead_in` seconds of silence, then each take's trimmed speech at the episode rate followed by
    its pause, the last pause replaced by `tail`.
    """

    def __init__(
        self, script: Script, *, sample_rate: int, lead_in: float = 0.4, tail: float = 1.0
    ) -> None:
        self.script = script
        self.sample_rate = sample_rate
        self._segments = script.segments
        self._tail = _samples(tail, sample_rate)
        self._starts: list[int] = []
        self._lengths: list[int] = []
        self.length = _samples(lead_in, sample_rate)  # samples laid out so far

    def pieces(self, take: Take) -> list[np.ndarray]:
        """The next segment's samples, in order: [the lead-in,] its speech, its pause."""
        index = len(self._starts)
        if index >= len(self._segments):
            raise ValueError(f"more takes than the script's {len(self._segments)} segments")
        pieces = [np.zeros(self.length, dtype=np.float32)] if index == 0 else []
        speech = trim_silence(take.audio, take.sample_rate)
        length = _resampled_length(len(speech), take.sample_rate, self.sample_rate)
        last = index == len(self._segments) - 1
        pause = (
            self._tail if last else _samples(self._segments[index].pause_after, self.sample_rate)
        )
        pieces.append(_resample(speech, take.sample_rate, self.sample_rate, length))
        pieces.append(np.zeros(pause, dtype=np.float32))
        self._starts.append(self.length)
        self._lengths.append(length)
        self.length += length + pause
        return pieces

    def timeline(self, loudness: Loudness | None = None) -> Timeline:
        """Where everything sits, once every take is laid out."""
        if len(self._starts) != len(self._segments):
            raise ValueError(f"{len(self._starts)} of {len(self._segments)} takes laid out")
        rate = self.sample_rate
        placements = tuple(
            Placement(start / rate, (start + length) / rate, segment.text, segment.source)
            for segment, start, length in zip(
                self._segments, self._starts, self._lengths, strict=True
            )
        )
        chapters = _chapter_marks(self.script, self._starts, self._lengths, self.length, rate)
        return Timeline(rate, self.length, placements, chapters, loudness)


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
