"""A labelled breath fixture made by the project itself: real speech from the bundled voice with
synthetic breaths inserted at known places, and fricative-heavy sentences as negatives.

The breaths follow the measurements in docs/breaths.md: broadband
noise shaped by wide vocal-tract resonances (spectral centroid around 2.4 kHz, high flatness, the
1-5 kHz band a few dB under the 80-1000 Hz band), 180-700 ms long, a quick rise and a slower
decay with some turbulence, each at its own level (-50 to -30 dBFS) and spectrum. Some sit in the
middle of a pause, some end right at a word's onset, some start right after a word ends. The
whole recording sits on a quiet room tone, as a microphone recording would.

    fixture = build_fixture(engine, seed=0)                 # what tests/test_breath.py scores
    fixture = build_fixture(engine, seed=1, held_out=True)  # benchmarks/breath.py: other sentences

Nothing in studio/breath.py was tuned on the held-out sentences or seed. Takes are synthesized
once per process and kept in memory (the bundled voice is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import scipy.signal

from studio.engines.bundled import BundledEngine

SPEECH = (
    "The price of a sentence is the time it takes to say it well.",
    "Every chapter opens with a heading, and every heading becomes a mark in the player.",
    "A narrator breathes between phrases, and the microphone hears every one.",
    "Most listeners forgive a slow voice, but not a noisy one.",
    "We trimmed the pauses, measured the loudness, and listened again.",
    "Good audio is mostly the absence of small annoyances.",
    "Nobody remembers the mastering, only the story.",
    "In the end, the essay was shorter, clearer and easier to follow.",
    "Hold the microphone a hand away from your mouth.",
    "Our old radio still hums when the heating comes on.",
    "Reading aloud is slower than reading silently, and that is the point.",
    "Then the room went quiet, and we pressed record.",
)

# Negatives: fricatives (s, sh, f, th, h) next to voiced speech, which must be left alone.
FRICATIVES = (
    "She sells sixty fresh fish, so Sam's shop shuts for half of Friday.",
    "Fifty famous philosophers fought fiercely over five fine theses.",
    "His house has a huge hedge, and he hates how heavy it is.",
    "Shh, the sheriff's horse is thirsty, so fetch fresh hay.",
    "Sixteen thousand sheep slowly shuffled south, and his sister followed.",
    "Few of us feel safe when the fast ferry heaves through the surf.",
)

# Held out: benchmarks/breath.py scores these (with another seed), the tests never see them.
HELD_OUT_SPEECH = (
    "A good edit is the one nobody notices.",
    "After the second coffee, the draft finally started to move.",
    "Listeners drift when a sentence runs on without a rest.",
    "Our budget covered one microphone, two cables and a very old laptop.",
    "By morning the storm had passed and the roads were open again.",
    "Write the way you talk, then cut the half you did not need.",
    "Every recording starts with a minute of quiet room.",
    "Harold asked whether anyone had heard the ending.",
    "Numbers are hard to follow by ear, so round them.",
    "We opened the window, and the traffic noise came in.",
    "I read the first chapter twice before I understood it.",
    "Maybe the best narration is simply careful reading.",
)
HELD_OUT_FRICATIVES = (
    "Seven shy sailors fished off the shore of Shetland.",
    "Fresh sushi is served at six, so she hurries home.",
    "He has three thick files for half of the fiscal year.",
    "Soft fizz hissed as Sophie set the glasses on the shelf.",
)

PLACEMENTS = ("pause", "before_word", "after_word")


@dataclass(frozen=True)
class Breath:
    start: float  # seconds
    end: float
    level_db: float  # RMS over the breath, dBFS
    placement: str  # "pause", "before_word" (ends at a word onset) or "after_word"


@dataclass(frozen=True, eq=False)
class Fixture:
    audio: np.ndarray  # mono float32
    sample_rate: int
    breaths: tuple[Breath, ...]
    fricative_spans: tuple[tuple[float, float], ...]  # (start, end) of each negative sentence
    speech_spans: tuple[tuple[float, float], ...]  # (start, end) of every take's speech
    floor_db: float  # room tone RMS, dBFS
    takes: dict[str, np.ndarray] = field(default_factory=dict)  # text → raw take

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def breath_mask(self, margin: float = 0.0) -> np.ndarray:
        """True on every sample inside a labelled breath (widened by `margin` seconds)."""
        mask = np.zeros(len(self.audio), dtype=bool)
        for breath in self.breaths:
            start = max(0, round((breath.start - margin) * self.sample_rate))
            mask[start : round((breath.end + margin) * self.sample_rate)] = True
        return mask


@cache
def _take(engine: BundledEngine, text: str) -> np.ndarray:
    return engine.synthesize(text).audio


def synthetic_breath(
    rng: np.random.Generator, seconds: float, sample_rate: int, level_db: float
) -> np.ndarray:
    """One inhalation: shaped noise with a breath's spectrum and envelope, RMS `level_db` dBFS."""
    n = round(seconds * sample_rate)
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    log_f = np.log2(np.maximum(freqs, 20.0))
    # Wide resonances of an open vocal tract, with the turbulent hiss of air above them; each
    # breath gets its own resonance frequencies, heights and hiss.
    shift = rng.uniform(0.85, 1.2)
    gain_db = np.full(len(freqs), -45.0)
    for centre, width, height in (
        (550 * shift, 0.45, 0.0),
        (1500 * shift, 0.3, rng.uniform(-13, -8)),
        (2700 * shift, 0.3, rng.uniform(-14, -9)),
        (rng.uniform(5500, 7500), 0.6, rng.uniform(-21, -15)),
    ):
        bump = height - 12.0 * ((log_f - np.log2(centre)) / width) ** 2
        gain_db = np.maximum(gain_db, bump)
    gain_db[freqs < 100] -= 24  # little energy below 100 Hz
    spectrum = np.fft.rfft(rng.standard_normal(n)) * 10 ** (gain_db / 20)
    noise = np.fft.irfft(spectrum, n)

    # Quick rise, slower decay, and a slow turbulent wobble.
    t = np.linspace(0.0, 1.0, n)
    peak = rng.uniform(0.25, 0.45)
    envelope = np.where(
        t < peak, np.sin(0.5 * np.pi * t / peak) ** 2, np.cos(0.5 * np.pi * (t - peak) / (1 - peak))
    )
    wobble = scipy.signal.sosfiltfilt(
        scipy.signal.butter(2, 12, fs=sample_rate, output="sos"), rng.standard_normal(n)
    )
    envelope *= 1 + 0.25 * wobble / (np.std(wobble) + 1e-12)
    breath = noise * np.clip(envelope, 0, None)
    rms = np.sqrt(np.mean(breath**2))
    return (breath * 10 ** (level_db / 20) / rms).astype(np.float32)


def room_tone(rng: np.random.Generator, n: int, sample_rate: int, level_db: float) -> np.ndarray:
    """Pinkish microphone/room noise at `level_db` dBFS RMS."""
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    shape = 1 / np.sqrt(np.maximum(freqs, 40.0))
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape, n)
    return (noise * 10 ** (level_db / 20) / np.sqrt(np.mean(noise**2))).astype(np.float32)


def speech_bounds(take: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """First and last sample of the take's speech: 5 ms frames within 40 dB of the peak frame."""
    frame = round(0.005 * sample_rate)
    count = len(take) // frame
    rms = np.sqrt(np.mean(np.square(take[: count * frame].reshape(count, frame)), axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-40 / 20))
    return int(loud[0]) * frame, (int(loud[-1]) + 1) * frame


def build_fixture(
    engine: BundledEngine,
    *,
    seed: int = 0,
    sentences: int = 12,
    negatives: int = 4,
    breath_share: float = 0.8,
    held_out: bool = False,
    breath_db: tuple[float, float] = (-50.0, -30.0),
    floor_db: tuple[float, float] = (-72.0, -64.0),
) -> Fixture:
    """A recording of `sentences` + `negatives` takes with breaths in most pauses, from the
    test sentences or (`held_out`) the benchmark's own."""
    rng = np.random.default_rng(seed)
    rate = engine.sample_rate
    speech_pool = HELD_OUT_SPEECH if held_out else SPEECH
    fricative_pool = HELD_OUT_FRICATIVES if held_out else FRICATIVES
    positives = [speech_pool[i] for i in rng.permutation(len(speech_pool))[:sentences]]
    fricatives = [fricative_pool[i] for i in rng.permutation(len(fricative_pool))[:negatives]]
    order = positives + fricatives
    order = [order[i] for i in rng.permutation(len(order))]
    takes = {text: _take(engine, text) for text in order}
    floor_level = float(rng.uniform(*floor_db))

    pieces: list[np.ndarray] = []
    breaths: list[Breath] = []
    fricative_spans: list[tuple[float, float]] = []
    speech_spans: list[tuple[float, float]] = []
    pending: list[tuple[int, np.ndarray, float, str]] = []  # (sample, audio, level, placement)
    cursor = round(0.6 * rate)
    pieces.append(np.zeros(cursor, dtype=np.float32))
    for index, text in enumerate(order):
        take = takes[text]
        onset, offset = speech_bounds(take, rate)
        speech_spans.append(((cursor + onset) / rate, (cursor + offset) / rate))
        if text in fricative_pool:
            fricative_spans.append(speech_spans[-1])
        pieces.append(take)
        take_start = cursor
        cursor += len(take)
        if index == len(order) - 1:
            break
        # The pause after this take, and maybe a breath in it.
        length = float(np.clip(rng.lognormal(np.log(0.35), 0.4), 0.18, 0.7))
        level = float(rng.uniform(*breath_db))
        placement = PLACEMENTS[int(rng.integers(len(PLACEMENTS)))]
        has_breath = rng.random() < breath_share
        gap = float(rng.uniform(0.25, 0.9))
        if has_breath:
            gap = max(gap, length + (0.25 if placement == "pause" else 0.12))
        gap_samples = round(gap * rate)
        pieces.append(np.zeros(gap_samples, dtype=np.float32))
        if has_breath:
            breath = synthetic_breath(rng, length, rate, level)
            next_onset = speech_bounds(takes[order[index + 1]], rate)[0]
            speech_end = take_start + offset
            word_onset = cursor + gap_samples + next_onset
            if placement == "before_word":
                at = word_onset - len(breath)
            elif placement == "after_word":
                at = speech_end + round(rng.uniform(0.0, 0.03) * rate)
            else:
                lo, hi = speech_end + round(0.08 * rate), word_onset - round(0.08 * rate)
                at = int(rng.integers(lo, max(lo + 1, hi - len(breath))))
            pending.append((at, breath, level, placement))
        cursor += gap_samples
    pieces.append(np.zeros(round(0.6 * rate), dtype=np.float32))
    audio = np.concatenate(pieces)
    for at, breath, level, placement in pending:
        audio[at : at + len(breath)] += breath
        breaths.append(Breath(at / rate, (at + len(breath)) / rate, level, placement))
    audio += room_tone(rng, len(audio), rate, floor_level)
    return Fixture(
        audio=audio,
        sample_rate=rate,
        breaths=tuple(breaths),
        fricative_spans=tuple(fricative_spans),
        speech_spans=tuple(speech_spans),
        floor_db=floor_level,
        takes=takes,
    )


# --- scoring ------------------------------------------------------------------------------

COLLAR = 0.2  # seconds: onsets within this match; offsets within this or half the breath


def match_events(
    detected: list[tuple[float, float]], reference: list[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Pairs (reference index, detected index), sed_eval style: onsets within COLLAR, offsets
    within max(COLLAR, half the reference's length); each event matched at most once."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for r, (r_start, r_end) in enumerate(reference):
        offset_collar = max(COLLAR, 0.5 * (r_end - r_start))
        options = [
            (abs(d_start - r_start), d)
            for d, (d_start, d_end) in enumerate(detected)
            if d not in used
            and abs(d_start - r_start) <= COLLAR
            and abs(d_end - r_end) <= offset_collar
        ]
        if options:
            d = min(options)[1]
            used.add(d)
            pairs.append((r, d))
    return pairs


def event_scores(
    detected: list[tuple[float, float]], reference: list[tuple[float, float]]
) -> tuple[float, float, float]:
    """Event precision, recall and F1."""
    hits = len(match_events(detected, reference))
    precision = hits / len(detected) if detected else 1.0
    recall = hits / len(reference) if reference else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _highpass(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    sos = scipy.signal.butter(4, 80, "highpass", fs=sample_rate, output="sos")
    return scipy.signal.sosfiltfilt(sos, audio.astype(np.float64))


def reductions_db(fixture: Fixture, cleaned: np.ndarray) -> list[float]:
    """Per breath: how far its interior (10 % in from each end, at least 20 ms) came down, dB,
    after an 80 Hz high-pass. Same-length output only (attenuate or remove)."""
    spans = [(b.start, b.end) for b in fixture.breaths]
    return interior_reductions_db(fixture.audio, cleaned, fixture.sample_rate, spans)


def interior_reductions_db(
    audio: np.ndarray, cleaned: np.ndarray, rate: int, spans: list[tuple[float, float]]
) -> list[float]:
    """`reductions_db` for any labelled spans (seconds) of `audio`."""
    before, after = _highpass(audio, rate), _highpass(cleaned, rate)
    out = []
    for start, end in spans:
        inset = max(0.02, 0.1 * (end - start))
        a, b = round((start + inset) * rate), round((end - inset) * rate)
        energy_in = float(np.sum(before[a:b] ** 2))
        energy_out = float(np.sum(after[a:b] ** 2)) + 1e-20
        out.append(10 * np.log10(energy_in / energy_out))
    return out


def outside_snr_db(fixture: Fixture, cleaned: np.ndarray) -> float:
    """SNR of the output against the input everywhere outside the labelled breaths."""
    outside = ~fixture.breath_mask()
    signal = fixture.audio[outside].astype(np.float64)
    error = cleaned[outside].astype(np.float64) - signal
    noise = float(np.sum(error**2))
    return float("inf") if noise == 0 else 10 * np.log10(float(np.sum(signal**2)) / noise)


def click_db(
    original: np.ndarray,
    edited: np.ndarray,
    points: list[tuple[int, int]],
    sample_rate: int,
    window: float = 0.005,
) -> float:
    """The worst edit point: the peak second difference of the edited audio within `window` of
    each point, against the peak second difference of the original around the matching point(s)
    (dB; 0 or below means the edit added no step or click). `points` pairs (original sample,
    edited sample)."""
    half = round(window * sample_rate)
    d_orig = np.abs(np.diff(original.astype(np.float64), 2))
    d_edit = np.abs(np.diff(edited.astype(np.float64), 2))
    worst = -np.inf
    for p_orig, p_edit in points:
        reference = d_orig[max(0, p_orig - half) : p_orig + half].max(initial=1e-12)
        peak = d_edit[max(0, p_edit - half) : p_edit + half].max(initial=0.0)
        worst = max(worst, 20 * np.log10(max(peak, 1e-12) / max(reference, 1e-12)))
    return float(worst)


def edit_points(events: list, sample_rate: int, crossfade: float) -> list[tuple[int, int]]:
    """(input sample, output sample) at every edit: each event's ends and, in cut mode, both
    sides of the crossfade that joins a cut. `crossfade` is the cut crossfade in seconds."""
    points: list[tuple[int, int]] = []
    shift = 0
    for event in sorted(events, key=lambda e: e.start):
        s0, s1 = round(event.start * sample_rate), round(event.end * sample_rate)
        removed = round(event.removed * sample_rate)
        points.append((s0, s0 - shift))
        if event.cut_at is not None:
            c0 = round(event.cut_at * sample_rate)
            points.append((c0, c0 - shift))
            points.append(
                (
                    c0 + removed + round(crossfade * sample_rate),
                    c0 - shift + round(crossfade * sample_rate),
                )
            )
        shift += removed
        points.append((s1, s1 - shift))
    return points
