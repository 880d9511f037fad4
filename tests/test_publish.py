"""The published files: one CBR MP3 with ID3v2.3 chapters, and the JSON/WebVTT/SRT sidecars."""

from __future__ import annotations

import itertools
import json
import math
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile as sf
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3, BitrateMode

import studio.publish.mp3 as mp3_module
from studio.errors import StudioError
from studio.master import master
from studio.publish.mp3 import Id3Tags
from studio.publish.sidecars import chapters_json, srt, webvtt
from studio.timeline import assemble
from studio.types import ChapterMark, Episode, Placement, Script, ScriptChapter, Segment, Take
from tests.mp3 import read_chapters, write_mp3
from tests.signals import speech_like

TITLE = "Small Machines"


def take(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A speech-like take with one hot click and short silence either side."""
    return speech_like(seconds, rate, seed=seed, lead=0.2, trail=0.2, clicks=1)


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def episode() -> Episode:
    chapters = (
        ScriptChapter("", (Segment("Intro.", "Intro", 0.6), Segment("More.", "More", 0.5))),
        ScriptChapter("Cost", (Segment("Cost.", "Cost", 0.7), Segment("Cheap.", "Cheap", 0.5))),
        ScriptChapter("Speed", (Segment("Speed.", "Speed", 0.6), Segment("Fast.", "Fast", 0.4))),
    )
    takes = [Take(take(2.0 + i % 3, 22050, seed=i), 22050) for i in range(6)]
    return master(assemble(Script(TITLE, chapters), takes))


@pytest.fixture(scope="module")
def tags(tmp_path_factory: pytest.TempPathFactory) -> Id3Tags:
    cover = tmp_path_factory.mktemp("cover") / "cover.png"
    cover.write_bytes(png_bytes())
    return Id3Tags(
        title=TITLE,
        artist="Ada Brook",
        album="Essays, Read Aloud",
        date="2026-11-28",
        description="A short essay about small models.",
        cover=cover,
    )


@pytest.fixture(scope="module")
def published(episode: Episode, tags: Id3Tags, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("out") / "small-machines.mp3"
    write_mp3(episode, path, tags=tags, bitrate_kbps=96)
    return path


def short_episode(seconds: float = 2.0, rate: int = 44100) -> Episode:
    audio = take(seconds, rate, seed=99) * 0.5
    return Episode(audio, rate, (), (ChapterMark("", 0.0, len(audio) / rate),))


# the audio


def test_mp3_decodes_to_the_same_length_44k1_mono(episode: Episode, published: Path) -> None:
    audio, rate = sf.read(published, dtype="float32")
    assert rate == 44100
    assert audio.ndim == 1
    assert len(audio) == len(episode.audio)
    info = MP3(published).info
    assert info.channels == 1
    assert info.length == pytest.approx(episode.duration, abs=1e-6)


def test_mp3_is_constant_bitrate(episode: Episode, published: Path) -> None:
    info = MP3(published).info
    # libsndfile writes a LAME "Info" header, which mutagen reads as CBR
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.bitrate == 96_000
    audio_bytes = published.stat().st_size - ID3(published).size
    assert audio_bytes == pytest.approx(episode.duration * 96_000 / 8, rel=0.05)


@pytest.mark.parametrize("kbps", [56, 128, 320])
def test_each_bitrate_is_exact_cbr(kbps: int, tmp_path: Path) -> None:
    episode = short_episode()
    path = tmp_path / "short.mp3"
    write_mp3(episode, path, tags=Id3Tags(title="Short"), bitrate_kbps=kbps)
    info = MP3(path).info
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.bitrate == pytest.approx(kbps * 1000, rel=0.001)  # mutagen rounds a short file
    assert sf.info(path).frames == len(episode.audio)


def test_decoded_mp3_keeps_loudness_and_true_peak(published: Path) -> None:
    audio, rate = sf.read(published, dtype="float64")
    assert pyloudnorm.Meter(rate).integrated_loudness(audio) == pytest.approx(-16, abs=1.0)
    oversampled = scipy.signal.resample_poly(audio, 4, 1)
    assert 20 * math.log10(np.abs(oversampled).max()) <= -1.0


# the tags


def test_id3_is_version_2_3_with_the_episode_details(published: Path, tags: Id3Tags) -> None:
    raw = ID3(published, translate=False)
    assert raw.version == (2, 3, 0)
    assert str(raw["TIT2"]) == TITLE
    assert str(raw["TPE1"]) == "Ada Brook"
    assert str(raw["TALB"]) == "Essays, Read Aloud"
    assert str(raw["TYER"]) == "2026"
    assert str(raw["TDAT"]) == "2811"  # DDMM
    assert "TDRC" not in raw  # a v2.4 frame
    (comment,) = raw.getall("COMM")
    assert comment.text == ["A short essay about small models."]
    (cover,) = raw.getall("APIC")
    assert cover.mime == "image/png"
    assert cover.type == 3  # front cover
    assert cover.data == png_bytes()
    assert str(ID3(published)["TDRC"]) == "2026-11-28"  # as players that upgrade read it


def test_chapters_are_contiguous_chap_frames_under_one_ordered_toc(
    episode: Episode, published: Path
) -> None:
    tags = ID3(published)
    chapters = sorted(tags.getall("CHAP"), key=lambda chap: chap.start_time)
    assert [c.element_id for c in chapters] == ["chp0", "chp1", "chp2"]
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == [TITLE, "Cost", "Speed"]
    assert chapters[0].start_time == 0
    for before, after in itertools.pairwise(chapters):
        assert before.end_time == after.start_time
    assert chapters[-1].end_time == round(MP3(published).info.length * 1000)
    for chap, mark in zip(chapters, episode.chapters, strict=True):
        assert chap.start_time == round(mark.start * 1000)

    (toc,) = tags.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED == 3
    assert list(toc.child_element_ids) == ["chp0", "chp1", "chp2"]
    assert str(toc.sub_frames["TIT2"]) == TITLE


def _ffprobe_chapters(path: Path) -> list[tuple[str, float]]:
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        (chapter["tags"]["title"], float(chapter["start_time"]))
        for chapter in json.loads(shown.stdout)["chapters"]
    ]


def test_chap_frames_are_stored_in_time_order(episode: Episode, published: Path) -> None:
    # The titles differ in length, so saving by size alone would store "Cost" first.
    stored = [chap.element_id for chap in ID3(published).getall("CHAP")]
    assert stored == ["chp0", "chp1", "chp2"]
    starts = [round(mark.start, 3) for mark in episode.chapters]
    listed = _ffprobe_chapters(published)
    assert [title for title, _ in listed] == [TITLE, "Cost", "Speed"]
    assert [start for _, start in listed] == pytest.approx(starts, abs=0.002)


def test_chapters_survive_ffmpeg_conversion_to_m4a(
    episode: Episode, published: Path, tmp_path: Path
) -> None:
    # What podcast hosts do on upload; a scrambled CHAP order gave a 1 ms chapter here.
    converted = tmp_path / "episode.m4a"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(published), "-vn", "-c:a", "aac", str(converted)],
        check=True,
    )
    listed = _ffprobe_chapters(converted)
    assert [title for title, _ in listed] == [TITLE, "Cost", "Speed"]
    starts = [mark.start for mark in episode.chapters]
    assert [start for _, start in listed] == pytest.approx(starts, abs=0.05)


def test_read_chapters_returns_the_marks(episode: Episode, published: Path) -> None:
    marks = read_chapters(published)
    assert [m.title for m in marks] == [TITLE, "Cost", "Speed"]
    for read, mark in zip(marks, episode.chapters, strict=True):
        assert read.start == pytest.approx(mark.start, abs=0.0005)
        assert read.end == pytest.approx(mark.end, abs=0.0005)


def test_jpeg_cover_and_no_chapters(tmp_path: Path) -> None:
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    episode = Episode(short_episode().audio, 44100, (), ())
    path = tmp_path / "plain.mp3"
    write_mp3(episode, path, tags=Id3Tags(title="Plain", cover=cover))
    tags = ID3(path)
    assert tags.getall("APIC")[0].mime == "image/jpeg"
    assert tags.getall("CHAP") == [] and tags.getall("CTOC") == []
    assert read_chapters(path) == ()


# failures


@pytest.mark.parametrize("kbps", [100, 0, 32, 48])
def test_unsupported_bitrate_is_refused(kbps: int, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match=f"{kbps} kbps.*use one of 56, 64"):
        write_mp3(short_episode(), tmp_path / "x.mp3", tags=Id3Tags(title="X"), bitrate_kbps=kbps)
    assert list(tmp_path.iterdir()) == []


def test_unsupported_sample_rate_and_bad_date_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="22050 Hz"):
        write_mp3(short_episode(rate=22050), tmp_path / "x.mp3", tags=Id3Tags(title="X"))
    with pytest.raises(StudioError, match="YYYY-MM-DD"):
        write_mp3(short_episode(), tmp_path / "x.mp3", tags=Id3Tags(title="X", date="28/11/26"))
    assert list(tmp_path.iterdir()) == []


def test_a_cover_that_is_not_an_image_is_refused_before_encoding(tmp_path: Path) -> None:
    cover = tmp_path / "cover.gif"
    cover.write_bytes(b"GIF89a")
    with pytest.raises(StudioError, match="neither JPEG nor PNG"):
        write_mp3(short_episode(), tmp_path / "x.mp3", tags=Id3Tags(title="X", cover=cover))
    with pytest.raises(StudioError, match="Cannot read the cover"):
        write_mp3(
            short_episode(), tmp_path / "x.mp3", tags=Id3Tags(title="X", cover=tmp_path / "no")
        )
    assert [p.name for p in tmp_path.iterdir()] == ["cover.gif"]


def test_a_failure_after_encoding_leaves_no_temporary_file_and_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "episode.mp3"
    path.write_bytes(b"the previous good episode")

    def broken_tagging(*args: object) -> None:
        raise RuntimeError("disk full while tagging")

    monkeypatch.setattr(mp3_module, "_id3_tag", broken_tagging)
    with pytest.raises(RuntimeError, match="disk full"):
        write_mp3(short_episode(), path, tags=Id3Tags(title="X"))
    assert [p.name for p in tmp_path.iterdir()] == ["episode.mp3"]
    assert path.read_bytes() == b"the previous good episode"


def test_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match=r"Cannot write .*missing.*folder exists"):
        write_mp3(short_episode(), tmp_path / "missing" / "x.mp3", tags=Id3Tags(title="X"))
    assert list(tmp_path.iterdir()) == []


# sidecars


def sidecar_episode() -> Episode:
    placements = (
        Placement(0.4, 2.1234, "Hello there.", "Hello there."),
        # rounding would overlap the cue before: 2.1234 rounds up to 2.123, 2.1226 to 2.123
        Placement(
            2.1226,
            6.5,
            "A seven B model costs fifteen dollars a month to run.",
            "A 7B model costs <$15> & more per month to run, which is cheaper than a coffee "
            "a week.",
        ),
        Placement(6.9, 6.9, "", ""),  # a take that trimmed to nothing: no cue
        Placement(3725.5, 3727.25, "Speed.", "Speed"),
    )
    chapters = (
        ChapterMark("", 0.0, 2.0),
        ChapterMark("Cost", 2.0, 3725.30012),
        ChapterMark("Speed", 3725.30012, 3728.25),
    )
    return Episode(np.zeros(10, dtype=np.float32), 44100, placements, chapters)


def test_chapters_json_is_podcasting_2_0() -> None:
    document = json.loads(chapters_json(sidecar_episode(), title=TITLE))
    assert document == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "endTime": 2.0, "title": TITLE},
            {"startTime": 2.0, "endTime": 3725.3, "title": "Cost"},
            {"startTime": 3725.3, "endTime": 3728.25, "title": "Speed"},
        ],
    }


def test_webvtt_has_one_cue_per_spoken_segment_in_the_writers_words() -> None:
    assert webvtt(sidecar_episode()) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.400 --> 00:00:02.123\n"
        "Hello there.\n"
        "\n"
        "00:00:02.123 --> 00:00:06.500\n"
        "A 7B model costs &lt;$15&gt; &amp; more per month to\n"
        "run, which is cheaper than a coffee a\n"
        "week.\n"
        "\n"
        "01:02:05.500 --> 01:02:07.250\n"
        "Speed\n"
    )


def test_srt_numbers_its_cues_and_uses_a_decimal_comma() -> None:
    assert srt(sidecar_episode()) == (
        "1\n"
        "00:00:00,400 --> 00:00:02,123\n"
        "Hello there.\n"
        "\n"
        "2\n"
        "00:00:02,123 --> 00:00:06,500\n"
        "A 7B model costs <$15> & more per month to\n"
        "run, which is cheaper than a coffee a\n"
        "week.\n"
        "\n"
        "3\n"
        "01:02:05,500 --> 01:02:07,250\n"
        "Speed\n"
    )


def test_captions_of_a_real_episode_follow_its_placements(episode: Episode) -> None:
    vtt = webvtt(episode)
    assert vtt.startswith("WEBVTT\n\n")
    assert vtt.count(" --> ") == len(episode.placements)
    start = round(episode.placements[0].start * 1000)
    assert f"\n00:00:{start // 1000:02d}.{start % 1000:03d} --> " in vtt
