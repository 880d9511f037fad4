"""`studio check`, `studio retake` and `render --check` end to end: a real render with the bundled
voice, heard by pocketsphinx, tampered with for real, and the proof page in Debian's Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import run_studio

pytestmark = pytest.mark.slow  # renders with the bundled voice and runs the recognizer

ESSAY = """---
title: The Price of a Sentence
author: Test Writer
---

Small models are getting better every month. This one runs on a laptop, and it answers in
under a second.

## Why it matters

A voice is cloned from a few clips of the writer reading aloud. In 2024 the price of the API
fell by half, and NASA noticed.

The rest is patience: listen, fix the odd word, and publish on Friday.
"""
SWAPPED, SOURCE, REVERSED = 3, 5, 6  # segment indices: 3 gets 5's audio, 6 is played backwards


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict:
    work = tmp_path_factory.mktemp("check")
    essay = work / "price.md"
    essay.write_text(ESSAY, encoding="utf-8")
    out = work / "out"
    result = run_studio("render", str(essay), "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "price.json").read_text(encoding="utf-8"))
    assert len(manifest["segments"]) > REVERSED
    return {"work": work, "essay": essay, "out": out, "manifest": manifest}


@pytest.fixture(scope="module")
def clean(episode: dict) -> dict:
    result = run_studio("check", str(episode["essay"]), "--out", str(episode["out"]))
    report = json.loads((episode["out"] / "price.qc.json").read_text(encoding="utf-8"))
    return {"result": result, "report": report}


def tampered(episode: dict, path: Path) -> Path:
    """The episode with segment SWAPPED's audio replaced by SOURCE's sentence (cut or padded to
    the same span) and segment REVERSED played backwards."""
    audio, rate = sf.read(episode["out"] / "price.mp3", dtype="float32")
    spans = [
        (int(s["start"] * rate), int(s["end"] * rate)) for s in episode["manifest"]["segments"]
    ]
    out = audio.copy()
    (a, b), (c, d) = spans[SWAPPED], spans[SOURCE]
    piece = audio[c:d][: b - a]
    out[a:b] = 0.0
    out[a : a + len(piece)] = piece
    a, b = spans[REVERSED]
    out[a:b] = audio[a:b][::-1]
    sf.write(path, out, rate, subtype="PCM_16")
    return path


def test_a_clean_render_checks_clean(episode: dict, clean: dict) -> None:
    assert clean["result"].returncode == 0, clean["result"].stdout + clean["result"].stderr
    report = clean["report"]
    assert report["flagged"] == []
    segments = report["segments"]
    assert len(segments) == len(episode["manifest"]["segments"])
    for segment, placed in zip(segments, episode["manifest"]["segments"], strict=True):
        assert {"index", "start", "end", "text", "heard", "score", "flags"} <= segment.keys()
        assert segment["start"] == placed["start"] and segment["text"] == placed["text"]
        assert segment["flags"] == [] and segment["score"] > 0.7
    # Numbers and a spelled acronym were heard as the script says them.
    year = next(s for s in segments if "twenty twenty-four" in s["text"])
    assert "twenty twenty four" in year["heard"] and "api" in year["heard"].split()
    assert (episode["out"] / "price.qc.html").is_file()


def test_swapped_and_reversed_segments_and_only_they_are_flagged(
    episode: dict, clean: dict, tmp_path: Path
) -> None:
    audio = tampered(episode, tmp_path / "tampered.wav")
    out = tmp_path / "out"
    shutil.copytree(episode["out"], out)
    result = run_studio("check", str(episode["essay"]), "--out", str(out), "--audio", str(audio))
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((out / "price.qc.json").read_text(encoding="utf-8"))
    assert report["flagged"] == [SWAPPED, REVERSED]
    for index in (SWAPPED, REVERSED):
        assert "words" in report["segments"][index]["flags"]
        assert report["segments"][index]["score"] < 0.3
    # The swapped segment was heard as the sentence it really holds.
    source_words = episode["manifest"]["segments"][SOURCE]["text"].lower().split()[:4]
    assert report["segments"][SWAPPED]["heard"].split()[:4] == [w.strip(".,") for w in source_words]
    assert "2 flagged" in result.stdout


def test_bad_input_is_one_line_and_exit_2(episode: dict, tmp_path: Path) -> None:
    cases = {
        "no episode": ("--out", str(tmp_path / "empty")),
        "missing audio": ("--out", str(episode["out"]), "--audio", str(tmp_path / "none.wav")),
    }
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(16000, dtype=np.float32), 16000)
    cases["another episode's length"] = (
        "--out", str(episode["out"]), "--audio", str(short)
    )  # fmt: skip
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    cases["not audio"] = ("--out", str(episode["out"]), "--audio", str(junk))
    before = sorted(p.name for p in episode["out"].iterdir())
    for what, args in cases.items():
        result = run_studio("check", str(episode["essay"]), *args)
        assert result.returncode == 2, what
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (what, result.stderr)
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in episode["out"].iterdir()) == before


def test_retake_changes_only_the_chosen_segments_take(
    episode: dict, clean: dict, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(episode["out"], out)
    before = episode["manifest"]
    result = run_studio("retake", str(episode["essay"]), "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    after = json.loads((out / "price.json").read_text(encoding="utf-8"))
    changed = [
        i
        for i, (x, y) in enumerate(zip(before["segments"], after["segments"], strict=True))
        if x["key"] != y["key"]
    ]
    assert changed == [2]
    assert after["cache"]["synthesized"] == 1  # one bad sentence costs one take
    seed = after["segments"][2]["seed"]
    assert all("seed" not in s for i, s in enumerate(after["segments"]) if i != 2)
    # The new take really is another take of the same sentence.
    a, rate = sf.read(episode["out"] / "price.mp3", dtype="float32")
    b, _ = sf.read(out / "price.mp3", dtype="float32")
    s = before["segments"][2]
    first = a[int(s["start"] * rate) : int(s["end"] * rate)]
    s = after["segments"][2]
    second = b[int(s["start"] * rate) : int(s["end"] * rate)]
    assert len(first) != len(second) or not np.allclose(first, second, atol=1e-3)

    # A later render keeps the retake; a check listens to that one take only.
    again = run_studio("render", str(episode["essay"]), "--out", str(out))
    assert "up to date" in again.stdout
    checked = run_studio("check", str(episode["essay"]), "--out", str(out))
    assert checked.returncode == 0, checked.stdout
    assert "listened to 1 of" in checked.stdout
    # Asking for a seed uses it; a segment that is not there is one line.
    chosen = run_studio("retake", str(episode["essay"]), "2", "--seed", "7", "--out", str(out))
    assert chosen.returncode == 0 and "seed 7" in chosen.stdout
    assert json.loads((out / "price.json").read_text())["segments"][2]["seed"] == 7 != seed
    missing = run_studio("retake", str(episode["essay"]), "99", "--out", str(out))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1


def test_render_check_of_an_unchanged_essay_listens_to_nothing(episode: dict, clean: dict) -> None:
    result = run_studio("render", str(episode["essay"]), "--out", str(episode["out"]), "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
    assert f"listened to 0 of {len(episode['manifest']['segments'])}" in result.stdout


def test_proof_page_in_chromium(episode: dict, clean: dict, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    audio = tampered(episode, tmp_path / "tampered.wav")
    out = tmp_path / "out"
    shutil.copytree(episode["out"], out)
    run_studio("check", str(episode["essay"]), "--out", str(out), "--audio", str(audio))
    page_path = out / "price.qc.html"
    html = page_path.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # nothing fetched from anywhere
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda r: r.url.startswith("http") and problems.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            listed = page.eval_on_selector_all(
                "#flagged article", "found => found.map(e => e.dataset.index)"
            )
            assert listed == [str(SWAPPED), str(REVERSED)]
            assert page.locator("#picture rect.flagmark").count() == 2
            assert page.locator("#picture line.chapter").count() == 2
            command = page.locator(f"#segment-{REVERSED} code.cmd").inner_text()
            assert command.startswith("studio retake ") and command.split()[3] == str(REVERSED)
            start = episode["manifest"]["segments"][REVERSED]["start"]
            page.click(f"#segment-{REVERSED} button.play")
            page.wait_for_timeout(200)
            now = page.evaluate("document.getElementById('player').currentTime")
            assert start - 0.05 <= now <= start + 1.0
            assert problems == []
        finally:
            browser.close()


def test_a_shows_episode_is_checked_and_retaken_where_build_keeps_it(
    tmp_path: Path, cache_dir: Path
) -> None:
    """With --config, check finds the MP3 in the show's output and the manifest in
    .studio/manifests/, and writes its report in .studio/check/ (never into the folder that is
    published); the page's retake command names the show, and a retake renders the episode as
    build does, so the next build finds it up to date and only re-describes the new MP3."""
    show = tmp_path / "show"
    assert run_studio("init", str(show), "--title", "Checked", "--author", "A").returncode == 0
    for essay in (show / "essays").iterdir():
        essay.unlink()
    essay = show / "essays" / "short.md"
    essay.write_text(
        "---\ntitle: Short\ndate: 2026-11-02\n---\n\nCats sleep all day. Dogs do not.\n",
        encoding="utf-8",
    )
    built = run_studio("build", "--config", str(show))
    assert built.returncode == 0, built.stdout + built.stderr
    assert (show / ".studio" / "manifests" / "short.json").is_file()
    assert not (show / "public" / "short.json").exists()

    plain = run_studio("check", str(essay), "--out", str(show / "public"))
    assert plain.returncode == 2, plain.stdout + plain.stderr
    assert f"add --config {show / 'studio.toml'}" in plain.stderr  # the show is found for you

    result = run_studio("check", "short", "--config", str(show))  # the slug will do
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stderr  # rendered with the show's settings: not stale
    report = json.loads((show / ".studio" / "check" / "short.qc.json").read_text("utf-8"))
    assert report["flagged"] == [] and report["audio"] == str(show / "public" / "short.mp3")
    assert not list((show / "public").glob("*.qc.*"))
    # Segment 1 played backwards: flagged, and its retake command names the show.
    audio, rate = sf.read(show / "public" / "short.mp3", dtype="float32")
    segment = report["segments"][1]
    a, b = int(segment["start"] * rate), int(segment["end"] * rate)
    audio[a:b] = audio[a:b][::-1].copy()
    sf.write(tmp_path / "reversed.wav", audio, rate, subtype="PCM_16")
    args = ("check", "short", "--config", str(show), "--audio", str(tmp_path / "reversed.wav"))
    flagged = run_studio(*args)
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    page = (show / ".studio" / "check" / "short.qc.html").read_text(encoding="utf-8")
    command = f"studio retake {essay} 1 --config {show / 'studio.toml'}"
    assert command in page

    before = json.loads((show / ".studio" / "manifests" / "short.json").read_text("utf-8"))
    retaken = run_studio("retake", str(essay), "1", "--config", str(show))
    assert retaken.returncode == 0, retaken.stdout + retaken.stderr
    assert "studio build" in retaken.stdout
    after = json.loads((show / ".studio" / "manifests" / "short.json").read_text("utf-8"))
    assert after["cache"]["synthesized"] == 1 and "seed" in after["segments"][1]
    assert [s["key"] for s in after["segments"]] != [s["key"] for s in before["segments"]]
    rebuilt = run_studio("build", "--config", str(show))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "up to date" in rebuilt.stdout  # the retake was rendered exactly as build renders
    feed = (show / "public" / "feed.xml").read_text(encoding="utf-8")
    assert f'length="{(show / "public" / "short.mp3").stat().st_size}"' in feed
    both = run_studio("check", str(essay), "--config", str(show), "--out", str(show))
    assert both.returncode == 2 and "--out and --config" in both.stderr


def test_check_listens_with_faster_whisper_on_a_local_model(episode: dict, tmp_path: Path) -> None:
    """`--whisper DIR` runs faster-whisper on a real CTranslate2 folder (a tiny random Whisper,
    converted as a user's model would be). It hears garbage, so calibration sets the bar at its
    floor and keeps the voice's own speaking rate: every segment is flagged for its words and
    none for its length, and the results are cached per recognizer."""
    from studio.check.calibration import MIN_BAR
    from studio.voices import find_voice
    from tests.whisper_fixture import build_tiny_whisper

    model = build_tiny_whisper(tmp_path / "tiny-whisper")
    out = tmp_path / "out"
    shutil.copytree(episode["out"], out)
    args = ("check", str(episode["essay"]), "--out", str(out), "--whisper", str(model))
    result = run_studio(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads((out / "price.qc.json").read_text(encoding="utf-8"))
    assert report["recognizer"] == "whisper"
    count = len(episode["manifest"]["segments"])
    assert report["flagged"] == list(range(count))
    assert all(s["flags"] == ["words"] and s["score"] < MIN_BAR for s in report["segments"])
    assert report["calibration"]["min_score"] == MIN_BAR
    assert report["calibration"]["chars_per_second"] == find_voice("joe").chars_per_second
    assert (out / "price.qc.html").is_file()
    assert f"listened to {count} of {count}" in result.stdout
    again = run_studio(*args)
    assert again.returncode == 1 and f"listened to 0 of {count}" in again.stdout


@pytest.mark.xtts
def test_render_check_retakes_flagged_xtts_takes_with_new_seeds(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiny random XTTS says nothing: every take is flagged, each is tried again with a new
    seed up to max_attempts, the manifest records every attempt, and the check still fails.
    Run again on the unchanged essay it makes no new take and keeps the record, and so does a
    forced render (same takes). Two segments, max_attempts 2: three model loads in all (the
    calibration passage is synthesized with the render's takes)."""
    from tests.xtts_fixture import build_tiny_xtts, write_voice_clip

    model = build_tiny_xtts(tmp_path / "tiny-xtts")
    clip = write_voice_clip(tmp_path / "clip.wav", 4.0)
    voices = tmp_path / "voices"
    added = run_studio(
        "voices", "add", "tiny", str(clip), "--model", str(model), "--dir", str(voices)
    )
    assert added.returncode == 0, added.stderr
    profile = voices / "tiny" / "voice.toml"
    profile.write_text(profile.read_text() + "max_attempts = 2\n")
    monkeypatch.setenv("STUDIO_VOICES", str(voices))
    essay = tmp_path / "tiny.md"
    essay.write_text("# Tiny\n\nA model that says nothing at all.\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ("render", str(essay), "--voice", "tiny", "--out", str(out), "--device", "cpu")
    result = run_studio(*args, "--check")
    assert result.returncode == 1, result.stdout + result.stderr  # still flagged: it is noise
    manifest = json.loads((out / "tiny.json").read_text(encoding="utf-8"))
    report = json.loads((out / "tiny.qc.json").read_text(encoding="utf-8"))
    assert report["flagged"] == list(range(len(manifest["segments"])))
    for segment in manifest["segments"]:
        tries = segment["tries"]
        assert len(tries) == 2 and tries[0]["seed"] != tries[1]["seed"]
        best = max(tries, key=lambda t: t["score"])
        assert segment.get("seed", 0) == best["seed"] or tries[0]["score"] >= tries[1]["score"]
    assert "re-took #0: 2 attempts" in result.stdout

    again = run_studio(*args, "--check")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "up to date" in again.stdout and "re-took" not in again.stdout
    assert "listened to 0 of 2" in again.stdout
    assert json.loads((out / "tiny.json").read_text(encoding="utf-8")) == manifest
    forced = run_studio(*args, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    rewritten = json.loads((out / "tiny.json").read_text(encoding="utf-8"))
    assert rewritten["cache"]["synthesized"] == 0  # the same takes, from the cache
    for before, after in zip(manifest["segments"], rewritten["segments"], strict=True):
        assert (after["tries"], after.get("seed")) == (before["tries"], before.get("seed"))
