"""Files published beside the MP3: Podcasting 2.0 chapters (JSON) and captions (WebVTT, SRT).

Pure functions from an Episode to text; writing the files is the caller's business.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Sequence

from studio.types import Episode, Placement, Timeline

CHAPTERS_VERSION = "1.2.0"
CAPTION_LINE_CHARS = 42  # the usual broadcast caption width


def chapters_json(episode: Episode | Timeline, *, title: str) -> str:
    """Podcasting 2.0 JSON chapters; an untitled chapter (the opening) is called `title`."""
    chapters = [
        {
            "startTime": round(mark.start, 3),
            "endTime": round(mark.end, 3),
            "title": mark.title or title,
        }
        for mark in episode.chapters
    ]
    document = {"version": CHAPTERS_VERSION, "chapters": chapters}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def webvtt(episode: Episode | Timeline) -> str:
    """WebVTT captions: one cue per spoken segment, in the essay's own words."""
    cues = [
        f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{_vtt_escape(text)}\n"
        for start, end, text in _cues(episode)
    ]
    return "\n".join(["WEBVTT\n", *cues])


def srt(episode: Episode | Timeline) -> str:
    """SubRip captions: one numbered cue per spoken segment, in the essay's own words."""
    cues = [
        f"{number}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n"
        f"{text.replace('-->', '->')}\n"
        for number, (start, end, text) in enumerate(_cues(episode), 1)
    ]
    return "\n".join(cues)


def _cues(episode: Episode | Timeline) -> Iterator[tuple[int, int, str]]:
    """(start ms, end ms, text wrapped to caption lines) of each caption."""
    for _, start, end, words in caption_cues(episode.placements):
        lines = textwrap.wrap(
            words, CAPTION_LINE_CHARS, break_long_words=False, break_on_hyphens=False
        )
        yield start, end, "\n".join(lines)


def caption_cues(placements: Sequence[Placement]) -> Iterator[tuple[int, int, int, str]]:
    """(placement index, start ms, end ms, words) per placement that has words and a duration:
    the captions, unwrapped (the show's site reads its transcript from them too).

    Captions show the writer's words (`source`), not the spoken form, so they read like the
    essay. Times are clamped so rounding can never make two cues overlap.
    """
    previous_end = 0
    for index, placement in enumerate(placements):
        words = " ".join((placement.source or placement.text).split())
        start = max(round(placement.start * 1000), previous_end)
        end = round(placement.end * 1000)
        if not words or end <= start:
            continue
        previous_end = end
        yield index, start, end, words


def _timestamp(milliseconds: int, decimal_separator: str) -> str:
    seconds, millis = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_separator}{millis:03d}"


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: a bare & or < starts an entity or tag, and "-->" ends the cue.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
