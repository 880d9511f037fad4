"""The proof page (`<slug>.qc.html`): one self-contained HTML file, no network, works from
`file://`. The episode's player (the MP3 embedded), a waveform and level picture with chapter
marks and flagged segments, the flagged segments first (each with a play button for just that
segment, the spoken text beside what was heard with differences marked, and the command that
re-takes it), then every segment in order.

Rendered with Jinja2 (autoescaped: essay text and heard words are user text).
"""

from __future__ import annotations

import base64
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

if TYPE_CHECKING:
    from studio.check.episode import CheckReport, SegmentCheck

# Past this size the MP3 is linked (beside the page) rather than embedded in it.
EMBED_MAX_BYTES = 40 * 1024 * 1024
WIDTH, WAVE_HEIGHT, LEVEL_HEIGHT = 1200, 120, 60
LEVEL_FLOOR_DB = -60.0
_MIME = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg"}


def retake_command(report: CheckReport, indices: list[int]) -> str:
    words = ["studio", "retake", str(report.essay), *map(str, indices)]
    if report.show_config is not None:
        words += ["--config", str(report.show_config)]  # it knows the rest
    else:
        if report.out_dir != Path("out"):
            words += ["--out", str(report.out_dir)]
        if report.voice:
            words += ["--voice", report.voice]
    for lexicon in report.lexicons:
        words += ["--lexicon", str(lexicon)]
    return shlex.join(words)


def audio_source(path: Path, page_dir: Path) -> str:
    """A data: URL of the audio, or its path relative to the page when it is too big to embed."""
    size = path.stat().st_size
    mime = _MIME.get(path.suffix.lower(), "audio/mpeg")
    if size <= EMBED_MAX_BYTES:
        return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    try:
        return path.resolve().relative_to(page_dir.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def proof_page(report: CheckReport, audio_path: Path) -> str:
    environment = Environment(
        loader=PackageLoader("studio.check", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("proof.html")
    flagged = [s for s in report.segments if s.flags]
    return template.render(
        report=report,
        flagged=flagged,
        segments=report.segments,
        source=audio_source(audio_path, report.folder),
        picture=_picture(report),
        width=WIDTH,
        wave_height=WAVE_HEIGHT,
        level_height=LEVEL_HEIGHT,
        retake=lambda s: retake_command(report, [s.index]),
        retake_all=retake_command(report, [s.index for s in flagged]) if flagged else "",
        diff=_diff,
        clock=_clock,
        chapter_titles=[c[0] for c in report.chapters],
    )


def _picture(report: CheckReport) -> dict[str, Any]:
    pic = report.picture
    seconds = report.duration or 1.0
    if pic is None or not pic.high:
        return {"wave": "", "level": "", "chapters": [], "flagged": [], "seconds": seconds}
    n = len(pic.high)
    x = [round(i * WIDTH / max(1, n - 1), 1) for i in range(n)]
    mid = WAVE_HEIGHT / 2
    top = [f"{x[i]},{round(mid - pic.high[i] * mid, 1)}" for i in range(n)]
    bottom = [f"{x[i]},{round(mid - pic.low[i] * mid, 1)}" for i in reversed(range(n))]
    span = -LEVEL_FLOOR_DB

    def level_y(db: float) -> float:
        return round(LEVEL_HEIGHT * min(1.0, max(0.0, -db / span)), 1)

    level = " ".join(f"{x[i]},{level_y(pic.level_db[i])}" for i in range(n))
    scale = WIDTH / seconds
    chapters = [
        {"x": round(start * scale, 1), "title": title or "Opening"}
        for title, start, _ in report.chapters
    ]
    flagged = [
        {
            "x": round(s.start * scale, 1),
            "w": max(2.0, round((s.end - s.start) * scale, 1)),
            "index": s.index,
            "flags": ", ".join(s.flags),
        }
        for s in report.segments
        if s.flags
    ]
    return {
        "wave": " ".join(top + bottom),
        "level": level,
        "chapters": chapters,
        "flagged": flagged,
        "seconds": seconds,
    }


def _diff(segment: SegmentCheck) -> dict[str, list[dict[str, str]]]:
    """The spoken and the heard words, each marked: ok, missed (said, not heard), wrong (heard
    as another word), extra (heard, never said)."""
    said: list[dict[str, str]] = []
    heard: list[dict[str, str]] = []
    for pair in segment.pairs:
        if pair.op == "ok":
            said.append({"word": pair.said, "kind": "ok"})
            if pair.heard:
                heard.append({"word": pair.heard, "kind": "ok"})
        elif pair.op == "sub":
            said.append({"word": pair.said, "kind": "wrong", "as": pair.heard})
            heard.append({"word": pair.heard, "kind": "wrong"})
        elif pair.op == "del":
            said.append({"word": pair.said, "kind": "missed"})
        else:
            heard.append({"word": pair.heard, "kind": "extra"})
    return {"said": said, "heard": heard}


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"
