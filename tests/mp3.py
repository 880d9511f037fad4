"""MP3 helpers the tests share: a whole episode written in one go, and its chapters read back."""

from __future__ import annotations

from pathlib import Path

import mutagen.id3 as id3
import numpy as np

from studio.publish.mp3 import Id3Tags, Mp3Writer
from studio.types import ChapterMark, Episode


def write_mp3(episode: Episode, path: Path, *, tags: Id3Tags, bitrate_kbps: int = 96) -> None:
    """Encode `episode` once, as constant-bitrate mono MP3, tag it, and move it into `path`.

    Chapters become one CHAP per ChapterMark ("chp0", "chp1", …, in ms, contiguous, the last
    ending at the duration) under one ordered top-level CTOC; an untitled chapter takes the
    episode's title. The file appears at `path` only once it is complete.
    """
    audio = np.asarray(episode.audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"write_mp3 expects mono audio, got shape {audio.shape}")
    with Mp3Writer(path, episode.sample_rate, tags=tags, bitrate_kbps=bitrate_kbps) as writer:
        writer.write(audio)
        writer.finish(episode)


def read_chapters(path: Path) -> tuple[ChapterMark, ...]:
    """The chapters of an MP3's top-level table of contents, in order (empty if it has none).

    Times are in seconds, as stored (whole ms); an untitled CHAP reads as "".
    """
    try:
        tags = id3.ID3(path)
    except id3.ID3NoHeaderError:
        return ()
    tables = [toc for toc in tags.getall("CTOC") if toc.flags & id3.CTOCFlags.TOP_LEVEL]
    if not tables:
        return ()
    chapters = {chap.element_id: chap for chap in tags.getall("CHAP")}
    marks = []
    for element_id in tables[0].child_element_ids:
        chap = chapters.get(element_id)
        if chap is None:  # a dangling id in someone else's file
            continue
        title = chap.sub_frames.get("TIT2")
        marks.append(
            ChapterMark(
                title=str(title) if title is not None else "",
                start=chap.start_time / 1000,
                end=chap.end_time / 1000,
            )
        )
    return tuple(marks)
