"""Labelled breath scenes from several independent breath families, placements, levels, floors,
sample rates and voices: what the breath model is trained on (benchmarks/breath_train.py) and
scored on, one family left out at a time (benchmarks/breath.py).

Each family comes from its own model, not one model with jittered parameters:

- mouth: bright open-mouth inhalation, noise shaped in the frequency domain (1-6 kHz plateau);
- nose: dark nasal inhalation, white noise through a low-pass and a nasal resonance (IIR);
- smack: a lip smack (damped click) and then a whispered-vowel breath from an all-pole filter;
- catch: a short catch breath (100-200 ms) of band-passed pink noise, hard attack and release;
- recovery: a long recovery breath (0.8-1.5 s) whose spectrum glides as the mouth opens (STFT);
- sigh: an exhalation trailing a phrase, a whispered "hah" from formant resonators, decaying.

Placements: in the middle of a pause, ending 0-20 ms before a word's onset, starting right after
a word ends, at a comma inside a sentence, and two breaths in one pause. Levels 6-45 dB under
the speech and 3-30 dB over the floor; floors white, pink, brown or hum, -78 to -45 dBFS; 16,
22.05, 44.1 or 48 kHz. Speech and breaths are made at 22.05 kHz (band-limited alike, so no band
tells them apart) and the mix is resampled before the floor is added at the scene's own rate.
A fifth floor, "silent" (dither at -110 dBFS), stands for synthesized takes (`clean_take`).
Negatives: fricative, aspirated and unvoiced-ending sentences, low thumps and keyboard clicks.

    voice = bundled_voice(engine_dir, speed=1.0)          # or espeak_voice("en-us+m3")
    scene = build_scene(voice, "nose", seed=3, texts=TRAIN_TEXTS)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf
import soxr

from tests.breath_fixtures import SPEECH, speech_bounds

BASE_RATE = 22050
FAMILIES = ("mouth", "nose", "smack", "catch", "recovery", "sigh")
PLACEMENTS = ("pause", "before_word", "after_word", "comma", "double")
RATES = (16000, 22050, 44100, 48000)
FLOORS = ("white", "pink", "brown", "hum", "silent")
EXHALATIONS = {"sigh"}  # families that only trail a phrase

# Sentences with a comma can be split there (the comma placement); the two halves are spoken as
# separate takes and joined with a short pause, as a narrator who breathes at a comma would.
TRAIN_TEXTS = (
    *SPEECH,
    "When the train stopped, everyone looked up at once.",
    "My grandmother kept every letter, and she read them aloud at dinner.",
    "If the model is small, it can run on a laptop.",
)
EVAL_TEXTS = (
    "A good edit is the one nobody notices.",
    "After the second coffee, the draft finally started to move.",
    "Listeners drift when a sentence runs on without a rest.",
    "Our budget covered one microphone, two cables and a very old laptop.",
    "By morning the storm had passed, and the roads were open again.",
    "Write the way you talk, then cut the half you did not need.",
    "Every recording starts with a minute of quiet room.",
    "Harold asked whether anyone had heard the ending.",
    "Numbers are hard to follow by ear, so round them.",
    "We opened the window, and the traffic noise came in.",
    "I read the first chapter twice, before I understood it.",
    "Maybe the best narration is simply careful reading.",
)
# Negatives: fricatives (s, sh, f, th, h), aspirated onsets (p, t, k, h) and unvoiced endings.
TRAIN_NEGATIVES = (
    "She sells sixty fresh fish, so Sam's shop shuts for half of Friday.",
    "Fifty famous philosophers fought fiercely over five fine theses.",
    "His house has a huge hedge, and he hates how heavy it is.",
    "Peter packed plenty of paper for the trip to Paris.",
    "The cat sat on the mat and ate the last of the fish.",
    "Few of us feel safe when the fast ferry heaves through the surf.",
)
EVAL_NEGATIVES = (
    "Seven shy sailors fished off the shore of Shetland.",
    "Fresh sushi is served at six, so she hurries home.",
    "He has three thick files for half of the fiscal year.",
    "Keep the tapes in the top box, past the desk.",
    "Hot tea helps when the house is cold and the path is long.",
)


# --- voices -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Voice:
    name: str
    speak: Callable[[str], np.ndarray]  # text -> mono float32 at BASE_RATE


def _disk_cache() -> Path:
    root = os.environ.get("STUDIO_CACHE_DIR") or str(Path.home() / ".cache" / "studio")
    return Path(root) / "breath-takes"


def _cached(voice: str, text: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:24]
    path = _disk_cache() / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    audio = np.asarray(make(), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, audio)
    tmp.replace(path)
    return audio


def bundled_voice(work_dir: Path, speed: float = 1.0) -> Voice:
    """The project's own voice (22.05 kHz) at a `speed`."""
    from studio.engines.bundled import BundledEngine

    engine = BundledEngine(work_dir=work_dir, speed=speed)
    name = f"bundled-{speed:g}"
    return Voice(name, lambda text: _cached(name, text, lambda: engine.synthesize(text).audio))


def espeak_voice(variant: str, words_per_minute: int = 165) -> Voice:
    """A formant voice from Debian's espeak-ng (e.g. "en-us+m3", "en-us+f3"), at 22.05 kHz."""
    name = f"espeak-{variant}-{words_per_minute}"

    def make(text: str) -> np.ndarray:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "take.wav"
            subprocess.run(
                ["espeak-ng", "-v", variant, "-s", str(words_per_minute), "-w", str(path), text],
                check=True,
                capture_output=True,
            )
            audio, rate = sf.read(path, dtype="float32")
        return soxr.resample(audio, rate, BASE_RATE) if rate != BASE_RATE else audio

    return Voice(name, lambda text: _cached(name, text, lambda: make(text)))


# --- breath families ----------------------------------------------------------------------


def _shaped(rng: np.random.Generator, n: int, gain_db: Callable[[np.ndarray], np.ndarray]):
    freqs = np.fft.rfftfreq(n, 1 / BASE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n)) * 10 ** (gain_db(freqs) / 20)
    return np.fft.irfft(spectrum, n)


def _rise_fall(n: int, peak: float, power: float = 1.0) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    up = np.sin(0.5 * np.pi * np.minimum(t / peak, 1.0)) ** 2
    down = np.cos(0.5 * np.pi * np.clip((t - peak) / (1 - peak), 0.0, 1.0))
    return np.where(t < peak, up, down) ** power


def _wobble(rng: np.random.Generator, n: int, depth: float, cutoff: float) -> np.ndarray:
    sos = scipy.signal.butter(2, cutoff, fs=BASE_RATE, output="sos")
    slow = scipy.signal.sosfiltfilt(sos, rng.standard_normal(n))
    return np.clip(1 + depth * slow / (np.std(slow) + 1e-12), 0.0, None)


def mouth_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    low, high, tilt = rng.uniform(800, 1400), rng.uniform(5000, 10000), rng.uniform(-4, 3)

    def gain(f: np.ndarray) -> np.ndarray:
        octave = np.log2(np.maximum(f, 20.0) / 2500.0)
        plateau = tilt * octave
        plateau -= 18 * np.maximum(0, np.log2(low / np.maximum(f, 1.0)))
        plateau -= 24 * np.maximum(0, np.log2(np.maximum(f, 1.0) / high))
        return np.maximum(plateau, -60)

    envelope = _rise_fall(n, rng.uniform(0.3, 0.6)) * _wobble(rng, n, 0.3, 15)
    return _shaped(rng, n, gain) * envelope


def nose_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    white = rng.standard_normal(n + 2048)
    lowpass = scipy.signal.butter(
        int(rng.integers(2, 5)), rng.uniform(900, 2200), fs=BASE_RATE, output="sos"
    )
    dark = scipy.signal.sosfilt(lowpass, white)
    b, a = scipy.signal.iirpeak(rng.uniform(250, 500), rng.uniform(1.5, 4), fs=BASE_RATE)
    nasal = dark + rng.uniform(0.5, 1.5) * scipy.signal.lfilter(b, a, dark)
    hiss = scipy.signal.sosfilt(
        scipy.signal.butter(2, 3000, "highpass", fs=BASE_RATE, output="sos"), white
    )
    sound = (nasal + 10 ** (rng.uniform(-32, -20) / 20) * hiss * np.std(nasal) / np.std(hiss))[
        2048:
    ]
    envelope = np.hanning(n) ** rng.uniform(0.6, 1.5) * _wobble(rng, n, 0.15, 6)
    return sound * envelope


def _all_pole(rng: np.random.Generator, n: int, formants: list[tuple[float, float]]) -> np.ndarray:
    poles = []
    for freq, bandwidth in formants:
        radius = np.exp(-np.pi * bandwidth / BASE_RATE)
        angle = 2 * np.pi * freq / BASE_RATE
        poles += [radius * np.exp(1j * angle), radius * np.exp(-1j * angle)]
    a = np.real(np.poly(poles))
    source = np.diff(rng.standard_normal(n + 1025))  # a +6 dB/octave aspiration source
    return scipy.signal.lfilter([1.0], a, source)[1024:]


def smack_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    formants = [
        (rng.uniform(600, 900), rng.uniform(200, 400)),
        (rng.uniform(1400, 1900), rng.uniform(250, 450)),
        (rng.uniform(2500, 3200), rng.uniform(300, 500)),
    ]
    gap = round(rng.uniform(0.02, 0.06) * BASE_RATE)
    body = _all_pole(rng, n - gap, formants)
    body *= _rise_fall(n - gap, rng.uniform(0.3, 0.5)) * _wobble(rng, n - gap, 0.2, 10)
    body /= np.sqrt(np.mean(body**2)) + 1e-12
    click_n = round(rng.uniform(0.003, 0.008) * BASE_RATE)
    t = np.arange(click_n) / BASE_RATE
    click = np.sin(2 * np.pi * rng.uniform(1500, 3000) * t) * np.exp(-t / (click_n / BASE_RATE / 4))
    click *= 10 ** (rng.uniform(8, 15) / 20) * np.sqrt(2)
    out = np.zeros(n)
    out[:click_n] = click
    out[gap:] += body
    return out


def catch_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    pink = _shaped(rng, n, lambda f: -10 * np.log10(np.maximum(f, 20.0) / 1000))
    band = scipy.signal.butter(
        2, [rng.uniform(400, 800), rng.uniform(3500, 5000)], "bandpass", fs=BASE_RATE, output="sos"
    )
    sound = scipy.signal.sosfilt(band, pink)
    attack, release = round(rng.uniform(0.01, 0.025) * BASE_RATE), round(0.02 * BASE_RATE)
    envelope = np.ones(n)
    envelope[:attack] = np.linspace(0, 1, attack)
    envelope[n - release :] = np.linspace(1, 0, release)
    return sound * envelope


def recovery_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    frame, hop = 512, 128
    white = rng.standard_normal(n + frame)
    _, _, spec = scipy.signal.stft(white, BASE_RATE, nperseg=frame, noverlap=frame - hop)
    freqs = np.fft.rfftfreq(frame, 1 / BASE_RATE)
    steps = spec.shape[1]
    t = np.linspace(0, 1, steps)
    start_f, end_f = rng.uniform(400, 700), rng.uniform(1200, 2000)
    glide = start_f + (end_f - start_f) * t  # the first resonance rises as the mouth opens
    tilt = rng.uniform(-8, -3) + rng.uniform(2, 6) * t  # ... and the hiss brightens
    log_f = np.log2(np.maximum(freqs, 40.0))[:, None]
    gain_db = -10 * ((log_f - np.log2(glide)[None, :]) / 0.6) ** 2
    gain_db = np.maximum(gain_db, tilt[None, :] * (log_f - np.log2(1000)) - 12)
    gain_db[freqs < 120] -= 20
    _, shaped = scipy.signal.istft(
        spec * 10 ** (gain_db / 20), BASE_RATE, nperseg=frame, noverlap=frame - hop
    )
    sound = shaped[:n]
    # Two pulls of air, or one long one.
    if rng.random() < 0.5:
        split = rng.uniform(0.35, 0.6)
        k = round(split * n)
        envelope = np.concatenate(
            (_rise_fall(k, 0.5), 0.2 + 0.8 * _rise_fall(n - k, rng.uniform(0.3, 0.6)))
        )
    else:
        envelope = _rise_fall(n, rng.uniform(0.2, 0.7), power=0.7)
    return sound * envelope * _wobble(rng, n, 0.2, 8)


def sigh_breath(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * BASE_RATE)
    source = rng.standard_normal(n)
    out = np.zeros(n)
    for freq, bandwidth, level in (
        (rng.uniform(550, 800), 150.0, 0.0),
        (rng.uniform(1050, 1500), 200.0, rng.uniform(-8, -3)),
        (rng.uniform(2300, 2900), 300.0, rng.uniform(-14, -8)),
    ):
        b, a = scipy.signal.iirpeak(freq, freq / bandwidth, fs=BASE_RATE)
        out += 10 ** (level / 20) * scipy.signal.lfilter(b, a, source)
    out += 0.05 * source
    t = np.arange(n) / n
    attack = round(rng.uniform(0.02, 0.06) * BASE_RATE)
    envelope = np.exp(-t * rng.uniform(1.5, 3.5))
    envelope[:attack] *= np.linspace(0, 1, attack)
    envelope[-round(0.03 * BASE_RATE) :] *= np.linspace(1, 0, round(0.03 * BASE_RATE))
    return out * envelope


MAKERS = {
    "mouth": (mouth_breath, (0.25, 0.7)),
    "nose": (nose_breath, (0.25, 0.7)),
    "smack": (smack_breath, (0.25, 0.6)),
    "catch": (catch_breath, (0.1, 0.2)),
    "recovery": (recovery_breath, (0.8, 1.5)),
    "sigh": (sigh_breath, (0.3, 0.9)),
}


def make_breath(family: str, rng: np.random.Generator, level_db: float) -> np.ndarray:
    """One breath of `family` at RMS `level_db` dBFS, BASE_RATE, band-limited like speech."""
    maker, (shortest, longest) = MAKERS[family]
    breath = maker(rng, float(rng.uniform(shortest, longest)))
    breath -= np.linspace(breath[0], breath[-1], len(breath))  # start and end at zero
    rms = np.sqrt(np.mean(breath**2)) + 1e-20
    return (breath * 10 ** (level_db / 20) / rms).astype(np.float32)


# --- floors and noise negatives -----------------------------------------------------------


def make_floor(kind: str, rng: np.random.Generator, n: int, rate: int, level_db: float):
    freqs = np.fft.rfftfreq(n, 1 / rate)
    white = np.fft.rfft(rng.standard_normal(n))
    if kind == "white":
        noise = np.fft.irfft(white, n)
    elif kind == "pink":
        noise = np.fft.irfft(white / np.sqrt(np.maximum(freqs, 20.0)), n)
    elif kind == "silent":  # a synthesized take: digital silence but for dither
        return (rng.standard_normal(n) * 10 ** (-110 / 20)).astype(np.float32)
    elif kind == "brown":
        noise = np.fft.irfft(white / np.maximum(freqs, 20.0), n)
    else:  # mains hum with its harmonics over a little pink noise
        t = np.arange(n) / rate
        mains = 50.0 if rng.random() < 0.5 else 60.0
        noise = sum(
            0.6**k * np.sin(2 * np.pi * mains * (k + 1) * t + rng.uniform(0, 6.3)) for k in range(6)
        )
        pink = np.fft.irfft(white / np.sqrt(np.maximum(freqs, 20.0)), n)
        noise = noise / np.std(noise) + 0.3 * pink / np.std(pink)
    noise = noise * 10 ** (level_db / 20) / (np.sqrt(np.mean(noise**2)) + 1e-20)
    return noise.astype(np.float32)


def thump(rng: np.random.Generator, level_db: float) -> np.ndarray:
    """A low knock or chair creak: 40-120 ms of noise under 300 Hz."""
    n = round(rng.uniform(0.04, 0.12) * BASE_RATE)
    sos = scipy.signal.butter(4, rng.uniform(150, 300), fs=BASE_RATE, output="sos")
    sound = scipy.signal.sosfilt(sos, rng.standard_normal(n)) * np.exp(-np.arange(n) / (n / 3))
    return (sound * 10 ** (level_db / 20) / (np.sqrt(np.mean(sound**2)) + 1e-20)).astype(np.float32)


def clicks(rng: np.random.Generator, level_db: float) -> np.ndarray:
    """Typing: 3-8 damped clicks, a few ms each, 60-150 ms apart."""
    count = int(rng.integers(3, 9))
    gaps = rng.uniform(0.06, 0.15, count)
    out = np.zeros(round((gaps.sum() + 0.02) * BASE_RATE))
    at = 0.0
    for gap in gaps:
        k = round(rng.uniform(0.002, 0.006) * BASE_RATE)
        t = np.arange(k) / BASE_RATE
        click = np.sin(2 * np.pi * rng.uniform(2000, 6000) * t) * np.exp(-t * 1500)
        start = round(at * BASE_RATE)
        out[start : start + k] += click
        at += gap
    peak = 10 ** ((level_db + 12) / 20)
    return (out * peak / (np.max(np.abs(out)) + 1e-20)).astype(np.float32)


# --- scenes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    start: float
    end: float
    family: str
    placement: str
    below_speech_db: float  # how far under the active speech level
    above_floor_db: float  # how far over the floor (both RMS)


@dataclass(frozen=True, eq=False)
class Scene:
    audio: np.ndarray  # mono float32
    sample_rate: int
    labels: tuple[Label, ...]
    speech_spans: tuple[tuple[float, float], ...]  # every take's first onset to last offset
    negative_spans: tuple[tuple[float, float], ...]  # negative sentences, thumps and clicks
    texts: tuple[str, ...]  # what was said, in order (for ASR)
    floor_db: float
    floor_kind: str
    voice: str
    family: str

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def breath_mask(self, margin: float = 0.0) -> np.ndarray:
        mask = np.zeros(len(self.audio), dtype=bool)
        for label in self.labels:
            start = max(0, round((label.start - margin) * self.sample_rate))
            mask[start : round((label.end + margin) * self.sample_rate)] = True
        return mask


def active_level_db(take: np.ndarray) -> float:
    """RMS of the 10 ms frames within 30 dB of the loudest: the speech's level, dBFS."""
    frame = BASE_RATE // 100
    count = len(take) // frame
    power = np.mean(np.square(take[: count * frame].reshape(count, frame), dtype=np.float64), 1)
    loud = power[power >= power.max() * 1e-3]
    return float(10 * np.log10(loud.mean() + 1e-20))


def _trimmed(take: np.ndarray) -> np.ndarray:
    onset, offset = speech_bounds(take, BASE_RATE)
    pad = round(0.01 * BASE_RATE)
    return take[max(0, onset - pad) : offset + pad]


def build_scene(
    voice: Voice,
    family: str,
    *,
    seed: int,
    texts: tuple[str, ...] = TRAIN_TEXTS,
    negatives: tuple[str, ...] = TRAIN_NEGATIVES,
    sentences: int = 8,
    negative_sentences: int = 2,
    sample_rate: int | None = None,
    floor_kind: str | None = None,
    maker: Callable[[np.random.Generator, float], np.ndarray] | None = None,
) -> Scene:
    """A recording of `sentences` + `negative_sentences` takes by `voice` with breaths of one
    `family` in most pauses, each at its own placement and level. `maker(rng, level_db)` makes
    the breaths of a family that is not one of FAMILIES (tests/breath_outside.py)."""
    index = FAMILIES.index(family) if maker is None else 100 + sum(map(ord, family))
    rng = np.random.default_rng([seed, index])
    rate = sample_rate or int(rng.choice(RATES))
    floor_kind = floor_kind or str(rng.choice(FLOORS))
    floor_db = float(rng.uniform(-78, -45))  # for "silent", only how loud the breaths may be
    speech_db = float(rng.uniform(max(-26.0, floor_db + 20), -16.0))
    chosen = [texts[i] for i in rng.permutation(len(texts))[:sentences]]
    chosen += [negatives[i] for i in rng.permutation(len(negatives))[:negative_sentences]]
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]

    # Phrases: (text, is_negative, ends_at_comma).
    phrases: list[tuple[str, bool, bool]] = []
    for text in chosen:
        negative = text in negatives
        head, comma, tail = text.partition(", ")
        if comma and not negative and rng.random() < 0.6:
            phrases += [(head + ",", False, True), (tail, False, False)]
        else:
            phrases.append((text, negative, False))

    def breath_level() -> tuple[float, float, float]:
        low, high = max(floor_db + 3, speech_db - 45), min(floor_db + 30, speech_db - 6)
        level = float(rng.uniform(low, high))
        return level, speech_db - level, level - floor_db

    pieces: list[tuple[int, np.ndarray]] = []  # (sample, audio) to add at BASE_RATE
    labels: list[Label] = []
    speech_spans: list[tuple[float, float]] = []
    negative_spans: list[tuple[float, float]] = []
    cursor = round(rng.uniform(0.4, 0.8) * BASE_RATE)
    sample_placements = [p for p in PLACEMENTS if p != "comma"]
    for index, (text, negative, at_comma) in enumerate(phrases):
        take = _trimmed(voice.speak(text))
        take = take * 10 ** ((speech_db - active_level_db(take)) / 20)
        pieces.append((cursor, take.astype(np.float32)))
        span = (cursor / BASE_RATE, (cursor + len(take)) / BASE_RATE)
        speech_spans.append(span)
        if negative:
            negative_spans.append(span)
        cursor += len(take)
        last = index == len(phrases) - 1
        if at_comma:
            placement = "comma"
        elif family in EXHALATIONS:
            placement = "after_word"  # an exhalation trails the phrase
        else:
            placement = str(rng.choice(sample_placements))
        has_breath = at_comma or rng.random() < (0.6 if last else 0.8)
        if last and placement in ("before_word", "double", "comma"):
            placement = "after_word"
        if not has_breath:
            gap = round(rng.uniform(0.25, 0.9) * BASE_RATE)
            if rng.random() < 0.4:  # a noise that is not a breath, in an empty pause
                level = breath_level()[0] + rng.uniform(-3, 6)
                noise = thump(rng, level) if rng.random() < 0.5 else clicks(rng, level)
                gap = max(gap, len(noise) + round(0.2 * BASE_RATE))
                at = cursor + (gap - len(noise)) // 2
                pieces.append((at, noise))
                negative_spans.append((at / BASE_RATE, (at + len(noise)) / BASE_RATE))
            cursor += gap
            continue
        count = 2 if placement == "double" else 1
        breaths = []
        for _ in range(count):
            level, below, above = breath_level()
            breath = make_breath(family, rng, level) if maker is None else maker(rng, level)
            breaths.append((breath, below, above))
        lengths = [len(b[0]) for b in breaths]
        between = round(rng.uniform(0.08, 0.25) * BASE_RATE) if count == 2 else 0
        body = sum(lengths) + between
        if placement == "pause" or placement == "double":
            before, after = rng.uniform(0.08, 0.5), rng.uniform(0.08, 0.5)
        elif placement == "before_word":
            before, after = rng.uniform(0.1, 0.6), rng.uniform(0.0, 0.02)
        elif placement == "after_word":
            before, after = rng.uniform(0.0, 0.03), rng.uniform(0.15, 0.6)
        else:  # comma: a short pause, the breath fills most of it
            before, after = rng.uniform(0.02, 0.1), rng.uniform(0.0, 0.08)
        if last:
            after = max(after, 0.5)
        at = cursor + round(before * BASE_RATE)
        for (breath, below, above), length in zip(breaths, lengths, strict=True):
            pieces.append((at, breath))
            labels.append(
                Label(at / BASE_RATE, (at + length) / BASE_RATE, family, placement, below, above)
            )
            at += length + between
        cursor += round(before * BASE_RATE) + body + round(after * BASE_RATE)
    cursor += round(rng.uniform(0.3, 0.6) * BASE_RATE)

    mix = np.zeros(cursor, dtype=np.float64)
    for at, audio in pieces:
        mix[at : at + len(audio)] += audio
    if rate != BASE_RATE:
        mix = soxr.resample(mix, BASE_RATE, rate)
    mix = mix.astype(np.float32) + make_floor(floor_kind, rng, len(mix), rate, floor_db)
    return Scene(
        audio=mix.astype(np.float32),
        sample_rate=rate,
        labels=tuple(labels),
        speech_spans=tuple(speech_spans),
        negative_spans=tuple(negative_spans),
        texts=tuple(t for t, _, _ in phrases),
        floor_db=floor_db,
        floor_kind=floor_kind,
        voice=voice.name,
        family=family,
    )
