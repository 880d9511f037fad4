"""Voice profiles, `studio voices list/check/add`, reference clip checks and the take guard.

Nothing here loads a neural model: XTTS voices point at a folder with a real config.json and
vocab.json and a placeholder model.pth, which is all that readiness, cache keys and scripts need
(tests/test_xtts.py loads a real, tiny XTTS).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.clips import check_clip, check_clips, count_breaths
from studio.engines.digest import _digest, file_digest
from studio.engines.guard import GuardSettings, best_take, judge
from studio.errors import StudioError
from studio.speech.segment import fit_to_limit, merge_short
from studio.voices import REPO_VOICES, XTTS_V2, VoiceProfile, find_voice, load_profile, open_engine
from tests.conftest import run_studio
from tests.test_cli import assert_one_line_error
from tests.xtts_fixture import write_unloadable_xtts, write_voice_clip

ESSAY = (
    "# Voices\n\nA sentence worth reading aloud. And another one after it.\n\nA new paragraph.\n"
)


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A voices folder with one ready XTTS voice and one for each way a voice can be broken."""
    root = tmp_path_factory.mktemp("voices")
    model = write_unloadable_xtts(root / "models" / "xtts")
    vits_config = write_unloadable_xtts(root / "models" / "not-xtts")
    (vits_config / "config.json").write_text('{"model": "vits"}', encoding="utf-8")
    clips = root / "clips"
    clips.mkdir()
    write_voice_clip(clips / "long.wav", 7.0)
    write_voice_clip(clips / "short.wav", 2.0)
    nowhere = root / "nowhere"
    profiles = {
        "ready": f'engine = "xtts"\nmodel = "{model}"\nclips = ["{clips / "long.wav"}"]\n',
        "nomodel": f'engine = "xtts"\nmodel = "{nowhere}"\nclips = ["{clips / "long.wav"}"]\n',
        "shortclip": f'engine = "xtts"\nmodel = "{model}"\nclips = ["{clips / "short.wav"}"]\n',
        "noclip": f'engine = "xtts"\nmodel = "{model}"\nclips = ["{clips / "gone.wav"}"]\n',
        "french": (
            f'engine = "xtts"\nmodel = "{model}"\nclips = ["{clips / "long.wav"}"]\n'
            'language = "fr"\n'
        ),
        "mismatch": (
            f'engine = "xtts"\nmodel = "{vits_config}"\nclips = ["{clips / "long.wav"}"]\n'
        ),
        "broken": 'engine = "xtts"\ntemperature = 9\n',
        "slow": "[pauses]\nsentence = 1.0\nparagraph = 2.5\n",
    }
    for name, text in profiles.items():
        (root / name).mkdir()
        (root / name / "voice.toml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def in_voices(voices: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_VOICES", str(voices))
    return voices


def test_repo_ships_the_bundled_voice_and_a_documented_xtts_example() -> None:
    joe = load_profile(REPO_VOICES / "joe" / "voice.toml")
    assert joe.engine == "bundled" and joe.license == "CC0-1.0"
    path = REPO_VOICES / "example-xtts" / "voice.toml"
    example = load_profile(path)
    assert example.engine == "xtts" and example.model == XTTS_V2  # a name, not made a path
    assert [c.name for c in example.clips] == ["reading-1.wav", "reading-2.wav"]
    assert example.clips[0].parent == path.parent / "clips"
    text = path.read_text(encoding="utf-8")
    for setting in ("model", "clips", "language", "temperature", "chars_per_second", "pauses"):
        assert f"{setting}" in text
    assert sum(line.startswith("#") for line in text.splitlines()) > 20  # documented


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('engine = "piper"', "engine"),
        ('engine = "xtts"\ntemperature = 5', "temperature"),
        ('engine = "xtts"\ntop_p = 1.5', "top_p"),
        ('clips = ["me.wav"]', "clips: only xtts voices take `clips`"),
        ('engine = "coqui"', "model: a coqui voice needs `model`"),
        ('engine = "xtts"\nspeaker = "p225"', "speaker: only coqui voices"),
        ('language = "English"', "language"),
        ('engine = "xtts"\nchars_per_second = 0', "chars_per_second"),
        ("[pauses]\nsentence = -1", "pauses.sentence"),
        ("volume = 11", "volume"),
        ("engine = ", "cannot read voice profile"),
    ],
)
def test_profile_errors_name_the_field(tmp_path: Path, toml: str, fragment: str) -> None:
    path = tmp_path / "v" / "voice.toml"
    path.parent.mkdir()
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(StudioError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert fragment in message and str(path) in message and "\n" not in message


def test_paths_are_relative_to_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "me" / "voice.toml"
    path.parent.mkdir()
    path.write_text(
        'engine = "xtts"\nmodel = "../models/xtts"\nclips = ["clips/a.wav"]\n'
        'lexicon = "words.toml"\n',
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert profile.name == "me"
    assert Path(profile.model or "") == (tmp_path / "models" / "xtts").resolve()
    assert profile.clips == ((path.parent / "clips" / "a.wav").resolve(),)
    assert profile.lexicon == (path.parent / "words.toml").resolve()


def test_profiles_pickle_for_the_worker() -> None:
    import pickle

    profile = VoiceProfile(engine="xtts", model="/m", clips=(Path("/a.wav"),), temperature=0.6)
    assert pickle.loads(pickle.dumps(profile)) == profile


@pytest.mark.slow
def test_voices_list_says_which_are_ready_and_why_not(in_voices: Path) -> None:
    result = run_studio("voices", "list")
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        first = line.split(" ", 1)[0]
        if first:
            rows[first] = line
        elif rows:  # a wrapped status continues the row above it
            rows[list(rows)[-1]] += " " + line.strip()
    rows = {name: " ".join(row.split()) for name, row in rows.items()}
    assert rows["ready"].startswith("ready xtts en ready")
    assert rows["joe"].startswith("joe bundled en ready")
    assert "not ready: XTTS model folder" in rows["nomodel"]
    assert "not ready" in rows["shortclip"] and "at least 3 s" in rows["shortclip"]
    assert "gone.wav not found" in rows["noclip"]
    assert "language 'fr'" in rows["french"]
    assert "not XTTS" in rows["mismatch"]
    assert "temperature" in rows["broken"]
    assert "not ready" in rows["example-xtts"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("voice", "fragment"),
    [
        ("nomodel", "XTTS model folder"),
        ("shortclip", "needs at least 3 s"),
        ("noclip", "gone.wav not found"),
        ("french", "language 'fr' is not one this XTTS model speaks"),
        ("mismatch", "describes a 'vits' model, not XTTS"),
        ("broken", "temperature"),
    ],
)
def test_rendering_with_a_voice_that_is_not_ready_fails_in_one_line(
    in_voices: Path, tmp_path: Path, voice: str, fragment: str
) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(ESSAY, encoding="utf-8")
    out = tmp_path / "out"
    result = run_studio("render", str(essay), "--voice", voice, "--out", str(out))
    assert_one_line_error(result, fragment)
    assert not out.exists()


@pytest.mark.slow
def test_bad_device_is_a_one_line_error(tmp_path: Path) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text(ESSAY, encoding="utf-8")
    result = run_studio("render", str(essay), "--device", "gpu", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "unknown device 'gpu'")


@pytest.mark.slow
def test_xtts_script_is_cut_by_its_limits_without_importing_torch(in_voices: Path) -> None:
    essay = in_voices / "long.md"
    long = ", ".join(f"and then the {n}th thing happened" for n in range(1, 30))
    essay.write_text(f"# Long\n\nIt began {long}.\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "studio", "script", str(essay), "--voice", "ready", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "torch" not in imported and "TTS" not in imported
    texts = [s["text"] for c in json.loads(result.stdout)["chapters"] for s in c["segments"]]
    assert len(texts) > 3
    assert all(len(text) <= 250 for text in texts)  # XTTS's English character limit


def test_pause_overrides_come_from_the_profile(in_voices: Path, tmp_path: Path) -> None:
    from studio.render import RenderRequest, prepare

    essay = tmp_path / "essay.md"
    essay.write_text(ESSAY, encoding="utf-8")
    slow = prepare(RenderRequest(essay, tmp_path, voice="slow"), tmp_path / "cache")
    plain = prepare(RenderRequest(essay, tmp_path, voice="joe"), tmp_path / "cache")
    pauses = [s.pause_after for s in slow.script.segments]
    assert 1.0 in pauses and 2.5 in pauses
    assert pauses != [s.pause_after for s in plain.script.segments]
    assert slow.render_key != plain.render_key


def test_xtts_identity_is_cheap_and_covers_what_changes_a_take(in_voices: Path) -> None:
    work = in_voices / "work"
    profile = find_voice("ready")
    engine = open_engine(profile, work)
    identity = engine.identity()
    assert not engine.loaded  # type: ignore[attr-defined]
    assert set(identity["model"]) == {"config.json", "model.pth", "vocab.json"}
    assert len(identity["clips"]) == 1 and identity["language"] == "en"
    for change in (
        {"temperature": 0.5},
        {"top_p": 0.5},
        {"top_k": 10},
        {"repetition_penalty": 2.0},
        {"seed": 7},
        {"speed": 1.1},
        {"chars_per_second": 12.0},
    ):
        other = open_engine(profile.model_copy(update=change), work).identity()
        assert other != identity, change
    assert open_engine(profile, work, device="cpu").identity() == identity  # not the device


def test_file_digests_are_remembered_on_disk(tmp_path: Path) -> None:
    big = tmp_path / "model.pth"
    big.write_bytes(os.urandom(17 << 20))
    memo = tmp_path / "memo"
    digest = file_digest(big, memo)
    [stored] = (memo / "digests").iterdir()
    assert stored.read_text() == digest
    stored.write_text("f" * 64)  # a later process reads the memo instead of the file
    _digest.cache_clear()
    assert file_digest(big, memo) == "f" * 64
    os.utime(big, ns=(1, 1))  # touched: hashed again
    assert file_digest(big, memo) == digest


@pytest.mark.slow
def test_voices_add_creates_a_profile_from_clips(tmp_path: Path, voices: Path) -> None:
    folder = tmp_path / "myvoices"
    clip = write_voice_clip(tmp_path / "Take One.wav", 4.0)
    clip2 = write_voice_clip(tmp_path / "take-two.flac", 3.0)
    model = voices / "models" / "xtts"
    env_run = ("voices", "add", "me", str(clip), str(clip2), "--model", str(model))
    result = run_studio(*env_run, "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    assert "ready: render with --voice me" in result.stdout
    profile = load_profile(folder / "me" / "voice.toml")
    assert profile.engine == "xtts" and Path(profile.model or "") == model.resolve()
    assert [c.name for c in profile.clips] == ["Take-One.wav", "take-two.flac"]
    assert all(c.is_file() and c.parent == folder / "me" / "clips" for c in profile.clips)
    again = run_studio(*env_run, "--dir", str(folder))
    assert_one_line_error(again, "already exists", "--force")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("me", "{short}"), "needs at least 3 s"),
        (("me", "{missing}"), "not found"),
        (("Bad Name", "{long}"), "can't be a voice name"),
        (("me", "{long}", "--language", "English"), "language"),
    ],
)
def test_voices_add_refuses_bad_input(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    paths = {
        "short": write_voice_clip(tmp_path / "short.wav", 1.5),
        "long": write_voice_clip(tmp_path / "long.wav", 7.0),
        "missing": tmp_path / "missing.wav",
    }
    filled = [arg.format(**{k: str(v) for k, v in paths.items()}) for arg in args]
    result = run_studio("voices", "add", *filled, "--dir", str(tmp_path / "v"))
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "v" / "me" / "voice.toml").exists()


def _clip(path: Path, audio: np.ndarray, rate: int = 44100) -> Path:
    sf.write(path, audio.astype(np.float32), rate, subtype="PCM_16")
    return path


def test_clip_checks_say_what_to_fix(tmp_path: Path) -> None:
    good = write_voice_clip(tmp_path / "good.wav", 7.0)
    speech, _ = sf.read(good, dtype="float32")
    low_rate = write_voice_clip(tmp_path / "phone.wav", 7.0, sample_rate=8000)
    clipped = _clip(tmp_path / "clipped.wav", np.clip(speech * 8, -1, 1))
    quiet = _clip(tmp_path / "quiet.wav", speech * 0.004)
    noisy = _clip(
        tmp_path / "noisy.wav", speech + np.random.default_rng(0).normal(0, 0.03, len(speech))
    )
    assert check_clip(good).problems == () and check_clip(good).advice == ()
    assert "16 kHz" in check_clip(low_rate).problems[0]
    assert "clipped" in check_clip(clipped).problems[0]
    assert "too quiet" in check_clip(quiet).problems[0]
    assert "noisy" in " ".join(check_clip(noisy).problems)
    report = check_clips([good, good, good, good, good])
    assert report.total_seconds == pytest.approx(35.0, abs=0.1) and "30 s" in report.advice[0]
    assert "6-30 s" in check_clips([write_voice_clip(tmp_path / "5s.wav", 5.0)]).advice[0]
    assert not check_clips([]).ok


@pytest.mark.slow
def test_voices_check_lists_problems_and_fails(
    in_voices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_voice_clip(tmp_path / "good.wav", 4.0)
    speech, _ = sf.read(good, dtype="float32")
    clipped = _clip(tmp_path / "clipped.wav", np.clip(speech * 8, -1, 1))
    model = in_voices / "models" / "xtts"
    folder = tmp_path / "voices"
    (folder / "hot").mkdir(parents=True)
    (folder / "hot" / "voice.toml").write_text(
        f'engine = "xtts"\nmodel = "{model}"\nclips = ["{good}", "{clipped}"]\n', encoding="utf-8"
    )
    monkeypatch.setenv("STUDIO_VOICES", f"{folder}{os.pathsep}{in_voices}")
    bad = run_studio("voices", "check", "hot")
    fine = run_studio("voices", "check", "ready")
    assert bad.returncode == 1
    assert "clipped.wav" in bad.stdout and "record again with the input gain lower" in bad.stdout
    assert "1 clip problem" in bad.stderr
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "long.wav" in fine.stdout and "voice 'ready' is ready" in fine.stdout


@pytest.mark.slow
def test_breaths_in_reference_clips_are_found(cache_dir: Path, tmp_path: Path) -> None:
    from studio.engines.bundled import BundledEngine
    from tests.breath_fixtures import room_tone, synthetic_breath

    engine = BundledEngine(work_dir=cache_dir / "models")
    rate = engine.sample_rate
    a = engine.synthesize("The price of a sentence is the time it takes to say it well.").audio
    b = engine.synthesize("Every chapter opens with a heading, and every heading is a mark.").audio
    rng = np.random.default_rng(0)
    pause = np.zeros(int(0.9 * rate), dtype=np.float32)
    breath = pause.copy()
    breath[int(0.25 * rate) : int(0.65 * rate)] += synthetic_breath(rng, 0.4, rate, -38)
    for name, gap, expected in (("breathy", breath, True), ("clean", pause, False)):
        audio = np.concatenate([a, gap, b, gap, a])
        audio = audio + room_tone(rng, len(audio), rate, -66)
        report = check_clip(_clip(tmp_path / f"{name}.wav", audio, rate))
        assert (report.breaths > 0) is expected, name
        assert any("breath" in line for line in report.advice) is expected
        assert (count_breaths(audio, rate) > 0) is expected


# --- the hallucination guard, on audio whose length and loudness are known ------------------


def _tone(seconds: float, level: float = 0.2, rate: int = 24000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


TEXT = "A sentence of about forty-one characters."  # ~2.9 s at 14 characters a second


@pytest.mark.parametrize(
    ("audio", "problem"),
    [
        (_tone(3.0), ""),
        (_tone(9.0), "too long"),
        (_tone(0.8), "too short"),
        (_tone(3.0, level=0.001), "near-silent"),
        (np.concatenate([np.zeros(24000), _tone(3.0), np.zeros(48000)]), ""),  # edges ignored
    ],
)
def test_guard_judges_takes_by_expected_duration(audio: np.ndarray, problem: str) -> None:
    verdict = judge(audio, 24000, TEXT, GuardSettings())
    assert verdict.problem == problem
    assert verdict.expected == pytest.approx(len(TEXT) / 14)


def test_guard_retries_and_keeps_the_best() -> None:
    takes = {0: _tone(3.0, level=0.0005), 1: _tone(8.0), 2: _tone(3.2)}
    calls: list[int] = []

    def make(attempt: int) -> np.ndarray:
        calls.append(attempt)
        return takes[attempt]

    result = best_take(make, TEXT, 24000, GuardSettings(max_attempts=3))
    assert calls == [0, 1, 2] and result.attempts == 3
    assert np.array_equal(result.audio, takes[2])
    assert "near-silent" in result.notes[0] and "too long" in result.notes[1]
    first_good = best_take(lambda attempt: _tone(3.0), TEXT, 24000, GuardSettings())
    assert first_good.attempts == 1 and first_good.notes == ()


def test_guard_keeps_the_closest_when_every_attempt_fails() -> None:
    takes = [_tone(12.0), _tone(0.9), _tone(8.0)]
    result = best_take(lambda attempt: takes[attempt], TEXT, 24000, GuardSettings(max_attempts=3))
    assert result.attempts == 3 and np.array_equal(result.audio, takes[2])
    assert result.notes[-1] == "no attempt passed; kept attempt 3 of 3, the closest"


# --- engine limits beyond characters ---------------------------------------------------------


def test_segments_fit_an_engine_measure_as_well_as_characters() -> None:
    def words(text: str) -> bool:
        return len(text.split()) <= 4

    source = "One two three four five six seven, eight nine ten eleven; twelve thirteen."
    parts = fit_to_limit(source, str, 200, words)
    assert all(words(spoken) for _, spoken in parts)
    assert " ".join(src for src, _ in parts) == source
    assert fit_to_limit(source, str, 200) == [(source, source)]
    assert merge_short(["No.", "Why not then?", "Fine."], 18, 100) == [[0, 1, 2]]
    assert merge_short(["No.", "Why not then?", "Fine."], 18, 100, words) == [[0, 1], [2]]
