"""The `studio` command line: parses options, calls one function per command, prints results."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from studio.config import RenderSettings
from studio.errors import StudioError
from studio.voices import DEFAULT_VOICE

app = typer.Typer(
    help="Turn written essays into podcast-ready narration.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

VoiceOption = Annotated[str, typer.Option("--voice", "-v", help="Voice profile name.")]
LexiconOption = Annotated[
    list[Path] | None,
    typer.Option("--lexicon", "-l", help="Pronunciation lexicon (TOML); repeatable."),
]


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except StudioError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        errors.print(f"[bold red]error:[/] {field}: {first['msg']}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("interrupted: nothing half-written was left behind")
        raise typer.Exit(130) from None


@app.command()
def render(
    essay: Annotated[Path, typer.Argument(help="Essay file: .md, .html or .txt.")],
    voice: VoiceOption = DEFAULT_VOICE,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    bitrate: Annotated[int, typer.Option(help="MP3 bitrate in kbps (CBR).")] = 96,
    lexicon: LexiconOption = None,
    cover: Annotated[Path | None, typer.Option(help="Cover image (JPEG or PNG).")] = None,
    force: Annotated[bool, typer.Option(help="Render even if outputs are up to date.")] = False,
) -> None:
    """Render one essay to DIR/<slug>.mp3 with chapters, captions and a manifest."""
    from studio.render import RenderRequest
    from studio.render import render as render_essay

    with _user_errors():
        request = RenderRequest(
            essay=essay,
            out_dir=out,
            voice=voice,
            settings=RenderSettings(bitrate=bitrate),
            lexicons=tuple(lexicon or ()),
            cover=cover,
            force=force,
        )
        with _progress() as bar:
            task = bar.add_task("synthesizing", total=None, audio="")

            def report(done: int, total: int, seconds: float) -> None:
                bar.update(task, completed=done, total=total, audio=f"{seconds:6.1f} s audio")

            result = render_essay(request, progress=report)
        _print_summary(result)


@app.command()
def script(
    essay: Annotated[Path, typer.Argument(help="Essay file: .md, .html or .txt.")],
    voice: VoiceOption = DEFAULT_VOICE,
    lexicon: LexiconOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Print the spoken script without synthesizing anything."""
    from studio.render import RenderRequest, prepare

    with _user_errors():
        request = RenderRequest(
            essay=essay, out_dir=Path("."), voice=voice, lexicons=tuple(lexicon or ())
        )
        from studio.cache import default_cache_dir

        spoken = prepare(request, default_cache_dir()).script
    if as_json:
        payload = {
            "title": spoken.title,
            "chapters": [
                {
                    "title": c.title,
                    "segments": [{"text": s.text, "source": s.source} for s in c.segments],
                }
                for c in spoken.chapters
            ],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for chapter in spoken.chapters:
        console.rule(chapter.title, style="cyan")
        for segment in chapter.segments:
            console.print(segment.text, highlight=False)


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="Text to speak, normalized as in an essay.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="WAV file to write.")],
    voice: VoiceOption = DEFAULT_VOICE,
    lexicon: LexiconOption = None,
) -> None:
    """Speak a phrase to a WAV file, to audition a pronunciation."""
    from studio.render import audition

    with _user_errors():
        spoken = audition(text, output, voice=voice, lexicons=tuple(lexicon or ()))
    console.print(f"[green]wrote[/] {output}  [dim]({spoken})[/]", highlight=False)


# --- voices commands (issue 3) ---


# --- clean command (issue 4) ---


# --- show commands: init, build, feed (issue 5) ---


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("segments"),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _print_summary(result: object) -> None:
    from studio.render import RenderResult

    assert isinstance(result, RenderResult)
    minutes, seconds = divmod(result.duration, 60)
    if result.up_to_date:
        console.print(
            f"[green]up to date[/] {result.outputs['mp3']} "
            f"({int(minutes)}:{seconds:04.1f}); use --force to render again"
        )
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("episode", str(result.outputs["mp3"]))
    table.add_row("duration", f"{int(minutes)}:{seconds:04.1f}")
    table.add_row(
        "segments",
        f"{result.segments} ({result.synthesized} synthesized, {result.cache_hits} from cache)",
    )
    table.add_row(
        "loudness", f"{result.integrated_lufs:.1f} LUFS, true peak {result.true_peak_dbtp:.1f} dBTP"
    )
    table.add_row("also", ", ".join(p.name for k, p in result.outputs.items() if k != "mp3"))
    table.add_row("time", f"{result.timings.get('total', 0):.1f} s")
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
