# ruff: noqa: RUF001 - IPA symbols look like ASCII letters; they are exactly what these tests mean.
"""The check's pure parts: normalizing spoken and heard words the same way, aligning them,
scoring, pronunciations for the recognizer, and the signal measures behind the other flags."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from studio.check.calibration import MAX_BAR, MIN_BAR, bar_from_scores
from studio.check.phones import ipa_to_arpabet, pronunciations
from studio.check.signals import clipped_runs, level_outliers, measure, picture
from studio.check.words import align, missed_and_extra, tokens, word_score
from studio.errors import StudioError


def words(text: str, **kwargs: bool) -> list[str]:
    return [t.text or "*" for t in tokens(text, **kwargs)]


def test_spelled_acronyms_are_one_word_however_they_are_written() -> None:
    spoken = words("The A-P-I from the F-B-I, per NASA.")
    assert spoken == ["the", "api", "from", "the", "fbi", "per", "nasa"]
    assert words("the a p i from the f b i per NASA") == spoken  # a recognizer's letters
    assert words("The API from the FBI, per N.A.S.A.") == spoken


def test_digits_a_recognizer_writes_read_as_the_script_reads_them() -> None:
    script = words("In twenty twenty-four it cost five dollars.")
    assert words("In 2024 it cost $5.", digits_to_words=True) == script
    assert words("In 2024 it cost $5.") != script  # only heard text is read this way


def test_an_ipa_block_is_a_wildcard_that_takes_any_one_word() -> None:
    said = tokens("we run [[ɡæn]] models")
    assert said[2].wildcard and said[2].ipa == "ɡæn"
    pairs = align(said, ["we", "run", "gan", "models"])
    assert [p.op for p in pairs] == ["ok"] * 4 and word_score(pairs) == 1.0
    assert word_score(align(said, ["we", "run", "models"])) == 1.0


def test_alignment_marks_missed_wrong_and_extra_words() -> None:
    said = tokens("the price of a sentence")
    pairs = align(said, ["the", "prize", "of", "sentence", "now"])
    assert [(p.op, p.said, p.heard) for p in pairs] == [
        ("ok", "the", "the"),
        ("sub", "price", "prize"),
        ("ok", "of", "of"),
        ("del", "a", ""),
        ("ok", "sentence", "sentence"),
        ("ins", "", "now"),
    ]
    assert missed_and_extra(pairs) == (2, 1)
    assert word_score(pairs) == pytest.approx(3 / 6)


def test_score_weighs_each_heard_word_by_the_recognizers_confidence() -> None:
    said = tokens("one two three four")
    sure = align(said, ["one", "two", "three", "four"], [1.0] * 4)
    forced = align(said, ["one", "two", "three", "four"], [0.2] * 4)
    assert word_score(sure) == 1.0
    assert word_score(forced) == pytest.approx(0.2)
    assert word_score(align(said, [])) == 0.0
    assert word_score(align(tokens(""), [])) == 1.0


def test_ipa_maps_to_cmudict_phones() -> None:
    assert ipa_to_arpabet("kˈuːbɚnˌɛtiːz") == "K UW B ER N EH T IY Z"
    assert ipa_to_arpabet("dʒˈiːpˈiːtˈiː") == "JH IY P IY T IY"
    assert ipa_to_arpabet("ˈaɪ ˈæm") == "AY AE M"


def test_pronunciations_from_cmudict_letters_or_espeak() -> None:
    assert pronunciations("price") == ["P R AY S"]
    assert pronunciations("api", letters=True) == ["EY P IY AY"]
    made_up = pronunciations("zorblex")  # not in CMUdict: espeak-ng's reading
    assert made_up and made_up[0].startswith("Z AO R")
    assert pronunciations("", ipa="ɡæn") == ["G AE N"]


def test_bar_is_set_below_good_scores_and_within_bounds() -> None:
    assert bar_from_scores([0.95, 0.9, 0.97, 0.92]) == MAX_BAR
    weak = bar_from_scores([0.7, 0.6, 0.75, 0.65, 0.7])
    assert MIN_BAR <= weak < 0.6
    assert bar_from_scores([0.1, 0.5, 0.05]) == MIN_BAR


RATE = 16000


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_measure_finds_the_sounding_span_and_the_longest_gap_inside() -> None:
    quiet = np.zeros(int(0.3 * RATE), dtype=np.float32)
    audio = np.concatenate([quiet, tone(1.0), np.zeros(int(1.2 * RATE), np.float32), tone(0.5)])
    signal = measure(audio, RATE)
    assert signal.seconds == pytest.approx(2.7, abs=0.05)
    assert signal.longest_gap == pytest.approx(1.2, abs=0.05)
    assert signal.level_db == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.5)
    assert signal.clipped_runs == 0
    assert measure(np.zeros(RATE, np.float32), RATE).seconds == 0.0


def test_clipping_is_runs_of_full_scale_samples_not_single_peaks() -> None:
    audio = tone(0.5, level=0.9)
    assert clipped_runs(audio) == 0
    loud = np.clip(tone(0.5, level=2.0), -1.0, 1.0)
    assert clipped_runs(loud) >= 100  # every half cycle flattened
    single = audio.copy()
    single[100] = 1.0
    assert clipped_runs(single) == 0


def test_level_outliers_against_the_neighbours() -> None:
    levels = [-20.0, -21.0, -19.5, -30.0, -20.5, -20.0, -8.0]
    assert level_outliers(levels) == [False, False, False, True, False, False, True]


def test_picture_has_one_point_per_column() -> None:
    pic = picture(np.concatenate([tone(1.0), np.zeros(RATE, np.float32)]), RATE, columns=100)
    assert len(pic.high) == len(pic.low) == len(pic.level_db) == 100
    assert max(pic.high) == pytest.approx(0.3, abs=0.01) and pic.level_db[-1] < -60


def test_whisper_needs_a_local_ctranslate2_folder(tmp_path: Path) -> None:
    from studio.check.recognizers import Whisper

    with pytest.raises(StudioError, match="not a CTranslate2 Whisper model folder"):
        Whisper(tmp_path / "nowhere")
    # Without its tokenizer, faster-whisper would fetch one from the hub.
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(StudioError, match=r"no tokenizer\.json"):
        Whisper(tmp_path)


def test_a_retake_seed_keys_the_take_as_the_voice_with_that_seed(tmp_path: Path) -> None:
    """A retaken segment's key is the key the same voice with that seed gives it; the other
    segments keep theirs."""
    from studio.render import open_voice, take_keys
    from studio.types import Script, ScriptChapter, Segment
    from studio.voices import find_voice, open_engine

    _, engine, _ = open_voice("joe", (), tmp_path)
    segments = tuple(Segment(text, text, 0.3) for text in ("One.", "Two.", "Three."))
    script = Script("t", (ScriptChapter("", segments),))
    plain = take_keys(script, engine)
    retaken = take_keys(script, engine, seeds=[None, 7, None])
    assert [a == b for a, b in zip(plain, retaken, strict=True)] == [True, False, True]
    seven = open_engine(find_voice("joe").model_copy(update={"seed": 7}), tmp_path)
    assert retaken[1] == take_keys(script, seven)[1]


def test_manifest_leaves_out_seed_and_tries_unless_a_segment_has_them() -> None:
    from studio.manifest import ManifestSegment

    plain = ManifestSegment(
        chapter=0, text="a", source="a", start=0, end=1, cached=True, attempts=1, key="k"
    )
    retaken = plain.model_copy(update={"seed": 5, "tries": ({"seed": 0, "score": 0.1},)})
    assert plain.seed is None and retaken.seed == 5
    import json as json_module

    from studio.manifest import Manifest

    fields = {
        "studio": "0",
        "render_key": "r",
        "essay": {"title": "t", "slug": "s", "author": "", "date": None, "description": ""},
        "voice": {},
        "duration": 1.0,
        "loudness": {"integrated_lufs": None, "true_peak_dbtp": None},
        "cache": {"hits": 0, "synthesized": 0, "retries": 0},
        "breaths": {"mode": "off", "found": 0, "seconds": 0.0},
        "chapters": [],
        "segments": [plain, retaken],
        "sizes": {},
    }
    data = json_module.loads(Manifest.model_validate(fields).to_json())
    assert "seed" not in data["segments"][0] and "tries" not in data["segments"][0]
    assert data["segments"][1]["seed"] == 5 and data["segments"][1]["tries"][0]["score"] == 0.1


def test_a_voice_the_recognizer_cannot_follow_keeps_its_profiles_speaking_rate() -> None:
    """Noise takes (as the tiny random XTTS makes) cannot calibrate a speaking rate: the bar
    drops to its floor and the length flags use the voice profile's rate instead."""
    from studio.check.calibration import PASSAGE, calibrate
    from studio.check.recognizers import Pocketsphinx

    rng = np.random.default_rng(0)
    takes = [(rng.normal(0, 0.1, int(0.4 * RATE)).astype(np.float32), RATE) for _ in PASSAGE]
    listen = Pocketsphinx(workers=1).listen
    calibration = calibrate(takes, listen, lambda a, r: a, fallback_rate=13.0)
    assert max(calibration.scores) < 0.3
    assert calibration.min_score == MIN_BAR and calibration.chars_per_second == 13.0


def verdict(text: str, heard: str, confidence: float = 1.0, **signal: float) -> tuple[str, ...]:
    """The flags `judge` gives a segment heard as `heard` with these signal measures."""
    from studio.check.calibration import Calibration
    from studio.check.episode import judge
    from studio.check.recognizers import Heard
    from studio.check.signals import SegmentSignal

    calibration = Calibration((0.95,), 0.7, chars_per_second=15.0, longest_gap=0.3)
    measured = {"seconds": len(text) / 15.0, "longest_gap": 0.2, "clipped_runs": 0}
    measured.update(signal)
    words_heard = tuple(heard.split())
    return judge(
        index=0, chapter=0, start=0.0, end=1.0, text=text, source=text, key="k",
        heard=Heard(words_heard, (confidence,) * len(words_heard)),
        signal=SegmentSignal(level_db=-20.0, **measured),  # type: ignore[arg-type]
        breath_seconds=0.0,
        level_outlier=False, calibration=calibration,
    ).flags  # fmt: skip


SENTENCE = "A voice is cloned from a few clips of the writer reading aloud."


def test_flags_from_words_length_gaps_and_clipping() -> None:
    assert verdict(SENTENCE, SENTENCE.lower().rstrip(".")) == ()
    assert verdict(SENTENCE, "a voice is cloned from a few") == ("words",)
    assert verdict(SENTENCE, SENTENCE.lower().rstrip("."), confidence=0.3) == ("words",)
    runs_on = verdict(SENTENCE, SENTENCE.lower().rstrip(".") + " and then it goes on", seconds=9.0)
    assert runs_on == ("long",)  # 5 extra words to 13 said stay over the bar; the length does not
    assert verdict(SENTENCE, SENTENCE.lower().rstrip("."), seconds=1.0) == ("short",)
    assert verdict(SENTENCE, SENTENCE.lower().rstrip("."), longest_gap=1.1) == ("silence",)
    assert verdict(SENTENCE, SENTENCE.lower().rstrip("."), clipped_runs=4) == ("clipped",)


def test_a_short_segment_needs_two_lost_words_or_all_of_one() -> None:
    assert verdict("The real lesson.", "real lesson") == ()  # one "the" lost of three
    assert verdict("The real lesson.", "lesson") == ("words",)
    assert verdict("Quote.", "") == ("words",)
    assert verdict("Quote.", "end") == ("words",)


def test_the_retake_command_names_what_the_render_was_made_with() -> None:
    from studio.check.calibration import Calibration
    from studio.check.episode import CheckReport
    from studio.check.page import retake_command

    report = CheckReport(
        slug="s",
        title="t",
        essay=Path("essays/my post.md"),
        out_dir=Path("episodes"),
        audio=Path("episodes/s.mp3"),
        voice="joe",
        recognizer="pocketsphinx",
        duration=1.0,
        segments=(),
        chapters=(),
        calibration=Calibration((1.0,), 0.7, 14.0, 0.3),
        listened=0,
        stale=False,
        lexicons=(Path("words.toml"),),
    )
    assert retake_command(report, [3, 5]) == (
        "studio retake 'essays/my post.md' 3 5 --out episodes --voice joe --lexicon words.toml"
    )
    show = replace(report, show_config=Path("show/studio.toml"), report_dir=Path("show/.studio"))
    assert retake_command(show, [3]) == (
        "studio retake 'essays/my post.md' 3 --config show/studio.toml --lexicon words.toml"
    )
    assert show.paths["html"] == Path("show/.studio/s.qc.html")
