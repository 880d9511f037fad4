"""Find audible breaths and lower, replace or cut them without touching speech.

Detection works on 10 ms frames (docs/breaths.md has the facts behind each choice):

- features: level (80 Hz high-pass), spectral flatness over 300-8000 Hz, the 1-5 kHz vs
  80-1000 Hz energy ratio, zero-crossing rate as a frequency, and voicing (the normalized
  autocorrelation peak at pitch lags);
- a small neural network (studio/breath_model.py, trained on generated breaths of six
  independent families by benchmarks/breath_train.py) scores each frame from those features
  taken relative to the speech and the floor around it, and from its surroundings;
- frames it accepts that are unvoiced and within the settings' level bounds are candidates;
- sound in a pause (a stretch over the floor that holds no voice, parted from the words by
  floor) is judged as a whole, as an energy-gap detector would: it is a breath where the model
  half agrees (its frames are taken) or, whatever the model says, where it lasts 200 ms, stands
  8 dB over the floor and 15 dB under the speech, is noise through and through and lies 50 ms
  from any voice (all of it is taken). A valley far under the sound on both sides parts two
  breaths in one pause; "down at the floor" means near the floor's quietest 50 ms or its mean;
- candidates are joined into events across short dips (a long breath in two pulls), not
  across voice or a stretch of floor. Where an event touches speech, the touching side is
  trimmed past any louder voiced frame, back to the dip between the two sounds, plus one frame,
  so the fades never reach a word, and reaches back over frames the model doubted to that dip;
  a short flat stretch trailing off a word is its tail, and a click with a faint tail is not
  sustained: neither is a breath. Untouched sides reach out over the floor by two frames.
  Events last `min_duration` (`attached_min_duration` when touching speech, `edge_min_duration`
  before the first and after the last speech when asked: `clean_take`) to `max_duration`,
  stand `above_floor_db` over the floor and between `min_level_db` and `max_level_db` of the
  speech.

Editing is a pure function of the events, so audio can be processed in blocks whose boundaries
sit outside events with no seams: `attenuate` (default) brings each breath down to the local noise
floor, at least `reduction_db`, with raised-cosine fades inside the event; `remove` replaces it
with room tone shaped like the quietest gap; `cut` attenuates, then shortens the pause while
keeping at least `min_pause` of it. Outside events the audio is bit-identical (unless the optional
`floor_cleanup`, noisereduce's stationary gating, is turned on).

    cleaned = clean_breaths(audio, sample_rate, BreathSettings())
    audio, events = clean_take(take, sample_rate, settings)   # one synthesized take
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from studio.breath_model import BreathModel, default_model, feature_matrix

Mode = Literal["attenuate", "remove", "cut"]

HOP_SECONDS = 0.01
WINDOW_SECONDS = 0.02  # rounded up to a power of two: 23 ms at 22.05 and 44.1 kHz
VOICING_FMIN, VOICING_FMAX = 70.0, 400.0  # the pitch looked for, Hz
SILENCE_DBFS = -100.0  # frames below this are digital silence, never breath or room tone

_SPEECH_CONTEXT = 3.0  # seconds either side that set the local speech level
_WIDE_CONTEXT = 15.0  # ... and a wider look, 6 dB down, for breaths in long pauses
_FLOOR_CONTEXT = 5.0  # seconds either side in which the noise floor is the quietest 50 ms
_PEAK_ABOVE_MEAN_DB = 6.0  # breath frames may peak this far above the allowed mean level
_ONSET_RISE_DB = 6.0  # a touching edge louder than the event's median by this is a word onset
_VALLEY_SECONDS = 0.1  # where a breath touches speech, look this far in for the dip between them
_VALLEY_DB = 3.0  # ... at least this deep
_CLOSE_FRAMES = 3  # breath frames this close are one event
_BRIDGE_FRAMES = 15  # ... and runs this close, if what lies between is not floor or voice
_DIP_FRAMES = 3  # ... of which this many frames at most touch the floor
_BRIDGE_OVER_RUNS_DB = 6.0  # ... and none is this far over the louder run's median
_FLOOR_TOUCH_DB = 3.0  # a frame this close to the floor touches it
_FRAME_MARGIN_DB = 3.0  # see frame_margin_db
_TAIL_MAX_SECONDS = 0.25  # a flat stretch beside a word, shorter than this, is its tail
_TAIL_LOOK_FRAMES = 30  # ... looked for this far back through the sound before it
# A word's final fricative or aspirated release: right after the word, short, loud and bright
# (real breaths sit near -5 dB of 1-5 kHz against 80-1000 Hz; docs/breaths.md).
_BRIGHT_TAIL_SECONDS = 0.3
_BRIGHT_TAIL_BAND_DB = 10.0
_BRIGHT_TAIL_UNDER_SPEECH_DB = 30.0
_SUSTAIN_DB = 10.0  # frames within this of an event's loudest last its minimum duration
_SUSTAIN_LONG_SECONDS = 0.3  # ... from its 95th percentile, for an event this long
_SOUND_SHARE = 0.6  # of an event's frames stand out of the floor
_SURE_FRAMES = 3  # see _sure_start
_REACH_FRAMES = 2  # an event's untouched ends reach this far out over the floor
_PLATEAU_DB = 6.0  # a doubted frame this close under an event's median is more of the breath
_PLATEAU_DIP_DB = 12.0  # ... where a dip this far under the median parts it from the rest
_PLATEAU_FALL_FRAMES = 3  # ... reached by falling for at most this many frames
_PLATEAU_OVER_PEAK_DB = 9.0  # ... no louder than this over the event (a sigh is loudest first)
_PLATEAU_REACH_SECONDS = 0.4  # ... within this of the event
_ONSET_JUMP_DB = 6.0  # ... or, before a word, up to its onset: a frame this far over the one before
_DECAY_SECONDS = 0.3  # an untouched end reaches this far over a tail fading into the floor
_DECAY_RISE_DB = 1.0  # ... while it rises no more than this from frame to frame
_MURMUR_BAND_RATIO_DB = -10.0  # as dark as voiced speech (1-5 kHz vs 80-1000 Hz)...
_MURMUR_APERIODICITY = 0.6  # ... and periodic in part (median aperiodicity): the voice, no breath
_BETWEEN_SECONDS = 0.2  # a sound with speech on both sides shorter than this...
_BETWEEN_AFTER_FRAMES = 5  # ... followed, over this many frames, by sound
_BETWEEN_AFTER_OVER_FLOOR_DB = 8.0  # ... still this far over the floor
_BETWEEN_DROP_DB = 8.0  # ... but this far under the sound,
_BETWEEN_APERIODICITY = 0.7  # ... and less noisy than breath (median): a consonant
_ANCHOR_ABOVE_FLOOR_DB = 6.0  # voice that anchors speech stands this far over the floor
_PAUSE_SMOOTH_FRAMES = 5  # sound in a pause: the level over 50 ms...
_PAUSE_APERIODICITY = 0.3  # a breath in a pause is unvoiced: median aperiodicity over this
_RUMBLE_BAND_RATIO_DB = -25.0  # under this, 1-5 kHz vs 80-1000 Hz: a knock or rumble
_PAUSE_UNDER_SPEECH_DB = 10.0  # sound in a pause louder than this under the speech: a word
_PAUSE_AGREEMENT = 0.6  # ... a breath where the model's mean is this share of its threshold
_ISOLATED_SECONDS = 0.2  # ... or, whatever the model says, where it lasts this long,
_ISOLATED_OVER_FLOOR_DB = 8.0  # stands this far over the floor,
_ISOLATED_UNDER_SPEECH_DB = 15.0  # this far under the speech,
_ISOLATED_PARTED_SECONDS = 0.05  # this far from the voice on either side,
_ISOLATED_APERIODICITY = 0.5  # and is noise through and through (in 80 % of its frames)
_FLOOR_MEAN_SECONDS = 0.3
_FLOOR_MEAN_TOUCH_DB = 2.0  # a frame this close to the floor's mean is down at the floor
_VALLEY_UNDER_PEAKS_DB = 15.0  # a valley this far under the sound on both sides...
_VALLEY_FRAMES = 6  # ... for this long parts two sounds in a pause
_LOUD_BAND_RATIO_DB = 10.0  # ... one louder than that is darker than this,
_SURE_NOT = 0.1  # ... and its frames with a probability under this share of the threshold
_SURE_NOT_SHARE = 0.2  # ... are fewer than this share
_PARTED_BAND_RATIO_DB = 15.0  # ... and such a breath beside a word is darker than this,
_PARTED_SURE_NOT = 1 / 3  # ... with fewer of its frames than this share sure to be no breath,
_PARTED_AFTER_VOICE_SECONDS = 0.15  # ... and starting at least this long after any voice
_UNTRIMMED_AFTER_VOICE_SECONDS = 0.25  # an isolated breath this long after any voice is taken whole
_NO_VOICE = 1 << 30  # frames to the voice where there is none
_DIP_LOOK_FRAMES = 5  # a sharp dip is that far under the sound within this many frames
_TAIL_APERIODICITY = 0.35  # a word's tail is voiced: aperiodicity under this
_VOICED_APERIODICITY = 0.2  # ... and its vowels well under it
CROSSFADE_SECONDS = 0.01  # at each cut
_MAX_PAUSE_LOOK = 3.0  # seconds scanned either side of an event for the pause around it
_GAP_MIN_SECONDS = 0.2  # the quietest gap used as the noise clip lasts at least this...
_GAP_MAX_SECONDS = 2.0  # ... and at most this


class BreathSettings(BaseModel):
    """How breaths are found and what is done to them (per voice, or for `studio clean`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = Field(True, description="clean breaths at all (render)")
    mode: Mode = Field(
        "attenuate",
        description="attenuate: lower to the noise floor, timing kept; remove: replace with "
        "room tone; cut: lower, then shorten the pause",
    )
    min_duration: float = Field(0.08, ge=0.02, le=1.0, description="shortest breath, seconds")
    attached_min_duration: float = Field(
        0.08, ge=0.02, le=1.0, description="shortest breath that touches speech, seconds"
    )
    edge_min_duration: float = Field(
        0.06, ge=0.02, le=1.0, description="shortest breath at a take's edge, seconds"
    )
    max_duration: float = Field(2.0, ge=0.1, le=5.0, description="longest breath, seconds")
    max_level_db: float = Field(
        -5.0, ge=-40, le=0, description="a breath's mean level is at most this, dB re speech"
    )
    min_level_db: float = Field(
        -55.0, ge=-90, le=-10, description="quieter than this (dB re speech) is left alone"
    )
    above_floor_db: float = Field(
        5.0, ge=1, le=30, description="breaths stand at least this far above the noise floor"
    )
    min_flatness_db: float = Field(
        -40.0,
        ge=-40,
        le=0,
        description="spectral flatness (300-8000 Hz) of breath frames, lower bound",
    )
    min_band_ratio_db: float = Field(
        -40.0, ge=-40, le=20, description="1-5 kHz vs 80-1000 Hz energy, lower bound"
    )
    max_band_ratio_db: float = Field(
        40.0, ge=-20, le=40, description="upper bound: /s/ and /sh/ sit well above it"
    )
    min_zcr_hz: float = Field(
        0.0, ge=0, le=10000, description="zero-crossing rate (as a frequency) of breath frames"
    )
    max_zcr_hz: float = Field(20000.0, ge=100, le=20000, description="above this: sibilants")
    voicing_threshold: float = Field(
        0.1, ge=0.01, le=1.0, description="aperiodicity under this is voiced speech, never breath"
    )
    threshold: float = Field(
        0.5, ge=0.05, le=0.95, description="breath model probability a breath frame needs"
    )
    reduction_db: float = Field(20.0, ge=3, le=80, description="attenuate by at least this")
    max_reduction_db: float = Field(
        40.0, ge=3, le=120, description="... and at most this (a digitally silent floor)"
    )
    fade: float = Field(0.02, ge=0.001, le=0.2, description="fade length inside each event, s")
    min_pause: float = Field(0.15, ge=0.0, le=5.0, description="cut keeps this much pause, s")
    floor_cleanup: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="0: off; else noisereduce stationary gating of the whole signal with this "
        "prop_decrease (0.5 is gentle), noise clip from the quietest gap",
    )

    @model_validator(mode="after")
    def _ordered(self) -> BreathSettings:
        if self.max_duration <= max(self.min_duration, self.attached_min_duration):
            raise ValueError("max_duration must be longer than the minimum durations")
        if self.max_reduction_db < self.reduction_db:
            raise ValueError("max_reduction_db must be at least reduction_db")
        if self.min_band_ratio_db >= self.max_band_ratio_db:
            raise ValueError("min_band_ratio_db must be below max_band_ratio_db")
        if self.min_zcr_hz >= self.max_zcr_hz:
            raise ValueError("min_zcr_hz must be below max_zcr_hz")
        return self


@dataclass(frozen=True)
class BreathEvent:
    """One breath: where it is (seconds), how loud, and what was done to it."""

    start: float
    end: float
    level_db: float  # RMS over the event, dBFS
    relative_db: float  # level relative to the speech around it, dB
    floor_db: float  # local noise floor, dBFS
    reduction_db: float  # how far it is (or would be) brought down
    pause_start: float  # the pause that holds it: from the speech before...
    pause_end: float  # ... to the speech after
    at_edge: bool = False  # before the first or after the last speech of the audio
    action: str = "found"  # found | attenuated | removed | cut
    removed: float = 0.0  # seconds cut out (cut mode)...
    cut_at: float | None = None  # ... from here on, input timeline

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


@dataclass(frozen=True)
class BreathReport:
    mode: str
    sample_rate: int
    duration: float  # of the input, seconds
    events: tuple[BreathEvent, ...]

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def breath_seconds(self) -> float:
        return float(sum(e.duration for e in self.events))

    @property
    def removed_seconds(self) -> float:
        return float(sum(e.removed for e in self.events))

    @property
    def median_reduction_db(self) -> float:
        if not self.events:
            return 0.0
        return float(np.median([e.reduction_db for e in self.events]))

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "sample_rate": self.sample_rate,
            "duration": round(self.duration, 4),
            "totals": {
                "breaths": self.count,
                "breath_seconds": round(self.breath_seconds, 4),
                "removed_seconds": round(self.removed_seconds, 4),
                "median_reduction_db": round(self.median_reduction_db, 2),
            },
            "breaths": [e.to_json() for e in self.events],
        }

    def summary(self) -> str:
        if not self.events:
            return f"no breaths found in {self.duration:.1f} s ({self.mode})"
        text = (
            f"{self.count} breaths ({self.breath_seconds:.1f} s) in {self.duration:.1f} s, "
            f"{self.mode}, median {self.median_reduction_db:.0f} dB down"
        )
        if self.removed_seconds:
            text += f", {self.removed_seconds:.2f} s cut"
        return text


@dataclass(frozen=True, eq=False)
class Cleaned:
    audio: np.ndarray
    events: tuple[BreathEvent, ...]
    report: BreathReport


# --- features -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Features:
    """Per 10 ms frame: frame k covers samples [k*hop, (k+1)*hop) and is analysed around them."""

    sample_rate: int
    hop: int
    length: int  # samples
    level: np.ndarray  # dBFS, 80 Hz high-pass
    flatness: np.ndarray  # dB, 300-8000 Hz
    band_ratio: np.ndarray  # dB, 1-5 kHz vs 80-1000 Hz
    zcr_hz: np.ndarray  # zero-crossing rate as a frequency: crossings per second / 2
    aperiodicity: np.ndarray  # 1 - normalized autocorrelation peak; 1 in digital silence
    breathy: np.ndarray  # bool: passes the settings' loose spectral bounds on breath frames
    high_ratio: np.ndarray  # dB, 5-11 kHz (or to Nyquist) vs 1-5 kHz


def _power_of_two(seconds: float, sample_rate: int) -> int:
    return 1 << max(6, math.ceil(math.log2(seconds * sample_rate)))


class FeatureStream:
    """Frame features of a signal fed in blocks of any size: the result does not depend on
    them, so a long file is analysed in one pass with bounded memory."""

    def __init__(self, sample_rate: int, settings: BreathSettings) -> None:
        if sample_rate < 4000:
            raise ValueError(f"sample rate {sample_rate} Hz is too low to find breaths")
        self.sample_rate = sample_rate
        self.settings = settings
        self.hop = max(1, round(HOP_SECONDS * sample_rate))
        self.n_fft = _power_of_two(WINDOW_SECONDS, sample_rate)
        voicing_span = 256 * max(1, round(sample_rate / 5512.5)) + max(
            1, round(sample_rate / 5512.5)
        )
        self.context = max(self.n_fft, voicing_span) // 2 + self.hop
        # The buffer holds samples from `_start` on; the signal is zero before 0 and after the end.
        self._buffer = np.zeros(self.context, dtype=np.float32)
        self._start = -self.context
        self._length = 0
        self._next_frame = 0
        self._parts: list[tuple[np.ndarray, ...]] = []

        freqs = np.fft.rfftfreq(self.n_fft, d=1.0 / sample_rate)
        nyquist = sample_rate / 2

        def bins(low: float, high: float) -> slice:
            return slice(int(np.searchsorted(freqs, low)), int(np.searchsorted(freqs, high)))

        self._low_bins = bins(80, 1000)
        self._mid_bins = bins(1000, min(5000, nyquist))
        self._top_bins = slice(self._mid_bins.stop, bins(5000, min(11025, nyquist) + 1e-6).stop)
        self._flat_bins = bins(300, min(8000, 0.95 * nyquist) + 1e-6)
        # Periodic Hann, computed as scipy's get_window("hann", n_fft, fftbins=True) (librosa's
        # STFT window) does, so the spectra match librosa's bit for bit.
        self._window = (0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, self.n_fft + 1)))[:-1]
        self._power_scale = 2.0 / (self.n_fft * float(np.sum(self._window**2)))
        # Voicing at ~5.5 kHz over 256 samples (46 ms: two periods of 70 Hz and then some).
        self._voicing_step = max(1, round(sample_rate / 5512.5))
        voicing_rate = sample_rate / self._voicing_step
        self._voicing_width = 256
        self._voicing_window = np.hanning(self._voicing_width + 2)[1:-1].astype(np.float32)
        self._voicing_low = math.ceil(80 * 2 * self._voicing_width / voicing_rate)
        self._voicing_lags = (
            math.floor(voicing_rate / VOICING_FMAX),
            math.ceil(voicing_rate / VOICING_FMIN) + 1,
        )
        full = np.correlate(self._voicing_window, self._voicing_window, "full")
        self._voicing_window_ac = full[self._voicing_width - 1 :][slice(*self._voicing_lags)]
        self._voicing_window_ac = self._voicing_window_ac / full[self._voicing_width - 1]

    def feed(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._buffer = np.concatenate((self._buffer, samples))
        self._length += len(samples)
        self._analyse(final=False)

    def finish(self) -> Features:
        self._buffer = np.concatenate((self._buffer, np.zeros(self.context, dtype=np.float32)))
        self._analyse(final=True)
        columns = list(zip(*self._parts, strict=True)) if self._parts else [()] * 7
        level, flatness, ratio, zcr, aperiodicity, breathy, high_ratio = (
            np.concatenate(c) if c else np.zeros(0) for c in columns
        )
        return Features(
            self.sample_rate,
            self.hop,
            self._length,
            level,
            flatness,
            ratio,
            zcr,
            aperiodicity,
            breathy.astype(bool),
            high_ratio,
        )

    def _analyse(self, *, final: bool) -> None:
        hop, half = self.hop, self.n_fft // 2
        end = self._start + len(self._buffer)  # one past the last buffered sample
        total = -(-self._length // hop) if final else None
        # Frame k is centred on k*hop + hop//2 and needs `context` samples either side.
        last = (end - self.context - hop // 2) // hop  # last frame whose context is buffered
        stop = last + 1 if total is None else total
        first = self._next_frame
        if stop <= first:
            return
        centre = first * hop + hop // 2
        begin = centre - half - self._start
        count = stop - first
        piece = self._buffer[begin : begin + (count - 1) * hop + self.n_fft]
        self._parts.append(self._frame_features(piece, first, count))
        self._next_frame = stop
        drop = stop * hop + hop // 2 - self.context - self._start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._start += drop

    def _stft(self, piece: np.ndarray, count: int) -> np.ndarray:
        """`librosa.stft(piece, n_fft=n_fft, hop_length=hop, center=False)[:, :count]` in numpy:
        the same window, float64 products, complex64 result for float32 input and (bins, frames)
        layout. librosa is not used here: its first stft loads numba and JIT-compiles, a cost
        in start-up time and memory (benchmarks/README.md) for what is a framed rfft."""
        frames = np.lib.stride_tricks.sliding_window_view(piece, self.n_fft)[:: self.hop][:count]
        out = np.empty((len(frames), self.n_fft // 2 + 1), np.result_type(piece, np.complex64))
        block = max(1, (1 << 18) // self.n_fft)  # ~2 MB float64 temporaries at a time
        for begin in range(0, len(frames), block):
            out[begin : begin + block] = np.fft.rfft(frames[begin : begin + block] * self._window)
        return out.T

    def _aperiodicity(self, first: int, count: int, level: np.ndarray) -> np.ndarray:
        """1 - the peak of the normalized autocorrelation at pitch lags (1/400 to 1/70 s): ~0 for
        a voiced frame, near 1 for noise; 1 in digital silence.

        Judged at ~5.5 kHz (pitch and its first harmonics), on a 46 ms Hann window per frame
        divided by the window's own autocorrelation (Boersma's correction, as Praat does): one
        512-point FFT and its inverse per frame, several times cheaper than YIN."""
        step, width = self._voicing_step, self._voicing_width
        centres = (first + np.arange(count)) * self.hop + self.hop // 2
        begin = int(centres[0]) - width * step // 2 - self._start
        stop = int(centres[-1]) + width * step // 2 + step - self._start
        region = self._buffer[begin:stop]
        region = (
            region[: len(region) // step * step].reshape(-1, step).mean(axis=1, dtype=np.float32)
        )
        starts = (centres - centres[0]) // step
        frames = np.lib.stride_tricks.sliding_window_view(region, width)[starts]
        out = np.ones(count, dtype=np.float32)
        lo, hi = self._voicing_lags
        block = 4096
        for at in range(0, count, block):
            spectrum = np.fft.rfft(frames[at : at + block] * self._voicing_window, 2 * width)
            power = np.square(spectrum.real) + np.square(spectrum.imag)
            power[:, : self._voicing_low] = 0.0  # below 80 Hz: hum, not pitch
            correlation = np.fft.irfft(power, 2 * width)
            normalized = correlation[:, lo:hi] / np.maximum(correlation[:, :1], 1e-30)
            peak = (normalized / self._voicing_window_ac).max(axis=1)
            out[at : at + block] = 1.0 - np.clip(peak, 0.0, 1.0)
        out[level <= SILENCE_DBFS] = 1.0
        return out

    def _frame_features(self, piece: np.ndarray, first: int, count: int) -> tuple[np.ndarray, ...]:
        s = self.settings
        spectrum = self._stft(piece, count)
        power = np.square(spectrum.real)
        power += np.square(spectrum.imag)
        low = power[self._low_bins].sum(axis=0)
        high = power[self._mid_bins].sum(axis=0)
        top = power[self._top_bins].sum(axis=0)
        level = 10 * np.log10(power[self._low_bins.start :].sum(axis=0) * self._power_scale + 1e-12)
        ratio = 10 * np.log10((high + 1e-20) / (low + 1e-20))
        high_ratio = 10 * np.log10((top + 1e-20) / (high + 1e-20))
        # librosa.feature.spectral_flatness(S=..., power=1.0, amin=1e-20)[0]: geometric over
        # arithmetic mean of the power in 300-8000 Hz.
        flat_power = np.maximum(power[self._flat_bins], 1e-20)
        flat = np.exp(np.mean(np.log(flat_power), axis=0)) / np.mean(flat_power, axis=0)
        flatness = 10 * np.log10(flat + 1e-12)
        # Zero crossings per frame from a running count (librosa's frame-by-frame version is
        # several times slower on long signals and counts the same thing).
        signs = np.signbit(piece)
        crossings = np.zeros(len(piece), dtype=np.int32)
        np.cumsum(signs[1:] != signs[:-1], dtype=np.int32, out=crossings[1:])
        starts = np.arange(count) * self.hop
        zcr = (crossings[starts + self.n_fft - 1] - crossings[starts]) / self.n_fft
        zcr_hz = zcr * self.sample_rate / 2  # crossings per second / 2: a frequency
        breathy = (
            (level > SILENCE_DBFS)
            & (flatness >= s.min_flatness_db)
            & (ratio >= s.min_band_ratio_db)
            & (ratio <= s.max_band_ratio_db)
            & (zcr_hz >= s.min_zcr_hz)
            & (zcr_hz <= s.max_zcr_hz)
        )
        aperiodicity = self._aperiodicity(first, count, level)
        return (
            level.astype(np.float32),
            flatness.astype(np.float32),
            ratio.astype(np.float32),
            zcr_hz.astype(np.float32),
            aperiodicity,
            breathy,
            high_ratio.astype(np.float32),
        )


def frame_features(audio: np.ndarray, sample_rate: int, settings: BreathSettings) -> Features:
    stream = FeatureStream(sample_rate, settings)
    block = 1 << 20
    for start in range(0, len(audio), block):
        stream.feed(audio[start : start + block])
    return stream.finish()


# --- detection ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Context:
    speech_level: np.ndarray  # dBFS per frame
    floor: np.ndarray  # dBFS per frame
    speech: np.ndarray  # bool per frame
    candidate: np.ndarray  # bool per frame
    probability: np.ndarray  # the breath model's, per frame
    voiced: np.ndarray  # bool per frame: voiced sound over the floor (anchors speech)
    parted: np.ndarray  # bool per frame: a breath judged whole (beside a word, or far from voice)


def _smoothed_db(level: np.ndarray, frames: int) -> np.ndarray:
    # scipy.ndimage takes ~0.2 s to import: only code that analyses audio pays for it, not the
    # renders and configs that merely carry BreathSettings.
    from scipy import ndimage

    power = ndimage.uniform_filter1d(10 ** (level.astype(np.float64) / 10), frames)
    return 10 * np.log10(np.maximum(power, 1e-12))


def frame_margin_db(settings: BreathSettings) -> float:
    """How far over the floor a frame must be to be part of a breath: less than the event as a
    whole (`above_floor_db`), whose quieter frames dip into the floor's own scatter."""
    return max(1.0, settings.above_floor_db - _FRAME_MARGIN_DB)


def local_levels(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, dBFS: the level of the speech around (the loudest 100 ms within 3 s, or within
    15 s less 6 dB, for breaths in long pauses) and the noise floor (the quietest 50 ms within
    5 s)."""
    from scipy import ndimage  # imported where used: see _smoothed_db

    frames_per_second = features.sample_rate / features.hop
    level = features.level.astype(np.float64)

    def span(seconds: float) -> int:
        return 2 * round(seconds * frames_per_second) + 1

    smooth = _smoothed_db(level, max(1, round(0.1 * frames_per_second)))
    speech_level = np.maximum(
        ndimage.maximum_filter1d(smooth, span(_SPEECH_CONTEXT)),
        ndimage.maximum_filter1d(smooth, span(_WIDE_CONTEXT)) - 6.0,
    )
    short = _smoothed_db(level, max(1, round(0.05 * frames_per_second)))
    floor = ndimage.minimum_filter1d(short, span(_FLOOR_CONTEXT))
    floor = np.maximum(floor, speech_level - 90.0)
    return speech_level, floor


def model_inputs(features: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The breath model's input matrix, with the local speech level and floor it used."""
    speech_level, floor = local_levels(features)
    matrix = feature_matrix(
        features.level,
        features.flatness,
        features.band_ratio,
        features.high_ratio,
        features.zcr_hz,
        features.aperiodicity,
        speech_level,
        floor,
        features.sample_rate / features.hop,
    )
    return matrix, speech_level, floor


def breath_probability(features: Features) -> np.ndarray:
    """Per frame, the breath model's probability that the frame is breath."""
    if len(features.level) == 0:
        return np.zeros(0)
    return default_model().probability(model_inputs(features)[0])


def _context(
    features: Features, settings: BreathSettings, model: BreathModel | None = None
) -> _Context:
    from scipy import ndimage  # imported where used: see _smoothed_db

    s = settings
    level = features.level.astype(np.float64)
    matrix, speech_level, floor = model_inputs(features)
    probability = (model or default_model()).probability(matrix)
    level_ok_low = (level >= floor + frame_margin_db(s)) & (level >= speech_level + s.min_level_db)
    loud = level > speech_level + s.max_level_db + _PEAK_ABOVE_MEAN_DB
    level_ok = level_ok_low & ~loud
    voiced = features.aperiodicity < s.voicing_threshold
    candidate = (probability >= s.threshold) & features.breathy & ~voiced & level_ok
    # Join breath frames across short dips (per-frame features of noise scatter), but never
    # across a voiced frame or one the model is sure is not breath.
    bridgeable = (probability >= s.threshold / 2) & ~voiced & level_ok
    closed = ndimage.binary_closing(
        np.pad(candidate, _CLOSE_FRAMES), np.ones(_CLOSE_FRAMES + 1, dtype=bool)
    )[_CLOSE_FRAMES:-_CLOSE_FRAMES]
    candidate = candidate | (closed & bridgeable)
    # Voice for three frames running: what no breath has, even where noise looks periodic.
    anchors = ndimage.binary_opening(
        level_ok_low
        & (level >= floor + _ANCHOR_ABOVE_FLOOR_DB)
        & (features.aperiodicity < _VOICED_APERIODICITY),
        np.ones(3, dtype=bool),
    )
    # Sound in a pause: a stretch over the floor that holds no voice, with no word in it. The
    # model is trusted less there (a breath parted from the words by floor is what an energy-gap
    # detector finds, whatever its spectrum): a run is a breath where the model half agrees, or
    # where it is long, clearly over the floor, well under the speech and parted from the voice
    # on both sides, so a loud isolated breath of a kind never seen is not missed.
    per_second = features.sample_rate / features.hop
    smooth = _smoothed_db(level, _PAUSE_SMOOTH_FRAMES)
    # `floor` is the quietest 50 ms around; a fluctuating floor (brown noise, hum) spends most
    # of its time well over that, near its mean: the quietest 300 ms mean around.
    floor_mean = ndimage.minimum_filter1d(
        _smoothed_db(level, round(_FLOOR_MEAN_SECONDS * per_second)),
        2 * round(_FLOOR_CONTEXT * per_second) + 1,
    )
    down = np.maximum(floor + _FLOOR_TOUCH_DB, floor_mean + _FLOOR_MEAN_TOUCH_DB)
    at_floor = level < down
    sounding = (smooth >= down) & (level > SILENCE_DBFS)
    voice_at = np.flatnonzero(anchors)
    parted = np.zeros(len(level), dtype=bool)
    for run_start, run_stop in _runs(sounding):
        if anchors[run_start:run_stop].any():
            # Over a clean floor a breath that ends just before a word (or starts just after
            # one) shares its run of sound: judged apart where a sharp dip parts them, and only
            # as an isolated breath that is noise in nearly every frame, no brighter than a
            # breath and mostly not what the model is sure is no breath, since a word lies
            # beside it (its breathy tail is voiced in places; an /s/ parted from its vowel by
            # a /t/ is brighter; a final /t/ released after its closure, the model rejects),
            # and well after any voice: a breath drawn before a word, not a word's own tail of
            # fricatives and releases.
            # Pieces the model mostly took already are left to it.
            for a, b in _parted_pieces(level, run_start, run_stop):
                if (
                    not anchors[a:b].any()
                    and candidate[a:b].mean() < 0.5
                    and _dark_and_not_refused(
                        features,
                        probability,
                        (a, b),
                        s.threshold,
                        darker_than_db=_PARTED_BAND_RATIO_DB,
                        sure_not_share=_PARTED_SURE_NOT,
                    )
                    and _voice_around(voice_at, a, b)[0] >= _PARTED_AFTER_VOICE_SECONDS * per_second
                    and _pause_breath(
                        features, s, (a, b), speech_level, floor, probability, voice_at
                    )
                    == "isolated"
                ):
                    candidate[a:b] |= ~at_floor[a:b]
                    parted[a:b] = ~at_floor[a:b]
            continue
        # Two breaths in one pause stay two: where the level sinks far under the sound on both
        # sides for a while, that is floor (a fluctuating floor, brown noise or hum, sits well
        # over its own quietest moments).
        part = smooth[run_start:run_stop]
        valley = part < (
            np.minimum(np.maximum.accumulate(part), np.maximum.accumulate(part[::-1])[::-1])
            - _VALLEY_UNDER_PEAKS_DB
        )
        pieces = np.ones(run_stop - run_start, dtype=bool)
        for v0, v1 in _runs(valley):
            if v1 - v0 >= _VALLEY_FRAMES:
                at_floor[run_start + v0 : run_start + v1] = True
                candidate[run_start + v0 : run_start + v1] = False
                pieces[v0:v1] = False
        # ... and so do two sounds a sharp dip parts (a word's breathy tail that the voicing
        # missed, then a sigh), each judged on its own.
        for piece_start, piece_stop in _runs(pieces):
            for a, b in _parted_pieces(level, run_start + piece_start, run_start + piece_stop):
                found = _pause_breath(
                    features, s, (a, b), speech_level, floor, probability, voice_at
                )
                if found == "isolated":
                    candidate[a:b] |= ~at_floor[a:b]
                    # Whatever the model said: well after any voice there is no word's frame
                    # for its doubts to keep out, so the edges are not cut back to its sure
                    # frames (a lip smack's click, a breath's rise out of the floor).
                    since = _voice_around(voice_at, a, b)[0]
                    if since >= _UNTRIMMED_AFTER_VOICE_SECONDS * per_second:
                        parted[a:b] = ~at_floor[a:b]
                elif found == "agreed":  # only where the model half agrees: a word may be beside
                    agrees = probability[a:b] >= _PAUSE_AGREEMENT * s.threshold
                    candidate[a:b] |= ~at_floor[a:b] & agrees
    # A long breath dips between two pulls of air: join runs across such a dip, unvoiced and
    # touching the floor only briefly, but not across a stretch of floor (two breaths in one
    # pause) or voice, nor across what is louder than both runs (no dip: a word's fricative
    # between its murmur and a sigh).
    runs = _runs(candidate)
    for (left_start, end), (start, right_stop) in itertools.pairwise(runs):
        gap = slice(end, start)
        if (
            start - end > _BRIDGE_FRAMES
            or int(at_floor[gap].sum()) > _DIP_FRAMES
            or (voiced[gap] | loud[gap]).any()
        ):
            continue
        louder_run = max(
            float(np.median(level[left_start:end])), float(np.median(level[start:right_stop]))
        )
        if float(level[gap].max()) <= louder_run + _BRIDGE_OVER_RUNS_DB:
            candidate[gap] = True
    # Everything else that stands out of the floor is speech: even a word's faint tail keeps
    # the breath next to it "touching" speech, with the stricter rules that come with that.
    speech = ~candidate & level_ok_low
    return _Context(speech_level, floor, speech, candidate, probability, anchors, parted)


def _pause_breath(
    features: Features,
    s: BreathSettings,
    span: tuple[int, int],
    speech_level: np.ndarray,
    floor: np.ndarray,
    probability: np.ndarray,
    voice_at: np.ndarray,
) -> Literal["isolated", "agreed", ""]:
    """Whether sound in a pause, frames [a, b) with no voice in them, is a breath: "isolated"
    where it is clearly over the floor, well under the speech, noise through and through and
    parted from the voice on both sides, and either long, whatever the model says, or short
    (a catch breath) with the model half agreeing; "agreed" where the model only half agrees;
    "" where it is no breath."""
    a, b = span
    per_second = features.sample_rate / features.hop
    seconds = (b - a) / per_second
    level = features.level[a:b].astype(np.float64)
    mean_db = 10 * math.log10(max(float(np.mean(10 ** (level / 10))), 1e-30))
    under_speech = float(np.median(speech_level[a:b])) - mean_db
    over_floor = mean_db - float(np.median(floor[a:b]))
    aperiodicity = float(np.median(features.aperiodicity[a:b]))
    if (
        seconds > s.max_duration
        or under_speech < _PAUSE_UNDER_SPEECH_DB
        or under_speech > -s.min_level_db
        or over_floor < s.above_floor_db
        or bool(np.any(level > speech_level[a:b] + s.max_level_db + _PEAK_ABOVE_MEAN_DB))
        or aperiodicity < _PAUSE_APERIODICITY
        or float(np.median(features.band_ratio[a:b])) < _RUMBLE_BAND_RATIO_DB
    ):
        return ""
    since, until = _voice_around(voice_at, a, b)
    parted = min(since - 1, until)  # frames between the sound and the voice on either side
    agreed = float(np.mean(probability[a:b])) >= _PAUSE_AGREEMENT * s.threshold
    # A short one (a catch breath) also needs the model half agreeing, to be as dark as a loud
    # one (a word's last burst and /s/, parted from it by the closure, is short and loud too,
    # but bright), and to start well after the voice (not a word's breathy release).
    short_breath = (
        agreed
        and seconds >= s.min_duration
        and since >= _PARTED_AFTER_VOICE_SECONDS * per_second
        and _dark_and_not_refused(
            features,
            probability,
            span,
            s.threshold,
            darker_than_db=_LOUD_BAND_RATIO_DB,
            sure_not_share=_PARTED_SURE_NOT,
        )
    )
    # Louder than `_ISOLATED_UNDER_SPEECH_DB` under the speech, it must also be noise in nearly
    # every frame, dark (an /s/ parted from its vowel by the closure of "st", "sp" or "sk" is
    # long, unvoiced and loud too, but bright), and hardly anywhere what the model is sure is
    # no breath (a word's unvoiced stretch run into a breath).
    if (
        (seconds >= _ISOLATED_SECONDS or short_breath)
        and over_floor >= _ISOLATED_OVER_FLOOR_DB
        and float(np.percentile(features.aperiodicity[a:b], 20)) >= _ISOLATED_APERIODICITY
        and parted / per_second >= _ISOLATED_PARTED_SECONDS
        and (
            under_speech >= _ISOLATED_UNDER_SPEECH_DB
            or _dark_and_not_refused(
                features,
                probability,
                span,
                s.threshold,
                darker_than_db=_LOUD_BAND_RATIO_DB,
                sure_not_share=_SURE_NOT_SHARE,
            )
        )
    ):
        return "isolated"
    return "agreed" if agreed else ""


def _voice_around(voice_at: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """For frames [a, b): frames from the last voiced frame before `a` to `a`, and from `b` to
    the first voiced frame at or after `b` (`_NO_VOICE` where there is none)."""
    k = int(np.searchsorted(voice_at, a))
    since = a - int(voice_at[k - 1]) if k > 0 else _NO_VOICE
    k = int(np.searchsorted(voice_at, b))
    until = int(voice_at[k]) - b if k < len(voice_at) else _NO_VOICE
    return since, until


def _dark_and_not_refused(
    features: Features,
    probability: np.ndarray,
    span: tuple[int, int],
    threshold: float,
    *,
    darker_than_db: float,
    sure_not_share: float,
) -> bool:
    """Whether frames [a, b) are darker than `darker_than_db` of band ratio and fewer than
    `sure_not_share` of them what the model is sure is no breath. (That they are noise in nearly
    every frame, `_pause_breath` asks of every isolated breath.)"""
    a, b = span
    return bool(
        np.median(features.band_ratio[a:b]) < darker_than_db
        and np.mean(probability[a:b] < _SURE_NOT * threshold) < sure_not_share
    )


def _parted_pieces(level: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Frames [start, stop) cut at sharp dips: a frame `_VALLEY_UNDER_PEAKS_DB` under the
    loudest of the `_DIP_LOOK_FRAMES` frames on each side of it (noise scatters a few dB from
    frame to frame, never this far)."""
    from scipy import ndimage  # imported where used: see _smoothed_db

    part = level[start:stop].astype(np.float64)
    k = _DIP_LOOK_FRAMES
    padded = np.pad(part, k, constant_values=-np.inf)
    around = ndimage.maximum_filter1d(padded, k, origin=(k - 1) // 2)  # the k frames before
    before = around[k - 1 : k - 1 + len(part)]
    after = ndimage.maximum_filter1d(padded, k, origin=-(k // 2))[k + 1 : k + 1 + len(part)]
    dip = part < np.minimum(before, after) - _VALLEY_UNDER_PEAKS_DB
    return [(start + a, start + b) for a, b in _runs(~dip)]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _trim_touching(
    level: np.ndarray,
    smooth: np.ndarray,
    a: int,
    b: int,
    loudest: float,
    valley: int,
    speechlike: np.ndarray | None = None,
) -> int:
    """The new start of frames [a, b) whose start touches speech: the side where a breath meets
    a word ends past any frame louder than `loudest` (a word onset, or a speech tail louder than
    the breath; only `speechlike` frames, if given), then at the level valley between the two
    sounds if there is one within `valley` frames, then one frame more. May return b."""
    while a < b and level[a] > loudest and (speechlike is None or speechlike[a]):
        a += 1
    window = smooth[a : min(b, a + valley)]
    if window.size:
        k = int(np.argmin(window))
        # A dip between the two sounds: lower than where it starts and than what follows it
        # in the event (not the breath's own fade towards its far end).
        if (
            window[k] <= window[0] - _VALLEY_DB
            and smooth[a + k : b].max() >= window[k] + _VALLEY_DB
        ):
            a += k
    return min(a + 1, b)


def _reach_to_dip(
    level: np.ndarray, smooth: np.ndarray, voiced: np.ndarray, a: int, limit: int
) -> int:
    """The new start of an event at `a` whose start touches speech: back over frames without
    voice that fall towards the speech, to the dip between the two sounds (not past `limit`),
    and one frame after it; `a` itself where nothing falls."""
    start = a
    while start - 1 > limit and smooth[start - 1] < smooth[start] and not voiced[start - 1]:
        start -= 1
    if start == a:
        return a
    dip = start - 1 + int(np.argmin(level[start - 1 : a]))
    return min(a, dip + 1)


def _reach_over_plateau(
    level: np.ndarray,
    unvoiced: np.ndarray,
    a: int,
    limit: int,
    median: float,
    peak: float,
    *,
    onset: bool = False,
) -> int:
    """The new start of an event at `a` whose start touches what the model doubted: back over
    unvoiced frames that hold the event's own level (within `_PLATEAU_DB` under its median, no
    louder than its peak), when a deep dip (`_PLATEAU_DIP_DB` under the median, reached by a
    fall of at most `_PLATEAU_FALL_FRAMES`) parts them from what lies beyond, within `limit`;
    `a` itself otherwise. The model is unsure of a breath's first and last frames wherever they
    touch sound, and a short breath left with its ends on is barely quieter.

    With `onset` (the event's far side is no speech), a plateau that runs straight into a jump
    louder than the peak (`_ONSET_JUMP_DB` over the frame before it) is claimed too, but for its
    frame next to the jump: an inhalation ending on a word's onset has no dip before it, and
    the model doubts its last 30-40 ms, the word being in its view."""
    start = a
    while start - 1 > limit and unvoiced[start - 1] and median - _PLATEAU_DB <= level[start - 1]:
        if level[start - 1] > peak:
            if onset and start + 1 < a and level[start - 1] >= level[start] + _ONSET_JUMP_DB:
                return start + 1
            return a
        start -= 1
    frame, previous = start - 1, level[start]
    while frame > limit and frame >= start - _PLATEAU_FALL_FRAMES and level[frame] < previous:
        if level[frame] <= median - _PLATEAU_DIP_DB:
            return start  # a deep dip: what the plateau reached is the breath's
        previous, frame = level[frame], frame - 1
    return a  # a word, the limit, or a shallow dip came first: nothing is claimed


def _trails_off_louder(level: np.ndarray, speech: np.ndarray, a: int, loudest: float) -> bool:
    """Whether the speech frames that run up to frame `a` hold one louder than `loudest` by
    `_ONSET_RISE_DB` (a word, looked for back to `_TAIL_LOOK_FRAMES`)."""
    start = a
    while start > max(0, a - _TAIL_LOOK_FRAMES) and speech[start - 1]:
        start -= 1
    return start < a and float(np.max(level[start:a])) > loudest + _ONSET_RISE_DB


def _sure_start(probability: np.ndarray, a: int, b: int, threshold: float) -> int:
    """The first frame of [a, b) that begins `_SURE_FRAMES` frames at or over `threshold`."""
    sure = probability[a:b] >= threshold
    if len(sure) < _SURE_FRAMES:
        return a if sure.all() else b
    runs = np.lib.stride_tricks.sliding_window_view(sure, _SURE_FRAMES).all(axis=1)
    found = np.flatnonzero(runs)
    return a + int(found[0]) if found.size else b


def events_from_features(
    features: Features,
    settings: BreathSettings,
    *,
    edges: Literal["all", "only", "boost"] = "all",
    model: BreathModel | None = None,
) -> list[BreathEvent]:
    """Breath events from a whole signal's frame features.

    `edges`: "all" looks everywhere with the same thresholds; "only" looks only before the first
    and after the last speech (a take's edges), where `edge_min_duration` applies; "boost" looks
    everywhere and applies `edge_min_duration` at the edges. `model`: another breath model than
    the bundled one (the benchmark's leave-one-family-out models).
    """
    s = settings
    if len(features.level) == 0:
        return []
    ctx = _context(features, s, model)
    level = features.level.astype(np.float64)
    seconds_per_frame = features.hop / features.sample_rate
    speech_frames = np.flatnonzero(ctx.speech)
    voiced_frames = np.flatnonzero(ctx.voiced)  # a breath's faint ends are no speech
    first_speech = int(voiced_frames[0]) if voiced_frames.size else len(level)
    last_speech = int(voiced_frames[-1]) if voiced_frames.size else -1
    look = round(_MAX_PAUSE_LOOK / seconds_per_frame)
    valley = round(_VALLEY_SECONDS / seconds_per_frame)
    plateau_reach = round(_PLATEAU_REACH_SECONDS / seconds_per_frame)
    decay = round(_DECAY_SECONDS / seconds_per_frame)
    smooth = _smoothed_db(level, 3)
    shortest_of_all = min(s.min_duration, s.attached_min_duration, s.edge_min_duration)
    # A word's tail: voiced, or what the model doubts is breath (joined in across a dip).
    tail = (features.aperiodicity < _TAIL_APERIODICITY) | (ctx.probability < s.threshold)
    unvoiced = features.aperiodicity >= _PAUSE_APERIODICITY  # what a plateau may reach over
    margin = frame_margin_db(s)
    last_end = 0

    events: list[BreathEvent] = []
    for a, b in _runs(ctx.candidate):
        if (b - a) * seconds_per_frame < shortest_of_all - 1e-9:
            continue  # most runs: a stray frame or two inside words
        at_edge = b <= first_speech or a > last_speech
        if edges == "only" and not at_edge:
            continue
        left = a > 0 and bool(ctx.speech[max(0, a - 2) : a].any())
        right = b < len(level) and bool(ctx.speech[b : b + 2].any())
        median = float(np.median(level[a:b]))
        # A touching side ends where the sounds part: past any rise (a word onset or a speech
        # tail louder than the breath), then at the level valley between them if there is one
        # within `_VALLEY_SECONDS`, then one frame more.
        # After a word, only frames that look like its tail are trimmed: an exhalation is loudest
        # where it leaves the word and must not be cut back to its quiet end.
        # A touching side starts with the model sure for a few frames running: what it doubts
        # there was joined in across a dip and belongs to the word.
        # (Not a breath judged whole, apart from the word beside it by a sharp dip or well
        # after any voice: the model had no say in it.)
        if left and not ctx.parted[a]:
            a = _sure_start(ctx.probability, a, b, s.threshold)
        if right and not ctx.parted[b - 1]:
            n = len(level)
            b = n - _sure_start(ctx.probability[::-1], n - b, n - a, s.threshold)
        if b - a < 1:
            continue
        if left:
            loudest = median + _ONSET_RISE_DB
            a = _trim_touching(level, smooth, a, b, loudest, valley, tail)
        if right:  # the same, mirrored
            n = len(level)
            loudest = median + _ONSET_RISE_DB
            b = n - _trim_touching(level[::-1], smooth[::-1], n - b, n - a, loudest, valley)
        if b - a < 1:
            continue
        # ... and where the model was unsure of the breath's first frames next to the word, the
        # event reaches back over them to that dip (it starts the frame after it).
        if left:
            a = _reach_to_dip(level, smooth, ctx.voiced, a, max(last_end, a - valley))
        if right:
            n = len(level)
            b = n - _reach_to_dip(
                level[::-1],
                smooth[::-1],
                ctx.voiced[::-1],
                n - b,
                n - min(n, b + valley),
            )
        # ... and over a plateau of the breath's own level that the model doubted, to the dip
        # before the word.
        if left or right:
            core = level[a:b]
            median = float(np.median(core))
            peak = float(np.max(core)) + _PLATEAU_OVER_PEAK_DB
            if left:
                a = _reach_over_plateau(
                    level, unvoiced, a, max(last_end, a - plateau_reach), median, peak
                )
            if right:
                n = len(level)
                b_model = b
                b = n - _reach_over_plateau(
                    level[::-1],
                    unvoiced[::-1],
                    n - b,
                    n - min(n, b + plateau_reach),
                    median,
                    peak,
                    onset=not left,
                )
                # The frames before an onset only lengthen a breath: a sound too short without
                # them is a word's own (an aspirated onset, a release inside a word).
                too_short = (b_model - a) * seconds_per_frame < s.attached_min_duration - 1e-9
                if b > b_model and too_short:
                    continue
        # A breath after a word rises out of the dip between them; a short flat stretch that
        # only trails off a word is the word's own tail (a fricative or a release), left alone.
        # (A tail trails off something louder: sound that only rises out of the floor into the
        # event is the breath's own onset, the model unsure of it, not a word.)
        if (
            left
            and (b - a) * seconds_per_frame < _TAIL_MAX_SECONDS
            and float(np.max(smooth[a:b])) < float(np.min(smooth[max(0, a - 3) : a])) + _VALLEY_DB
            and _trails_off_louder(level, ctx.speech, a, float(np.max(smooth[a:b])))
        ):
            continue
        # The model is unsure in the first and last frames of a breath: reach out over them
        # where nothing but floor is next to the event.
        if not left:
            reach = a
            while reach > max(last_end, a - _REACH_FRAMES) and not ctx.speech[reach - 1]:
                reach -= 1
            a = reach
        if not right:
            reach = b
            while reach < min(len(level), b + _REACH_FRAMES) and not ctx.speech[reach]:
                reach += 1
            b = reach
        duration = (b - a) * seconds_per_frame
        # Sound most of the way through: clicks and knocks joined across the floor between them
        # are not a breath.
        if np.mean(level[a:b] >= ctx.floor[a:b] + margin) < _SOUND_SHARE:
            continue
        if at_edge and edges != "all":
            shortest = s.edge_min_duration
        elif left or right:
            shortest = s.attached_min_duration
        else:
            shortest = s.min_duration
        if duration < shortest - 1e-9 or duration > s.max_duration:
            continue
        # A breath is sustained: a click or knock with a faint tail has little of it near its
        # peak. A long event is measured from its 95th percentile instead, so that a click or a
        # word's release joined to its edge does not make a sigh look like a click's tail.
        peak = float(np.percentile(level[a:b], 95))
        top = peak if duration >= _SUSTAIN_LONG_SECONDS else float(np.max(level[a:b]))
        sustained = int(np.sum(level[a:b] >= top - _SUSTAIN_DB))
        if sustained * seconds_per_frame < shortest - 1e-9:
            continue
        power = 10 ** (level[a:b] / 10)
        event_level = 10 * math.log10(float(power.mean()))
        floor = float(np.median(ctx.floor[a:b]))
        relative = event_level - float(np.median(ctx.speech_level[a:b]))
        if (
            left
            and duration < _BRIGHT_TAIL_SECONDS
            and relative > -_BRIGHT_TAIL_UNDER_SPEECH_DB
            and float(np.median(features.band_ratio[a:b])) >= _BRIGHT_TAIL_BAND_DB
        ):
            continue
        # A breath is noise, and only a nose breath is dark, all of it aperiodic: a stretch as
        # dark as a vowel and periodic in part is the voice (a murmur the voicing test missed).
        if (
            float(np.median(features.band_ratio[a:b])) < _MURMUR_BAND_RATIO_DB
            and float(np.median(features.aperiodicity[a:b])) < _MURMUR_APERIODICITY
        ):
            continue
        # A short sound between two stretches of speech that drops into a quieter sound still
        # well over the floor (not the floor, not a louder onset), and is periodic in part, is a
        # consonant inside the phrase (the bundled voice's /ts/ and /s/ after a stop).
        if (
            left
            and right
            and duration < _BETWEEN_SECONDS
            and b + _BETWEEN_AFTER_FRAMES <= len(level)
        ):
            following = float(np.median(level[b : b + _BETWEEN_AFTER_FRAMES]))
            if (
                floor + _BETWEEN_AFTER_OVER_FLOOR_DB <= following <= event_level - _BETWEEN_DROP_DB
                and float(np.median(features.aperiodicity[a:b])) < _BETWEEN_APERIODICITY
            ):
                continue
        if (
            event_level < floor + s.above_floor_db
            or relative > s.max_level_db
            or relative < s.min_level_db
        ):
            continue
        # A breath that ends in a pause fades into the floor where the model no longer hears
        # it (a sigh trails off for 100-300 ms): the end reaches on over frames still above
        # the floor that do not rise again. Only now, so no test above counted them.
        if not right:
            fade_end = min(len(level), b + decay)
            while (
                b < fade_end
                and not ctx.speech[b]
                and level[b] >= ctx.floor[b] + margin
                and smooth[b] <= smooth[b - 1] + _DECAY_RISE_DB
            ):
                b += 1
        reduction = float(np.clip(peak - floor, s.reduction_db, s.max_reduction_db))
        before = speech_frames[speech_frames < a]
        after = speech_frames[speech_frames >= b]
        pause_start = max(int(before[-1]) + 1 if before.size else 0, a - look)
        pause_end = min(int(after[0]) if after.size else len(level), b + look)
        events.append(
            BreathEvent(
                start=a * features.hop / features.sample_rate,
                end=min(b * features.hop, features.length) / features.sample_rate,
                level_db=event_level,
                relative_db=relative,
                floor_db=floor,
                reduction_db=reduction,
                pause_start=pause_start * features.hop / features.sample_rate,
                pause_end=min(pause_end * features.hop, features.length) / features.sample_rate,
                at_edge=at_edge,
            )
        )
        last_end = b
    return events


def detect_breaths(
    audio: np.ndarray,
    sample_rate: int,
    settings: BreathSettings,
    *,
    model: BreathModel | None = None,
) -> list[BreathEvent]:
    """The breaths in mono (or, averaged to mid, multichannel `(frames, channels)`) audio."""
    features = frame_features(mid_signal(audio), sample_rate, settings)
    return events_from_features(features, settings, model=model)


# --- editing ------------------------------------------------------------------------------


def mid_signal(audio: np.ndarray) -> np.ndarray:
    """Mono float32 audio: the channels of (frames, channels) audio averaged."""
    audio = np.asarray(audio)
    if audio.ndim == 2:
        mid = audio[:, 0].astype(np.float32)  # a column at a time: far faster than .mean(axis=1)
        for channel in range(1, audio.shape[1]):
            mid += audio[:, channel]
        return mid / np.float32(audio.shape[1])
    if audio.ndim != 1:
        raise ValueError(f"expected mono or (frames, channels) audio, got shape {audio.shape}")
    return audio.astype(np.float32, copy=False)


def quietest_gap(features: Features, settings: BreathSettings) -> tuple[int, int] | None:
    """Samples [start, stop) of the quietest pause (no speech, no breath, not digital silence)
    lasting at least 200 ms: the noise clip for room tone and for noisereduce."""
    if len(features.level) == 0:
        return None
    ctx = _context(features, settings)
    quiet = ~ctx.speech & ~ctx.candidate & (features.level > SILENCE_DBFS)
    quiet &= features.level < ctx.speech_level - 20.0
    per_second = features.sample_rate / features.hop
    shortest, longest = round(_GAP_MIN_SECONDS * per_second), round(_GAP_MAX_SECONDS * per_second)
    best: tuple[float, int, int] | None = None
    for a, b in _runs(quiet):
        if b - a < shortest:
            continue
        a, b = a + 1, b - 1  # keep off the neighbours
        b = min(b, a + longest)
        loudness = float(np.mean(10 ** (features.level[a:b] / 10)))
        if best is None or loudness < best[0]:
            best = (loudness, a, b)
    if best is None:
        return None
    return best[1] * features.hop, min(best[2] * features.hop, features.length)


@dataclass(frozen=True, eq=False)
class RoomTone:
    """The quietest gap's spectrum, per channel: breaths in `remove` mode become noise like it."""

    magnitude: np.ndarray  # (bins, channels): mean |rfft| of n_fft frames, Hann-windowed
    rms: np.ndarray  # (channels,)
    n_fft: int

    @classmethod
    def from_clip(cls, clip: np.ndarray, n_fft: int = 1024) -> RoomTone:
        clip = np.asarray(clip, dtype=np.float64)
        if clip.ndim == 1:
            clip = clip[:, None]
        n_fft = min(n_fft, 1 << max(4, int(math.log2(max(len(clip), 16)))))
        window = np.hanning(n_fft)
        hop = n_fft // 2
        count = max(1, 1 + (len(clip) - n_fft) // hop)
        magnitude = np.zeros((n_fft // 2 + 1, clip.shape[1]))
        for i in range(count):
            frame = clip[i * hop : i * hop + n_fft]
            if len(frame) < n_fft:
                frame = np.pad(frame, ((0, n_fft - len(frame)), (0, 0)))
            magnitude += np.abs(np.fft.rfft(frame * window[:, None], axis=0)) ** 2
        magnitude = np.sqrt(magnitude / count)
        return cls(magnitude, np.sqrt(np.mean(clip**2, axis=0)), n_fft)

    @classmethod
    def silence(cls, channels: int) -> RoomTone:
        return cls(np.zeros((2, channels)), np.zeros(channels), 2)

    def noise(self, length: int, seed: int) -> np.ndarray:
        """`length` samples of this room tone, (length, channels), reproducible from `seed`."""
        channels = self.magnitude.shape[1]
        if length <= 0 or not np.any(self.rms > 0):
            return np.zeros((max(length, 0), channels), dtype=np.float32)
        rng = np.random.default_rng(seed)
        white = rng.standard_normal((length, channels))
        spectrum = np.fft.rfft(white, axis=0)
        source = np.linspace(0.0, 1.0, self.magnitude.shape[0])
        target = np.linspace(0.0, 1.0, spectrum.shape[0])
        shape = np.stack(
            [np.interp(target, source, self.magnitude[:, c]) for c in range(channels)], axis=1
        )
        tone = np.fft.irfft(spectrum * shape, length, axis=0)
        rms = np.sqrt(np.mean(tone**2, axis=0))
        tone *= np.where(rms > 0, self.rms / np.maximum(rms, 1e-30), 0.0)
        return tone.astype(np.float32)


def _fade(length: int) -> np.ndarray:
    """Raised-cosine ramp from 0 to 1 over `length` samples (exclusive of both ends)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)).astype(np.float64)


def apply_events(
    audio: np.ndarray,
    sample_rate: int,
    events: list[BreathEvent] | tuple[BreathEvent, ...],
    settings: BreathSettings,
    *,
    offset: int = 0,
    room_tone: RoomTone | None = None,
) -> tuple[np.ndarray, list[BreathEvent]]:
    """Edit `audio` (mono, or (frames, channels)) whose first sample is sample `offset` of the
    whole signal. Every event must lie inside it. Returns the edited audio (shorter in cut mode)
    and the events with their action. Samples outside events are returned untouched."""
    audio = np.asarray(audio)
    mono = audio.ndim == 1
    data = audio[:, None] if mono else audio
    out = data.astype(np.float32, copy=True)
    done: list[BreathEvent] = []
    cuts: list[tuple[int, int]] = []
    mode = settings.mode
    crossfade = round(CROSSFADE_SECONDS * sample_rate)
    keep = round(settings.min_pause * sample_rate)
    allowance: dict[tuple[float, float], int] = {}  # what each pause can still lose, samples
    for event in sorted(events, key=lambda e: e.start):
        s0 = round(event.start * sample_rate) - offset
        s1 = round(event.end * sample_rate) - offset
        if s0 < 0 or s1 > len(out):
            raise ValueError(f"event at {event.start:.3f} s lies outside this block")
        length = s1 - s0
        if length <= 2:
            continue
        # Short breaths get short fades, so most of the breath is brought all the way down.
        fade = max(1, min(round(settings.fade * sample_rate), length // 3))
        fade = max(fade, min(round(0.005 * sample_rate), length // 3))
        target = 0.0 if mode == "remove" else 10 ** (-event.reduction_db / 20)
        gain = np.full(length, target)
        ramp = _fade(fade)
        gain[:fade] = 1 - (1 - target) * ramp
        gain[length - fade :] = 1 - (1 - target) * ramp[::-1]
        out[s0:s1] *= gain[:, None].astype(np.float32)
        action, removed, reduction, cut_at = "attenuated", 0.0, event.reduction_db, None
        if mode == "remove":
            tone = (room_tone or RoomTone.silence(out.shape[1])).noise(length, seed=offset + s0)
            out[s0:s1] += (np.sqrt(np.maximum(0.0, 1 - gain**2))[:, None] * tone).astype(np.float32)
            action = "removed"
            reduction = max(0.0, event.level_db - event.floor_db)
        elif mode == "cut":
            pause = (event.pause_start, event.pause_end)
            left = allowance.setdefault(pause, round((pause[1] - pause[0]) * sample_rate) - keep)
            room = min(length - 2 * fade - crossfade, left)
            if room > 0:
                c0 = s0 + fade + (length - 2 * fade - crossfade - room) // 2
                cuts.append((c0, room))
                allowance[pause] = left - room
                action, removed, cut_at = "cut", room / sample_rate, (offset + c0) / sample_rate
        done.append(
            replace(event, action=action, removed=removed, reduction_db=reduction, cut_at=cut_at)
        )

    if cuts:
        out = _apply_cuts(out, cuts, crossfade)
    return (out[:, 0] if mono else out), done


def _apply_cuts(audio: np.ndarray, cuts: list[tuple[int, int]], crossfade: int) -> np.ndarray:
    """Remove `length` samples at each `(start, length)`, crossfading over `crossfade` samples:
    the audio just before the cut fades into the audio just after it."""
    pieces: list[np.ndarray] = []
    position = 0
    ramp = _fade(crossfade)[:, None].astype(np.float32) if crossfade else None
    for start, length in cuts:
        pieces.append(audio[position:start])
        if ramp is not None:
            before = audio[start : start + crossfade]
            after = audio[start + length : start + length + crossfade]
            pieces.append(before * (1 - ramp) + after * ramp)
        position = start + length + crossfade
    pieces.append(audio[position:])
    return np.concatenate(pieces)


def floor_cleanup(
    audio: np.ndarray, sample_rate: int, noise_clip: np.ndarray, amount: float
) -> np.ndarray:
    """noisereduce's stationary spectral gating with an explicit noise clip (mono or
    (frames, channels)), at `amount` prop_decrease: stationary gating with a clip from a pause
    leaves speech alone, where the non-stationary defaults cut it (benchmarks/README.md)."""
    import noisereduce

    audio = np.asarray(audio, dtype=np.float32)
    if amount <= 0 or len(noise_clip) < 64:
        return audio
    mono = audio.ndim == 1
    channels = audio[None, :] if mono else audio.T
    clip = np.asarray(noise_clip, dtype=np.float32)
    clip = clip[None, :] if clip.ndim == 1 else clip.T
    n_fft = min(1024, 1 << int(math.log2(clip.shape[1])))
    cleaned = np.stack(
        [
            noisereduce.reduce_noise(
                y=channel,
                sr=sample_rate,
                stationary=True,
                y_noise=clip[min(i, len(clip) - 1)],
                prop_decrease=amount,
                n_fft=n_fft,
                chunk_size=max(len(channel), 1),
                padding=0,
            )[: len(channel)]
            for i, channel in enumerate(channels)
        ]
    ).astype(np.float32)
    return cleaned[0] if mono else cleaned.T


def clean_breaths(
    audio: np.ndarray,
    sample_rate: int,
    settings: BreathSettings,
    *,
    edges_only: bool = False,
    model: BreathModel | None = None,
) -> Cleaned:
    """Find and treat the breaths in `audio` (mono, or (frames, channels): detection runs on
    the mid signal and the same edit applies to every channel). With `edges_only`, only the
    stretches before the first and after the last speech are looked at (a take's edges)."""
    edges: Literal["all", "only"] = "only" if edges_only else "all"
    return _treat_breaths(audio, sample_rate, settings, edges=edges, model=model)


def clean_take(
    audio: np.ndarray, sample_rate: int, settings: BreathSettings
) -> tuple[np.ndarray, list[BreathEvent]]:
    """Clean one synthesized take: breaths anywhere, with the more lenient edge minimum
    (`edge_min_duration`) before the first and after the last word, where TTS voices (XTTS after
    commas and full stops) put them. Call it before trimming the take's silence.

    A take without breaths comes back as the very same array (unless `floor_cleanup` is on).
    In attenuate and remove mode the length never changes and only samples inside the returned
    events differ; in cut mode the take gets shorter by the events' `removed`. With
    `settings.enabled` off, nothing is done.
    """
    if not settings.enabled:
        return audio, []
    cleaned = _treat_breaths(audio, sample_rate, settings, edges="boost")
    return cleaned.audio, list(cleaned.events)


def _treat_breaths(
    audio: np.ndarray,
    sample_rate: int,
    settings: BreathSettings,
    *,
    edges: Literal["all", "only", "boost"],
    model: BreathModel | None = None,
) -> Cleaned:
    audio = np.asarray(audio)
    mid = mid_signal(audio)
    features = frame_features(mid, sample_rate, settings)
    events = events_from_features(features, settings, edges=edges, model=model)
    gap = quietest_gap(features, settings)
    clip = audio[gap[0] : gap[1]] if gap else audio[:0]
    result = audio
    if settings.floor_cleanup > 0 and gap:
        result = floor_cleanup(audio, sample_rate, clip, settings.floor_cleanup)
    done: list[BreathEvent] = []
    if events:
        tone = RoomTone.from_clip(clip) if gap and settings.mode == "remove" else None
        result, done = apply_events(result, sample_rate, events, settings, room_tone=tone)
    report = BreathReport(settings.mode, sample_rate, len(mid) / sample_rate, tuple(done))
    return Cleaned(result, tuple(done), report)
