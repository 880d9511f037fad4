"""End to end: a real essay through the real CLI, checked from the files it writes."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import jiwer
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import soxr
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from tests.conftest import run_studio

pytestmark = pytest.mark.slow  # renders real audio with the bundled voice

ESSAY = """---
title: Small Machines
author: Ada Brook
date: 2026-11-20
description: A short essay about small models.
---

Small models are getting better every month. This one runs on a laptop.

## Cost

A 7B model costs about $15 per month to run. That is cheaper than a coffee a week.

## Speed

It reads a page in ten seconds. Nobody waits for it anymore.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict:
    work = tmp_path_factory.mktemp("render")
    essay = work / "small-machines.md"
    essay.write_text(ESSAY, encoding="utf-8")
    out = work / "out"
    result = run_studio("render", str(essay), "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "small-machines.json").read_text(encoding="utf-8"))
    return {"work": work, "essay": essay, "out": out, "stdout": result.stdout, "manifest": manifest}


def decoded(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(path, dtype="float32")
    return audio, rate


def test_writes_every_output_and_no_temporary_files(rendered: dict) -> None:
    names = sorted(p.name for p in rendered["out"].iterdir())
    assert names == [
        "small-machines.chapters.json",
        "small-machines.json",
        "small-machines.mp3",
        "small-machines.srt",
        "small-machines.vtt",
    ]
    assert "small-machines.mp3" in rendered["stdout"]


def test_mp3_is_44k1_mono_cbr_and_decodes_to_its_stated_length(rendered: dict) -> None:
    path = rendered["out"] / "small-machines.mp3"
    info = MP3(path).info
    audio, rate = decoded(path)
    assert rate == 44100 and info.sample_rate == 44100 and info.channels == 1
    assert info.bitrate == 96000
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    assert audio.ndim == 1
    assert abs(len(audio) / rate - info.length) < 0.05
    assert abs(info.length - rendered["manifest"]["duration"]) < 0.05
    # constant bitrate: the size follows from the duration
    expected = info.length * 96000 / 8
    assert abs(path.stat().st_size - expected) / expected < 0.05


def test_loudness_of_the_decoded_file(rendered: dict) -> None:
    audio, rate = decoded(rendered["out"] / "small-machines.mp3")
    loudness = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert -17.0 <= loudness <= -15.0
    assert np.max(np.abs(audio)) <= 10 ** (-0.5 / 20)


def test_the_mp3_delivers_the_loudness_the_manifest_reports(rendered: dict) -> None:
    # The encoder scales its input (0.95 at 96 kbps): the file decoded 0.45 LU under target.
    audio, rate = decoded(rendered["out"] / "small-machines.mp3")
    delivered = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert delivered == pytest.approx(-16.0, abs=0.2)
    reported = rendered["manifest"]["loudness"]["integrated_lufs"]
    assert reported == pytest.approx(delivered, abs=0.1)


def test_id3_chapters_follow_the_headings(rendered: dict) -> None:
    path = rendered["out"] / "small-machines.mp3"
    tags = ID3(path)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == "Small Machines"
    assert str(tags["TPE1"]) == "Ada Brook"
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    titles = [str(c.sub_frames["TIT2"]) for c in chapters]
    assert titles == ["Small Machines", "Cost", "Speed"]
    assert chapters[0].start_time == 0
    for before, after in itertools.pairwise(chapters):
        assert before.end_time == after.start_time
    assert chapters[-1].end_time == round(MP3(path).info.length * 1000)
    (toc,) = tags.getall("CTOC")
    assert toc.flags == 3
    assert list(toc.child_element_ids) == [c.element_id for c in chapters]
    assert "TIT2" in toc.sub_frames

    # each chapter starts just before its heading is spoken
    segments = rendered["manifest"]["segments"]
    for chapter, title in zip(chapters[1:], ["Cost", "Speed"], strict=True):
        heading = next(s for s in segments if s["text"] == f"{title}.")
        assert 0 <= heading["start"] - chapter.start_time / 1000 < 0.5


def test_chapters_json_and_captions(rendered: dict) -> None:
    out = rendered["out"]
    chapters = json.loads((out / "small-machines.chapters.json").read_text(encoding="utf-8"))
    assert chapters["version"] == "1.2.0"
    assert [c["title"] for c in chapters["chapters"]] == ["Small Machines", "Cost", "Speed"]
    starts = [c["startTime"] for c in chapters["chapters"]]
    assert starts == sorted(starts) and starts[0] == 0

    segments = rendered["manifest"]["segments"]
    vtt = (out / "small-machines.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    assert vtt.count(" --> ") == len(segments)
    srt = (out / "small-machines.srt").read_text(encoding="utf-8")
    assert srt.count(" --> ") == len(segments)
    first_cue = re.search(r"(\d\d:\d\d:\d\d\.\d\d\d) --> ", vtt)
    assert first_cue is not None
    h, m, s = first_cue.group(1).split(":")
    assert abs(int(h) * 3600 + int(m) * 60 + float(s) - segments[0]["start"]) < 0.002


def test_speech_recognition_hears_the_script(rendered: dict) -> None:
    from pocketsphinx import Decoder

    audio, rate = decoded(rendered["out"] / "small-machines.mp3")
    pcm = (np.clip(soxr.resample(audio, rate, 16000), -1, 1) * 32767).astype(np.int16)
    decoder = Decoder(samprate=16000)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    heard = decoder.hyp().hypstr if decoder.hyp() else ""
    said = " ".join(s["text"] for s in rendered["manifest"]["segments"])

    def plain(text: str) -> str:
        return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split())

    error = jiwer.wer(plain(said), plain(heard))
    assert error <= 0.35, f"WER {error:.2f}: heard {heard!r}"


def test_unchanged_rerender_synthesizes_and_writes_nothing(rendered: dict) -> None:
    out = rendered["out"]
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    result = run_studio("render", str(rendered["essay"]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    assert after == before


def test_edit_resynthesizes_only_the_changed_segment(rendered: dict, tmp_path: Path) -> None:
    essay = tmp_path / "small-machines.md"
    essay.write_text(ESSAY.replace("ten seconds", "twelve seconds"), encoding="utf-8")
    out = tmp_path / "out"
    shutil.copytree(rendered["out"], out)
    result = run_studio("render", str(essay), "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "small-machines.json").read_text(encoding="utf-8"))
    assert manifest["cache"]["synthesized"] == 1
    changed = [s for s in manifest["segments"] if not s["cached"]]
    assert len(changed) == 1 and "twelve seconds" in changed[0]["text"]


def test_forced_rerender_from_cache_is_identical(rendered: dict, tmp_path: Path) -> None:
    result = run_studio("render", str(rendered["essay"]), "--out", str(tmp_path), "--force")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "small-machines.json").read_text(encoding="utf-8"))
    assert manifest["cache"]["synthesized"] == 0
    original = rendered["out"] / "small-machines.mp3"
    assert (tmp_path / "small-machines.mp3").read_bytes() == original.read_bytes()


def test_manifest_reports_breath_cleaning(rendered: dict) -> None:
    manifest = rendered["manifest"]
    assert manifest["breaths"]["mode"] == "attenuate"
    per_take = [len(s.get("breaths", [])) for s in manifest["segments"]]
    assert manifest["breaths"]["found"] == sum(per_take)


def test_a_cover_that_is_no_image_is_refused_before_any_synthesis(tmp_path: Path) -> None:
    essay = tmp_path / "small-machines.md"
    essay.write_text(ESSAY.replace("ten seconds", "eleven seconds"), encoding="utf-8")
    cover = tmp_path / "cover.jpg"
    cover.write_text("not an image", encoding="utf-8")
    cache = tmp_path / "empty-cache"
    result = run_studio(
        "render",
        str(essay),
        "--out",
        str(tmp_path / "out"),
        "--cover",
        str(cover),
        env={"STUDIO_CACHE_DIR": str(cache)},
    )
    assert result.returncode == 1
    assert "neither JPEG nor PNG" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(cache.glob("takes/**/*.flac"))  # refused before a single take was made
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
