"""Trimming, the episode timeline, loudness and true-peak measurement, and the mastering limiter.

The audio is synthetic but speech-like: a gliding harmonic voice shaped into syllables, silence
around it, and a few hot plosive clicks that give it a synthesized voice's high crest factor.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soxr

from studio.errors import StudioError
from studio.master import (
    MAX_EXTRA_GAIN_DB,
    LoudnessMeter,
    MasteringPass,
    TimelineAnalysis,
    integrated_loudness,
    master,
    next_pass_gain,
    solve_gain,
    true_peak_dbtp,
)
from studio.timeline import CHAPTER_PREROLL, TimelineBuilder, assemble, trim_silence
from studio.types import Episode, Loudness, Script, ScriptChapter, Segment, Take
from tests.signals import speech_like


def measure(audio: np.ndarray, sample_rate: int) -> Loudness:
    """Integrated loudness (BS.1770-4, LUFS) and true peak (4x oversampled, dBTP).

    Silence measures -inf for both.
    """
    return Loudness(
        integrated_lufs=integrated_loudness(audio, sample_rate),
        true_peak_dbtp=true_peak_dbtp(audio, sample_rate),
    )


def reference_true_peak_dbtp(audio: np.ndarray) -> float:
    """Independent check: scipy's default 4x polyphase resampler, whole signal at once."""
    return 20 * math.log10(
        np.max(np.abs(scipy.signal.resample_poly(audio.astype(np.float64), 4, 1)))
    )


def three_chapter_script() -> tuple[Script, list[Take]]:
    chapters = (
        ScriptChapter("", (Segment("Hello there.", "Hello there.", 0.5),)),
        ScriptChapter(
            "Cost",
            (
                Segment("Cost.", "Cost", 0.6),
                Segment("Seven B costs fifteen dollars.", "7B costs $15.", 0.8),
            ),
        ),
        ScriptChapter("Empty", ()),
        ScriptChapter("Speed", (Segment("Speed.", "Speed", 0.4),)),
    )
    takes = [
        Take(speech_like(1.2, 22050, seed=1), 22050),
        Take(speech_like(0.6, 24000, seed=2, lead=0.05), 24000),
        Take(speech_like(2.0, 22050, seed=3), 22050),
        Take(speech_like(0.7, 44100, seed=4, trail=0.0), 44100),
    ]
    return Script("Small Machines", chapters), takes


# trim_silence


def offset_in(view: np.ndarray, base: np.ndarray) -> int:
    """Where the view `trim_silence` returned starts within the array it was cut from."""
    address = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return address // base.itemsize


def assert_trimmed_with_margin(trimmed: np.ndarray, audio: np.ndarray, rate: int) -> None:
    """Everything within 45 dB of the peak survives, with 20-40 ms of margin either side."""
    offset = offset_in(trimmed, audio)
    assert np.array_equal(trimmed, audio[offset : offset + len(trimmed)])
    loud = np.flatnonzero(np.abs(audio) > 10 ** (-45 / 20) * np.abs(audio).max())
    before = (loud[0] - offset) / rate
    after = (offset + len(trimmed) - 1 - loud[-1]) / rate
    assert 0.02 <= before <= 0.04
    assert 0.02 <= after <= 0.04


@pytest.mark.parametrize("rate", [22050, 24000])
def test_trim_removes_silence_but_keeps_a_margin_around_the_speech(rate: int) -> None:
    audio = speech_like(1.0, rate, lead=0.3, trail=0.4, clicks=0)
    trimmed = trim_silence(audio, rate, keep=0.02)
    assert len(trimmed) / rate == pytest.approx(1.0 + 0.04, abs=0.03)
    assert_trimmed_with_margin(trimmed, audio, rate)


def test_trim_keeps_a_soft_onset_and_drops_a_noise_floor_below_the_threshold() -> None:
    rate = 22050
    rng = np.random.default_rng(7)
    voice = speech_like(1.0, rate, lead=0.0, trail=0.0, clicks=0)
    fade = np.linspace(0, 1, round(0.1 * rate)) ** 2  # a 100 ms breathy fade-in
    voice[: len(fade)] *= fade
    floor = (1e-4 * rng.standard_normal(round(0.5 * rate))).astype(np.float32)  # -80 dB hiss
    audio = np.concatenate((floor, voice, floor))
    trimmed = trim_silence(audio, rate)
    assert len(trimmed) / rate <= 1.0 + 0.08
    assert_trimmed_with_margin(trimmed, audio, rate)


def test_trim_of_silence_is_empty_and_input_is_untouched() -> None:
    assert len(trim_silence(np.zeros(1000, dtype=np.float32), 22050)) == 0
    assert len(trim_silence(np.zeros(0, dtype=np.float32), 22050)) == 0
    audio = speech_like(0.5, 22050)
    before = audio.copy()
    trim_silence(audio, 22050)
    assert np.array_equal(audio, before)


# assemble


def test_assemble_places_each_take_with_its_exact_pause() -> None:
    script, takes = three_chapter_script()
    rate = 44100
    episode = assemble(script, takes, sample_rate=rate, lead_in=0.4, tail=1.0)

    assert episode.sample_rate == rate
    assert episode.audio.dtype == np.float32 and episode.audio.ndim == 1
    segments = script.segments
    placements = episode.placements
    assert [p.text for p in placements] == [s.text for s in segments]
    assert [p.source for p in placements] == [s.source for s in segments]

    def sample(seconds: float) -> int:
        exact = seconds * rate
        assert exact == pytest.approx(round(exact), abs=1e-6)  # placements fall on samples
        return round(exact)

    assert sample(placements[0].start) == round(0.4 * rate)
    for before, after, segment in zip(placements[:-1], placements[1:], segments[:-1], strict=True):
        assert sample(after.start) - sample(before.end) == round(segment.pause_after * rate)
    assert len(episode.audio) - sample(placements[-1].end) == rate  # the 1 s tail

    for placement, take in zip(placements, takes, strict=True):
        trimmed = trim_silence(take.audio, take.sample_rate)
        expected = soxr.resample(trimmed, take.sample_rate, rate, quality="HQ")
        placed = episode.audio[sample(placement.start) : sample(placement.end)]
        assert abs(len(placed) - len(expected)) <= 1
        n = min(len(placed), len(expected))
        assert np.allclose(placed[:n], expected[:n], atol=1e-6)

    # the pauses are digital silence
    speech = np.zeros(len(episode.audio), dtype=bool)
    for p in placements:
        speech[sample(p.start) : sample(p.end)] = True
    assert not episode.audio[~speech].any()


def test_chapter_marks_are_contiguous_and_land_in_the_pause_before_each_heading() -> None:
    script, takes = three_chapter_script()
    episode = assemble(script, takes)
    marks = episode.chapters

    assert [m.title for m in marks] == ["", "Cost", "Speed"]  # the empty chapter has no mark
    assert marks[0].start == 0
    for before, after in itertools.pairwise(marks):
        assert before.end == after.start
    assert marks[-1].end == episode.duration

    placements = episode.placements
    for mark, first, previous in [(marks[1], 1, 0), (marks[2], 3, 2)]:
        pause = placements[first].start - placements[previous].end
        lead = placements[first].start - mark.start
        assert lead == pytest.approx(min(CHAPTER_PREROLL, pause / 2), abs=1 / 44100)
        assert placements[previous].end <= mark.start < placements[first].start


def test_assemble_of_an_empty_script_is_lead_in_and_tail() -> None:
    episode = assemble(Script("Nothing", ()), [], lead_in=0.4, tail=1.0)
    assert len(episode.audio) == round(1.4 * 44100)
    assert episode.placements == () and episode.chapters == ()


def test_assemble_needs_one_take_per_segment() -> None:
    script, takes = three_chapter_script()
    with pytest.raises(ValueError, match="one take per segment"):
        assemble(script, takes[:-1])


# measure


@pytest.mark.parametrize("rate", [44100, 24000])
def test_integrated_loudness_matches_pyloudnorm(rate: int) -> None:
    audio = np.concatenate([speech_like(2.0, rate, seed=s, level=0.05 * (s + 1)) for s in range(3)])
    expected = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
    assert integrated_loudness(audio, rate) == pytest.approx(expected, abs=0.05)


def test_integrated_loudness_is_measured_across_block_boundaries() -> None:
    # 30 s at 44.1 kHz spans several of the streaming blocks
    rate = 44100
    audio = np.concatenate([speech_like(3.0, rate, seed=s, level=0.02 * (s + 1)) for s in range(8)])
    expected = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
    assert integrated_loudness(audio, rate) == pytest.approx(expected, abs=0.05)


def test_true_peak_finds_the_peak_between_samples() -> None:
    # a quarter-rate sine sampled 45 degrees off its crests: samples at 0.707, true peak 1.0
    rate = 44100
    n = np.arange(rate)
    fade = np.minimum(1, np.minimum(n, n[::-1]) / 2000)  # no ringing from an abrupt start
    audio = (0.5 * fade * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)
    sample_peak_db = 20 * math.log10(np.abs(audio).max())
    assert sample_peak_db == pytest.approx(-9.03, abs=0.01)
    assert true_peak_dbtp(audio, rate) == pytest.approx(-6.02, abs=0.1)


def test_true_peak_agrees_with_scipy_resample_poly() -> None:
    audio = np.concatenate([speech_like(3.0, 44100, seed=s) for s in range(4)])
    assert true_peak_dbtp(audio, 44100) == pytest.approx(reference_true_peak_dbtp(audio), abs=0.1)


def test_limiter_sees_every_peak_between_samples_across_block_seams() -> None:
    # the limiter's per-chunk true peaks, against the same filter run by resample_poly at once
    from studio.master import _CONTROL_INTERVAL, _TRUE_PEAK_FILTER

    audio = np.concatenate([speech_like(3.0, 44100, seed=s, lead=0.0) for s in range(5)])[:-7]
    oversampled = np.abs(scipy.signal.resample_poly(audio, 4, 1, window=_TRUE_PEAK_FILTER))
    oversampled = np.concatenate((oversampled, np.zeros(4 * _CONTROL_INTERVAL)))
    chunks = -(-len(audio) // _CONTROL_INTERVAL)
    span = 4 * _CONTROL_INTERVAL
    expected = [oversampled[span * c : span * (c + 1) + 1].max() for c in range(chunks)]
    analysis = TimelineAnalysis(44100)
    for piece in np.array_split(audio, 7):  # seams at places that are no multiple of a chunk
        analysis.feed(piece)
    analysis.close()
    # phase 0 differs from the samples themselves by the filter's 0.1 % DC normalisation
    assert np.allclose(analysis.peaks.window(0, chunks), expected, rtol=2e-3, atol=1e-6)


def test_measure_of_silence_is_minus_infinity() -> None:
    loudness = measure(np.zeros(44100, dtype=np.float32), 44100)
    assert loudness.integrated_lufs == -math.inf
    assert loudness.true_peak_dbtp == -math.inf


# master


@pytest.fixture(scope="module")
def hot_episode() -> Episode:
    """A minute of high-crest speech: gain alone to -16 LUFS would clip the clicks."""
    segments = tuple(Segment(f"s{i}", f"Sentence {i}.", 0.5) for i in range(12))
    takes = [Take(speech_like(4.0, 22050, seed=10 + i, clicks=4), 22050) for i in range(12)]
    return assemble(Script("Hot", (ScriptChapter("", segments),)), takes)


def test_master_reaches_target_loudness_under_the_true_peak_ceiling(hot_episode: Episode) -> None:
    source_lufs = pyloudnorm.Meter(44100).integrated_loudness(hot_episode.audio.astype(np.float64))
    gain_only_peak = reference_true_peak_dbtp(hot_episode.audio) + (-16 - source_lufs)
    assert gain_only_peak > 3  # the limiter has real work to do

    mastered = master(hot_episode)
    audio = mastered.audio.astype(np.float64)
    assert pyloudnorm.Meter(44100).integrated_loudness(audio) == pytest.approx(-16, abs=0.5)
    assert reference_true_peak_dbtp(mastered.audio) <= -1.0
    assert mastered.loudness is not None
    assert mastered.loudness.integrated_lufs == pytest.approx(-16, abs=0.3)
    assert mastered.loudness.true_peak_dbtp <= -1.4  # the encoder's 0.5 dB of headroom
    assert mastered.loudness == measure(mastered.audio, 44100)


def test_master_keeps_silence_timeline_and_input(hot_episode: Episode) -> None:
    before = hot_episode.audio.copy()
    mastered = master(hot_episode)
    assert np.array_equal(hot_episode.audio, before)
    assert mastered.audio.dtype == np.float32
    assert len(mastered.audio) == len(hot_episode.audio)
    assert mastered.placements == hot_episode.placements
    assert mastered.chapters == hot_episode.chapters
    silent = hot_episode.audio == 0
    assert silent.sum() > 44100  # the pauses
    assert not mastered.audio[silent].any()


def test_limiter_acts_only_around_peaks_and_ramps_smoothly(hot_episode: Episode) -> None:
    mastered = master(hot_episode)
    source, result = hot_episode.audio, mastered.audio
    audible = np.abs(source) > 1e-3
    gain_db = np.full(len(source), np.nan)
    gain_db[audible] = 20 * np.log10(np.abs(result[audible]) / np.abs(source[audible]))
    static_gain = np.nanmax(gain_db)

    # most of the speech gets the plain gain: no pumping between peaks
    assert np.nanmedian(gain_db) == pytest.approx(static_gain, abs=0.3)
    # the gain changes gradually (5 ms attack), never jumping from one sample to the next
    steps = np.abs(np.diff(gain_db))
    assert np.nanmax(steps) < 0.5
    # and a click is turned down before it arrives, not cut off when it does
    click = int(np.argmax(np.abs(source)))
    assert gain_db[click - 300] - gain_db[click] > 3


def test_master_follows_other_targets(hot_episode: Episode) -> None:
    mastered = master(hot_episode, target_lufs=-19.0, peak_dbtp=-3.0)
    assert mastered.loudness is not None
    assert mastered.loudness.integrated_lufs == pytest.approx(-19, abs=0.3)
    assert reference_true_peak_dbtp(mastered.audio) <= -3.0


def test_a_voice_too_peaky_for_the_target_is_not_pushed_past_the_gain_cap() -> None:
    # a pulse-train voice: every pitch period is a spike, so limiting cannot raise its loudness
    rate = 44100
    t = np.arange(3 * rate) / rate
    phase = 2 * np.pi * 120 * t
    voice = sum(np.cos(k * phase) / k for k in range(1, 30)) * np.sin(np.pi * 4 * t) ** 2
    hiss = 1e-4 * np.random.default_rng(0).standard_normal(rate)  # -80 dB in the pauses
    audio = np.concatenate((hiss, 0.5 * voice / np.abs(voice).max(), hiss)).astype(np.float32)
    plain_gain_db = -16 - integrated_loudness(audio, rate)

    mastered = master(Episode(audio, rate, (), ()))
    assert mastered.loudness is not None
    assert mastered.loudness.integrated_lufs < -17  # under target rather than flattened
    assert mastered.loudness.true_peak_dbtp <= -1.4
    hiss_gain_db = 20 * np.log10(np.abs(mastered.audio[:rate]).max() / np.abs(audio[:rate]).max())
    assert hiss_gain_db <= plain_gain_db + MAX_EXTRA_GAIN_DB + 0.01


def test_master_of_a_short_phrase() -> None:
    audio = speech_like(0.25, 44100, lead=0.02, trail=0.02, clicks=1)
    episode = Episode(audio, 44100, (), ())
    mastered = master(episode)
    assert mastered.loudness is not None
    assert mastered.loudness.integrated_lufs == pytest.approx(-16, abs=0.5)
    assert mastered.loudness.true_peak_dbtp <= -1.0


def test_master_refuses_a_silent_episode() -> None:
    with pytest.raises(StudioError, match="silent"):
        master(Episode(np.zeros(44100 * 2, dtype=np.float32), 44100, (), ()))


# streaming: the timeline analysed and mastered piece by piece, as a render does it


def pieces_of(audio: np.ndarray, seed: int) -> list[np.ndarray]:
    """`audio` cut at random places, some pieces shorter than the limiter's context."""
    rng = np.random.default_rng(seed)
    cuts = rng.integers(0, len(audio) - 10, 40)
    cuts = np.unique(np.concatenate((cuts, cuts[0] + np.arange(1, 6))))  # one-sample pieces too
    pieces = np.split(audio, cuts)
    assert sum(map(len, pieces)) == len(audio)
    return pieces


def stream(analysis_pieces: list[np.ndarray], pass_pieces: list[np.ndarray], gain_db: float):
    analysis = TimelineAnalysis(44100)
    for piece in analysis_pieces:
        analysis.feed(piece)
    analysis.close()
    mastering = MasteringPass(analysis, gain_db, -1.0)
    out = [block for piece in pass_pieces for block in mastering.feed(piece)]
    return np.concatenate(out + mastering.close()), mastering.loudness


def test_streamed_mastering_is_the_same_however_the_timeline_is_cut(hot_episode: Episode) -> None:
    audio = hot_episode.audio
    whole, whole_loudness = stream([audio], [audio], 14.0)
    cut, cut_loudness = stream(pieces_of(audio, 1), pieces_of(audio, 2), 14.0)
    assert len(whole) == len(audio)
    np.testing.assert_array_equal(cut, whole)
    assert cut_loudness == whole_loudness == measure(whole, 44100)
    assert whole_loudness.true_peak_dbtp <= -1.49  # the ceiling, 0.5 dB under -1 dBTP


def test_mastering_pass_holds_back_only_what_the_analysis_has_not_reached(
    hot_episode: Episode,
) -> None:
    audio = hot_episode.audio
    analysis = TimelineAnalysis(44100)
    mastering = MasteringPass(analysis, 14.0, -1.0)
    emitted = 0
    for piece in np.array_split(audio, 10):
        analysis.feed(piece)
        emitted += sum(len(block) for block in mastering.feed(piece))
        assert analysis.length - emitted < 1000  # the limiter's look-ahead and the filter's context
    with pytest.raises(ValueError, match="close the analysis"):
        mastering.close()
    analysis.close()
    emitted += sum(len(block) for block in mastering.close())
    assert emitted == len(audio)


def test_estimated_loudness_matches_the_measured_output(hot_episode: Episode) -> None:
    analysis = TimelineAnalysis(44100)
    analysis.feed(hot_episode.audio)
    analysis.close()
    gain_db = solve_gain(analysis)
    mastering = MasteringPass(analysis, gain_db, -1.0)
    mastering.feed(hot_episode.audio)
    mastering.close()
    estimate = analysis.estimated_lufs(gain_db, mastering.ceiling)
    assert estimate == pytest.approx(-16, abs=0.03)
    assert mastering.loudness.integrated_lufs == pytest.approx(estimate, abs=0.03)
    assert analysis.source_lufs() == pytest.approx(
        integrated_loudness(hot_episode.audio, 44100), abs=0.01
    )


def test_a_gain_chosen_from_a_misleading_first_half_is_corrected_by_a_second_pass() -> None:
    quiet = [Take(speech_like(4.0, 22050, seed=i, level=0.02), 22050) for i in range(6)]
    loud = [Take(speech_like(4.0, 22050, seed=10 + i, level=0.3), 22050) for i in range(6)]
    takes = quiet + loud
    segments = tuple(Segment(f"s{i}", f"S {i}.", 0.5) for i in range(12))
    script = Script("Uneven", (ScriptChapter("", segments),))
    layout = TimelineBuilder(script, sample_rate=44100)
    analysis = TimelineAnalysis(44100)
    for take in takes[:6]:
        for piece in layout.pieces(take):
            analysis.feed(piece)
    first_gain = solve_gain(analysis)  # from the quiet half only
    for take in takes[6:]:
        for piece in layout.pieces(take):
            analysis.feed(piece)
    analysis.close()
    audio = assemble(script, takes).audio

    first = MasteringPass(analysis, first_gain, -1.0)
    first.feed(audio)
    first.close()
    assert first.loudness.integrated_lufs > -16 + 3  # far too loud
    second_gain = next_pass_gain(analysis, first)
    assert second_gain is not None and second_gain < first_gain
    second = MasteringPass(analysis, second_gain, -1.0)
    second.feed(audio)
    second.close()
    assert second.loudness.integrated_lufs == pytest.approx(-16, abs=0.1)
    assert next_pass_gain(analysis, second) is None


def test_loudness_meter_is_the_same_however_the_signal_is_cut(hot_episode: Episode) -> None:
    meter = LoudnessMeter(44100)
    for piece in pieces_of(hot_episode.audio, 3):
        meter.feed(piece)
    assert meter.integrated_lufs() == pytest.approx(
        integrated_loudness(hot_episode.audio, 44100), abs=1e-9
    )


def test_chunked_storage_reads_windows_across_pieces_and_frees_what_it_drops() -> None:
    from studio.master import _Chunks

    store = _Chunks(np.float32)
    for start in range(0, 100, 7):
        store.append(np.arange(start, min(start + 7, 100), dtype=np.float32))
    assert len(store) == 100
    np.testing.assert_array_equal(store.window(-3, 2), [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(store.window(5, 16), np.arange(5, 16))
    np.testing.assert_array_equal(store.window(98, 102), [98, 99, 0, 0])
    store.drop_before(50)
    np.testing.assert_array_equal(store.window(49, 52), [49, 50, 51])
    with pytest.raises(ValueError, match="dropped"):
        store.window(10, 12)
    assert all(piece.base is None for piece in store._pieces)  # nothing kept alive by a view


def test_k_weighting_is_the_standards_at_48_khz() -> None:
    # ITU-R BS.1770-4, tables 1 and 2: the two K-weighting biquads at 48 kHz.
    from studio.master import _k_weighting_sections

    shelf = [1.53512485958697, -2.69169618940638, 1.19839281085285, 1, -1.69065929318241]
    shelf.append(0.73248077421585)
    high_pass = [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]
    sections = _k_weighting_sections(48000)
    assert sections[0] == pytest.approx(shelf, abs=1e-12)
    assert sections[1] == pytest.approx(high_pass, abs=1e-12)
