"""Breath cleaning, scored on a labelled fixture of real bundled-voice speech with synthetic
breaths at known places and fricative-heavy negative sentences (tests/breath_fixtures.py).
Its breaths come from a model of their own that the breath model was not trained on (that is
tests/breath_scenes.py's six families): for the detector they are a seventh, unseen family.

The held-out fixture (other sentences, another seed) is benchmarks/breath.py's; these tests use
seed 0 of the test sentences.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import soxr
from pydantic import ValidationError

from studio.breath import (
    CROSSFADE_SECONDS,
    BreathSettings,
    FeatureStream,
    clean_breaths,
    clean_take,
    detect_breaths,
    frame_features,
)
from studio.cleaning import clean_file
from studio.engines.bundled import BundledEngine
from studio.errors import StudioError
from tests.breath_fixtures import (
    Fixture,
    build_fixture,
    click_db,
    edit_points,
    event_scores,
    outside_snr_db,
    reductions_db,
    speech_bounds,
    synthetic_breath,
)
from tests.conftest import run_studio


@pytest.fixture(scope="module")
def engine(cache_dir: Path) -> BundledEngine:
    return BundledEngine(work_dir=cache_dir / "models")


@pytest.fixture(scope="module")
def fixture(engine: BundledEngine) -> Fixture:
    return build_fixture(engine, seed=0)


@pytest.fixture(scope="module")
def cleaned(fixture: Fixture) -> dict[str, object]:
    """The fixture cleaned in each mode, once."""
    return {
        mode: clean_breaths(fixture.audio, fixture.sample_rate, BreathSettings(mode=mode))
        for mode in ("attenuate", "remove", "cut")
    }


def spans(events) -> list[tuple[float, float]]:
    return [(e.start, e.end) for e in events]


def labels(fixture: Fixture) -> list[tuple[float, float]]:
    return [(b.start, b.end) for b in fixture.breaths]


# --- the fixture itself is realistic ----------------------------------------------------------


def test_fixture_breaths_look_like_measured_breaths() -> None:
    """Spectra as breaths.md measured them: centroid ~2.4 kHz, flatness (300-8000 Hz) ~-10 dB,
    1-5 kHz about 5 dB under 80-1000 Hz; and the stated lengths and levels."""
    rng = np.random.default_rng(7)
    rate = 22050
    rows = []
    for _ in range(30):
        seconds = rng.uniform(0.18, 0.7)
        breath = synthetic_breath(rng, seconds, rate, -40.0)
        assert len(breath) == round(seconds * rate)
        assert 20 * math.log10(np.sqrt(np.mean(breath.astype(np.float64) ** 2))) == pytest.approx(
            -40.0, abs=0.01
        )
        freqs, _, spec = scipy.signal.stft(breath, rate, nperseg=512, noverlap=512 - 220)
        power = np.abs(spec) ** 2 + 1e-20
        loud = 10 * np.log10(power.sum(axis=0))
        power = power[:, loud > loud.max() - 10]
        band = (freqs >= 300) & (freqs <= 8000)
        flatness = 10 * np.log10(
            np.exp(np.mean(np.log(power[band]), axis=0)) / np.mean(power[band], axis=0)
        )
        centroid = (power * freqs[:, None]).sum(axis=0) / power.sum(axis=0)
        high = power[(freqs >= 1000) & (freqs < 5000)].sum(axis=0)
        low = power[(freqs >= 80) & (freqs < 1000)].sum(axis=0)
        rows.append(
            (np.median(flatness), np.median(centroid), np.median(10 * np.log10(high / low)))
        )
    flatness, centroid, ratio = np.median(rows, axis=0)
    assert -13 < flatness < -6
    assert 1800 < centroid < 3000
    assert -8 < ratio < -1


def test_fixture_has_every_kind_of_case(fixture: Fixture) -> None:
    placements = {b.placement for b in fixture.breaths}
    assert placements == {"pause", "before_word", "after_word"}
    assert len(fixture.breaths) >= 8
    assert all(0.17 <= b.end - b.start <= 0.71 for b in fixture.breaths)
    assert all(-50 <= b.level_db <= -30 for b in fixture.breaths)
    assert len(fixture.fricative_spans) >= 3
    # Quiet pauses with no breath in them are negatives too.
    gaps = zip(fixture.speech_spans, fixture.speech_spans[1:], strict=False)
    empty = [g for g in gaps if not any(g[0][1] <= b.start < g[1][0] for b in fixture.breaths)]
    assert empty


# --- detection ----------------------------------------------------------------------------


def test_detection_finds_the_breaths_and_nothing_else(fixture: Fixture, cleaned) -> None:
    events = cleaned["attenuate"].events
    precision, recall, f1 = event_scores(spans(events), labels(fixture))
    assert f1 >= 0.9, (precision, recall)


def test_fricatives_next_to_voiced_speech_are_left_alone(fixture: Fixture, cleaned) -> None:
    """No event reaches into a fricative-heavy sentence, whose samples come out unchanged."""
    out = cleaned["attenuate"].audio
    rate = fixture.sample_rate
    for start, end in fixture.fricative_spans:
        for event in cleaned["attenuate"].events:
            assert event.end <= start + 0.01 or event.start >= end - 0.01, (event, start, end)
        a, b = round(start * rate), round(end * rate)
        assert np.array_equal(out[a:b], fixture.audio[a:b])


def test_every_raw_take_is_breath_free(fixture: Fixture) -> None:
    """The voice's own fricatives, /h/ onsets and word tails, take by take: nothing found, and
    clean_take hands back the very same array."""
    settings = BreathSettings()
    for text, take in fixture.takes.items():
        assert detect_breaths(take, fixture.sample_rate, settings) == [], text
        audio, events = clean_take(take, fixture.sample_rate, settings)
        assert audio is take and events == [], text


# --- attenuate ----------------------------------------------------------------------------


def test_attenuate_lowers_breaths_and_leaves_the_rest(fixture: Fixture, cleaned) -> None:
    out = cleaned["attenuate"].audio
    assert out.shape == fixture.audio.shape and out.dtype == np.float32
    reductions = reductions_db(fixture, out)
    assert np.median(reductions) >= 15, reductions
    assert min(reductions) >= 10, reductions
    assert outside_snr_db(fixture, out) >= 35


def test_attenuate_keeps_every_word_bit_exact(fixture: Fixture, cleaned) -> None:
    """Fades sit inside the breath: every take's speech, from its first word's onset to its last
    word's end (within 40 dB of its peak), comes out untouched, breaths right beside it or not."""
    out = cleaned["attenuate"].audio
    rate = fixture.sample_rate
    for start, end in fixture.speech_spans:
        a, b = round(start * rate), round(end * rate)
        assert np.array_equal(out[a:b], fixture.audio[a:b]), (start, end)


def test_events_carry_what_was_done(cleaned) -> None:
    events = cleaned["attenuate"].events
    assert all(e.action == "attenuated" for e in events)
    assert all(15 <= e.reduction_db <= 40 for e in events)
    assert all(e.floor_db < e.level_db < -25 for e in events)
    assert all(e.pause_start <= e.start < e.end <= e.pause_end for e in events)


@pytest.mark.parametrize("mode", ["attenuate", "remove", "cut"])
def test_no_clicks_at_edit_points(fixture: Fixture, cleaned, mode: str) -> None:
    result = cleaned[mode]
    points = edit_points(list(result.events), fixture.sample_rate, CROSSFADE_SECONDS)
    assert click_db(fixture.audio, result.audio, points, fixture.sample_rate) <= 1.0


# --- remove and cut -----------------------------------------------------------------------


def test_remove_fills_breaths_with_room_tone(fixture: Fixture, cleaned) -> None:
    out = cleaned["remove"].audio
    rate = fixture.sample_rate
    assert out.shape == fixture.audio.shape
    assert outside_snr_db(fixture, out) >= 35
    for event in cleaned["remove"].events:
        assert event.action == "removed"
        inset = 0.03
        a, b = round((event.start + inset) * rate), round((event.end - inset) * rate)
        level = 10 * np.log10(np.mean(out[a:b].astype(np.float64) ** 2))
        # Room tone: near the floor, neither the breath nor digital silence.
        assert abs(level - fixture.floor_db) < 4, (event, level, fixture.floor_db)


def test_cut_shortens_pauses_keeping_words_and_a_minimum_pause(fixture: Fixture, cleaned) -> None:
    result = cleaned["cut"]
    rate = fixture.sample_rate
    removed = [round(e.removed * rate) for e in result.events]
    assert sum(removed) > 0.5 * rate
    assert len(result.audio) == len(fixture.audio) - sum(removed)
    for event in result.events:
        assert event.pause_end - event.pause_start - event.removed >= 0.15 - 1e-6
    assert result.report.removed_seconds == pytest.approx(sum(removed) / rate, abs=1e-3)
    # Every take's speech is in the output, sample for sample, shifted by what was cut before it.
    cuts = sorted(
        (round(e.cut_at * rate), round(e.removed * rate)) for e in result.events if e.cut_at
    )
    for start, end in fixture.speech_spans:
        a, b = round(start * rate), round(end * rate)
        shift = sum(length for at, length in cuts if at < a)
        assert np.array_equal(result.audio[a - shift : b - shift], fixture.audio[a:b])


def test_floor_cleanup_lowers_the_floor_not_the_speech(fixture: Fixture) -> None:
    """noisereduce's stationary gating, clip from the quietest gap: speech within 0.5 dB."""
    out = clean_breaths(fixture.audio, fixture.sample_rate, BreathSettings(floor_cleanup=0.5)).audio
    rate = fixture.sample_rate
    speech = np.zeros(len(out), dtype=bool)
    for start, end in fixture.speech_spans:
        speech[round(start * rate) : round(end * rate)] = True
    pauses = ~speech & ~fixture.breath_mask(margin=0.05)

    def change_db(mask: np.ndarray) -> float:
        before = np.sum(fixture.audio[mask].astype(np.float64) ** 2)
        return 10 * math.log10(np.sum(out[mask].astype(np.float64) ** 2) / before)

    assert abs(change_db(speech)) < 0.5
    assert change_db(pauses) < -3


# --- takes --------------------------------------------------------------------------------


def test_clean_take_finds_breaths_at_a_takes_edges(fixture: Fixture) -> None:
    """A synthesized take with an inhalation before its first word and after its last."""
    rate = fixture.sample_rate
    take = next(iter(fixture.takes.values()))
    onset, offset = speech_bounds(take, rate)
    rng = np.random.default_rng(11)
    before = synthetic_breath(rng, 0.25, rate, -34.0)
    after = synthetic_breath(rng, 0.3, rate, -38.0)
    lead = len(before) + 2000
    audio = np.concatenate(
        (np.zeros(lead, np.float32), take, np.zeros(len(after) + 2000, np.float32))
    )
    audio[lead + onset - len(before) : lead + onset] += before
    audio[lead + offset : lead + offset + len(after)] += after

    out, events = clean_take(audio, rate, BreathSettings())
    assert len(out) == len(audio)
    assert [e.at_edge for e in events] == [True, True]
    speech = slice(lead + onset, lead + offset)
    assert np.array_equal(out[speech], audio[speech])
    for region in (slice(lead + onset - len(before), lead + onset), slice(lead + offset, None)):
        energy_in = np.sum(audio[region].astype(np.float64) ** 2)
        assert np.sum(out[region].astype(np.float64) ** 2) < energy_in / 10**1.5
    # Looking only at the edges finds the same two; switched off, nothing happens.
    assert len(clean_breaths(audio, rate, BreathSettings(), edges_only=True).events) == 2
    off, none = clean_take(audio, rate, BreathSettings(enabled=False))
    assert off is audio and none == []


# --- features without librosa --------------------------------------------------------------


def tone_and_noise(sample_rate: int, seconds: float) -> np.ndarray:
    """A 220 Hz tone that comes and goes over white noise, after a stretch of digital silence."""
    rng = np.random.default_rng(3)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    gate = np.sin(2 * np.pi * 0.7 * t) > 0
    audio = 0.3 * np.sin(2 * np.pi * 220 * t) * gate + 0.02 * rng.standard_normal(len(t))
    audio[: sample_rate // 4] = 0.0
    return audio.astype(np.float32)


@pytest.mark.parametrize("sample_rate", [22050, 44100])
def test_spectra_and_flatness_match_librosa(sample_rate: int) -> None:
    """The numpy STFT and spectral flatness (librosa's cost a numba JIT) are librosa's."""
    import librosa

    audio = tone_and_noise(sample_rate, 3.0)
    stream = FeatureStream(sample_rate, BreathSettings())
    n_fft, hop = stream.n_fft, stream.hop
    count = 1 + (len(audio) - n_fft) // hop
    ours = stream._stft(audio, count)
    theirs = librosa.stft(audio, n_fft=n_fft, hop_length=hop, center=False)
    assert ours.dtype == theirs.dtype == np.complex64 and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)

    # Frame k is centred on k*hop + hop//2, the signal zero outside: the same frames uncentred.
    frames = -(-len(audio) // hop)
    lead = np.zeros(n_fft // 2 - hop // 2, np.float32)
    padded = np.concatenate((lead, audio, np.zeros(n_fft, np.float32)))
    spectrum = librosa.stft(padded, n_fft=n_fft, hop_length=hop, center=False)[:, :frames]
    power = np.square(spectrum.real) + np.square(spectrum.imag)
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    band = np.flatnonzero((freqs >= 300) & (freqs < min(8000, 0.95 * sample_rate / 2) + 1e-6))
    # A slice, not a mask: float32 means depend on the memory layout, kept as librosa's.
    bins = slice(band[0], band[-1] + 1)
    flat = librosa.feature.spectral_flatness(S=power[bins], power=1.0, amin=1e-20)[0]
    expected = 10 * np.log10(flat + 1e-12)
    features = frame_features(audio, sample_rate, BreathSettings())
    assert len(features.flatness) == frames
    np.testing.assert_allclose(features.flatness, expected, rtol=1e-6, atol=1e-5)
    assert np.all(features.flatness[:10] == features.flatness[0])  # silence: all bins at amin


def test_cleaning_a_take_imports_neither_librosa_nor_numba() -> None:
    """librosa's first STFT imports numba and JIT-compiles (~2 s, ~200 MB in the render)."""
    audio = tone_and_noise(22050, 10.0)
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from studio.breath import BreathSettings, clean_take\n"
        "audio = np.frombuffer(sys.stdin.buffer.read(), np.float32)\n"
        "for mode in ('attenuate', 'remove', 'cut'):\n"
        "    clean_take(audio, 22050, BreathSettings(mode=mode))\n"
        "print(sorted({'numba', 'librosa'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        input=audio.tobytes(),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "[]"


def test_an_inhalation_reaches_over_its_doubted_frames_up_to_the_word_onset() -> None:
    from studio.breath import _reach_over_plateau

    # A word's onset at frame 4, then the breath's plateau; the model took it from frame 9 on.
    level = np.array([-20.0] * 4 + [-27.0] + [-47.0] * 15)
    unvoiced = np.ones(len(level), dtype=bool)
    reach = dict(a=9, limit=0, median=-47.0, peak=-44.0)
    assert _reach_over_plateau(level, unvoiced, **reach, onset=True) == 6  # all but frame 5
    assert _reach_over_plateau(level, unvoiced, **reach) == 9  # speech beyond: nothing claimed
    # A word's tail fading into the breath rises gently: no onset, nothing claimed.
    fading = level.copy()
    fading[4] = -42.0
    assert _reach_over_plateau(fading, unvoiced, **reach, onset=True) == 9


# --- settings and report ------------------------------------------------------------------


def test_settings_are_strict() -> None:
    assert BreathSettings.model_validate({"mode": "cut", "reduction_db": 20}).reduction_db == 20.0
    for bad in (
        {"mode": "delete"},
        {"reduction": 20},
        {"reduction_db": "20"},
        {"min_duration": 0.5, "max_duration": 0.3},
        {"reduction_db": 30, "max_reduction_db": 20},
    ):
        with pytest.raises(ValidationError):
            BreathSettings.model_validate(bad)


def test_report_is_json_with_totals(cleaned) -> None:
    report = cleaned["cut"].report
    data = json.loads(json.dumps(report.to_json()))
    assert data["mode"] == "cut" and data["totals"]["breaths"] == len(data["breaths"])
    first = data["breaths"][0]
    assert {"start", "end", "level_db", "action", "reduction_db", "removed"} <= set(first)
    assert "breaths" in report.summary() and "cut" in report.summary()


# --- files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [BreathSettings(), BreathSettings(mode="cut"), BreathSettings(floor_cleanup=0.5)],
    ids=["attenuate", "cut", "floor-cleanup"],
)
def test_long_files_are_cleaned_in_blocks_without_seams(
    tmp_path: Path, fixture: Fixture, settings: BreathSettings
) -> None:
    """3-second blocks give the same samples as the whole file at once."""
    source = tmp_path / "in.wav"
    sf.write(source, fixture.audio, fixture.sample_rate, subtype="FLOAT")
    blocks = clean_file(source, tmp_path / "blocks.wav", settings, block_seconds=3.0)
    whole = clean_file(source, tmp_path / "whole.wav", settings, block_seconds=600.0)
    a, b = sf.read(tmp_path / "blocks.wav", dtype="float32")[0], sf.read(tmp_path / "whole.wav")[0]
    assert len(a) == len(b)
    assert np.max(np.abs(a - b)) < 1e-6
    assert np.array_equal(a, clean_breaths(fixture.audio, fixture.sample_rate, settings).audio)
    assert spans(blocks.report.events) == spans(whole.report.events)


def test_stereo_mp3_in_flac_out_with_one_gain_curve(tmp_path: Path, fixture: Fixture) -> None:
    rate = 44100
    mono = soxr.resample(fixture.audio, fixture.sample_rate, rate)
    stereo = np.stack((mono, 0.5 * mono), axis=1).astype(np.float32)
    sf.write(tmp_path / "in.wav", stereo, rate, subtype="FLOAT")
    sf.write(tmp_path / "in.mp3", stereo, rate)

    result = clean_file(tmp_path / "in.mp3", tmp_path / "out.flac", report_path=tmp_path / "r.json")
    out, out_rate = sf.read(tmp_path / "out.flac", dtype="float32")
    assert out_rate == rate and out.shape[1] == 2
    assert event_scores(spans(result.report.events), labels(fixture))[2] >= 0.9
    assert json.loads((tmp_path / "r.json").read_text())["channels"] == 2

    result = clean_file(tmp_path / "in.wav", tmp_path / "out.wav")
    out = sf.read(tmp_path / "out.wav", dtype="float32")[0]
    assert out.shape == stereo.shape
    # The same gain on both channels: the right channel is still half the left.
    assert np.max(np.abs(out[:, 1] - 0.5 * out[:, 0])) < 1e-6
    assert event_scores(spans(result.report.events), labels(fixture))[2] >= 0.9


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.wav", None, "no such file"),
        ("empty.wav", b"", "empty"),
        ("noise.mp3", b"\x00\x01 definitely not audio" * 50, "can't read it as audio"),
        ("nothing.wav", "zero-frames", "no audio"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, name: str, content: bytes | str | None, fragment: str
) -> None:
    source = tmp_path / name
    if content == "zero-frames":
        sf.write(source, np.zeros(0, np.float32), 22050)
    elif content is not None:
        source.write_bytes(content)
    with pytest.raises(StudioError, match=fragment) as caught:
        clean_file(source, tmp_path / "out.wav")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out.wav").exists()


def test_cli_clean(tmp_path: Path, fixture: Fixture) -> None:
    source = tmp_path / "take.flac"
    sf.write(source, fixture.audio, fixture.sample_rate)
    result = run_studio(
        "clean", str(source), "-o", str(tmp_path / "out.wav"), "--mode", "cut",
        "--report", str(tmp_path / "breaths.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "breaths" in result.stdout and "cut" in result.stdout
    report = json.loads((tmp_path / "breaths.json").read_text())
    assert report["totals"]["breaths"] == len(fixture.breaths)
    assert sf.info(tmp_path / "out.wav").frames < len(fixture.audio)

    bad = run_studio("clean", str(tmp_path / "none.wav"), "-o", str(tmp_path / "x.wav"))
    assert bad.returncode != 0
    assert len(bad.stderr.strip().splitlines()) == 1 and "error:" in bad.stderr
    assert not (tmp_path / "x.wav").exists()
