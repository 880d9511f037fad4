"""The `studio` command line: parses options, calls one function per command, prints results."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from studio.render import RenderResult

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
    device: DeviceOption = None,
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
            device=_device(device),
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
    device: DeviceOption = None,
) -> None:
    """Speak a phrase to a WAV file, to audition a pronunciation."""
    from studio.render import audition

    with _user_errors():
        lexicons = tuple(lexicon or ())
        spoken = audition(text, output, voice=voice, lexicons=lexicons, device=_device(device))
    console.print(f"[green]wrote[/] {output}  [dim]({spoken})[/]", highlight=False)


# --- voices commands (issue 3) ---

DeviceOption = Annotated[
    str | None,
    typer.Option(
        "--device", help="Where the model runs: auto (the GPU if any), cpu, cuda, cuda:N, mps."
    ),
]
voices_app = typer.Typer(
    help="Voice profiles (voices/<name>/voice.toml): list, check and add voices.",
    no_args_is_help=True,
)
app.add_typer(voices_app, name="voices")


def _device(device: str | None) -> str | None:
    from studio.engines.coqui import check_device

    return check_device(device)


@voices_app.command("list")
def voices_list() -> None:
    """Every voice --voice can name: engine, language, and whether it is ready (or why not)."""
    from studio.cache import default_cache_dir
    from studio.voices import list_voices

    with _user_errors():
        entries = list_voices(default_cache_dir())
    table = Table(box=None, pad_edge=False)
    for column in ("voice", "engine", "language", "status"):
        table.add_column(column, overflow="fold" if column == "status" else None)
    for entry in entries:
        engine = entry.profile.engine if entry.profile else "?"
        language = entry.profile.language if entry.profile else "?"
        status = "[green]ready[/]" if entry.ready else "[red]not ready[/]"
        if entry.detail:
            status += f": {entry.detail}"
        table.add_row(entry.name, engine, language, status)
    console.print(table, highlight=False)


@voices_app.command("check")
def voices_check(
    name: Annotated[str, typer.Argument(help="Voice profile name.")],
    calibrate: Annotated[
        bool, typer.Option(help="Synthesize a test passage to measure the voice's speaking rate.")
    ] = False,
    device: DeviceOption = None,
) -> None:
    """Check a voice's reference clips (length, sample rate, clipping, level, noise, breaths)."""
    from studio.cache import default_cache_dir
    from studio.clips import check_clips
    from studio.voices import calibrate_rate, find_voice, voice_status

    with _user_errors():
        profile = find_voice(name)
        problems = 0
        if profile.engine == "xtts":
            report = check_clips(profile.clips)
            for clip in report.clips:
                if not clip.seconds:  # missing or unreadable: nothing was measured
                    console.print(f"[red]fix:[/] {clip.problems[0]}", highlight=False)
                    continue
                console.print(
                    f"[bold]{clip.path.name}[/]  {clip.seconds:.1f} s, {clip.sample_rate} Hz, "
                    f"speech {clip.speech_dbfs:.0f} dBFS, noise floor {clip.noise_dbfs:.0f} dBFS, "
                    f"peak {clip.peak_dbfs:.1f} dBFS, {clip.breaths} breaths",
                    highlight=False,
                )
                for line in clip.problems:
                    console.print(f"  [red]fix:[/] {line}", highlight=False)
                for line in clip.advice:
                    console.print(f"  [yellow]consider:[/] {line}", highlight=False)
            console.print(f"total {report.total_seconds:.1f} s of reference audio", highlight=False)
            for line in report.problems:
                console.print(f"[red]fix:[/] {line}", highlight=False)
            for line in report.advice:
                console.print(f"[yellow]consider:[/] {line}", highlight=False)
            problems = len(report.problems) + sum(len(c.problems) for c in report.clips)
        else:
            console.print(f"{name} is a {profile.engine} voice: it has no reference clips")
        ready, detail = voice_status(profile, default_cache_dir())
        if ready and calibrate:
            rate = calibrate_rate(profile, default_cache_dir(), device=_device(device))
            console.print(
                f"speaking rate: {rate:.1f} characters per second; put "
                f"`chars_per_second = {rate:.1f}` in {name}'s voice.toml",
                highlight=False,
            )
        if not ready:
            raise StudioError(f"voice '{name}' is not ready: {detail}")
        if problems:
            raise StudioError(f"voice '{name}': {problems} clip problem(s) to fix (listed above)")
        console.print(f"[green]voice '{name}' is ready[/]" + (f" ({detail})" if detail else ""))


@voices_app.command("add")
def voices_add(
    name: Annotated[str, typer.Argument(help="Name for the new voice (lowercase, - and _).")],
    clips: Annotated[list[Path], typer.Argument(help="Reference clips of the voice: 6-30 s.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="XTTS v2 model folder, or a Coqui model name "
            "(default: tts_models/multilingual/multi-dataset/xtts_v2)."
        ),
    ] = None,
    language: Annotated[str, typer.Option(help="Language the voice reads.")] = "en",
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Voices folder (default: first of $STUDIO_VOICES, ./voices)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace a voice of the same name.")] = False,
) -> None:
    """Create an XTTS voice from clips: voices/NAME/voice.toml, with the clips copied beside it."""
    from studio.cache import default_cache_dir
    from studio.voices import add_voice, load_profile, voice_dirs, voice_status

    with _user_errors():
        target = folder or voice_dirs()[0]
        path = add_voice(name, clips, folder=target, model=model, language=language, force=force)
        console.print(f"[green]wrote[/] {path}", highlight=False)
        ready, detail = voice_status(load_profile(path), default_cache_dir())
        if ready:
            console.print(f"ready: render with --voice {name}", highlight=False)
        else:
            console.print(f"[yellow]not ready yet:[/] {detail}", highlight=False, soft_wrap=True)
        console.print(f"check the clips with: studio voices check {name}", highlight=False)


# --- clean command (issue 4) ---


@app.command()
def clean(
    source: Annotated[
        Path, typer.Argument(metavar="IN", help="Recording to clean: WAV, FLAC or MP3.")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="OUT", help="Cleaned file: .wav, .flac or .mp3."),
    ],
    mode: Annotated[
        str,
        typer.Option(
            help="attenuate: lower each breath to the noise floor, timing kept; "
            "remove: replace it with room tone; cut: lower it and shorten the pause."
        ),
    ] = "attenuate",
    report: Annotated[
        Path | None, typer.Option(help="Write the breaths found (JSON) to this file.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.png",
            help="Draw the waveform and spectrogram, each breath shaded with its dB removed "
            "(needs matplotlib: the plot extra).",
        ),
    ] = None,
    floor_cleanup: Annotated[
        float,
        typer.Option(
            help="Also gate the noise floor (noisereduce, stationary): 0 off, 0.5 gentle."
        ),
    ] = 0.0,
) -> None:
    """Find audible breaths in a recording and lower, replace or cut them; words stay intact."""
    from studio.breath import BreathSettings
    from studio.cleaning import clean_file

    with _user_errors():
        settings = BreathSettings.model_validate({"mode": mode, "floor_cleanup": floor_cleanup})
        result = clean_file(source, output, settings, report_path=report, plot_path=plot)
    summary = result.report
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("cleaned", str(result.target))
    table.add_row("breaths", summary.summary())
    if summary.events:
        longest = max(summary.events, key=lambda e: e.duration)
        table.add_row(
            "levels",
            f"{min(e.level_db for e in summary.events):.0f} to "
            f"{max(e.level_db for e in summary.events):.0f} dBFS; longest "
            f"{longest.duration * 1000:.0f} ms at {longest.start:.2f} s",
        )
    if report is not None:
        table.add_row("report", str(report))
    if plot is not None:
        table.add_row("picture", str(plot))
    table.add_row(
        "time", f"{result.seconds:.1f} s ({summary.duration / result.seconds:.0f}x real time)"
    )
    console.print(table, highlight=False)


# --- show commands: init, build, feed (issue 5) ---

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The show's studio.toml, or the folder holding it."),
]


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder for the new show (created if needed).")],
    title: Annotated[str | None, typer.Option(help="The show's title.")] = None,
    author: Annotated[str | None, typer.Option(help="The show's author.")] = None,
) -> None:
    """Create a show: studio.toml, a sample essay, a starter lexicon and a cover."""
    from studio.show import init_show

    with _user_errors():
        written = init_show(folder, title=title, author=author)
    for path in written:
        console.print(f"[green]wrote[/] {path}", highlight=False)
    console.print(
        f"next: set base_url and the owner's email in {folder / 'studio.toml'}, "
        f"then run: studio build --config {folder}",
        highlight=False,
    )


@app.command()
def build(
    config: ConfigOption = Path("studio.toml"),
    only: Annotated[str | None, typer.Option(help="Build just the essay with this slug.")] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Essays rendered at once (processes).")
    ] = 1,
    force: Annotated[bool, typer.Option(help="Render even if outputs are up to date.")] = False,
) -> None:
    """Render every essay of a show that is not a draft, then write its cover and feed.xml."""
    from studio.show import build as build_show
    from studio.show import load_show

    with _user_errors():
        show = load_show(config)
        with _build_progress() as report_progress:
            report = build_show(show, only=only, jobs=jobs, force=force, progress=report_progress)
        counts = {
            status: sum(1 for outcome in report.outcomes if outcome.status == status)
            for status in ("rendered", "up to date", "failed")
        }
        summary = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        drafts = f"; {report.drafts} drafts left out" if report.drafts else ""
        console.print(f"{len(report.outcomes)} essays: {summary or 'none'}{drafts}")
        _print_feed(report.feed)
        failed = report.failed
        if failed:
            names = ", ".join(outcome.slug for outcome in failed)
            raise StudioError(f"{len(failed)} of {len(report.outcomes)} essays failed: {names}")


@app.command()
def feed(config: ConfigOption = Path("studio.toml")) -> None:
    """Rewrite only feed.xml (and the cover) from the episodes already built."""
    from studio.show import feed_only, load_show

    with _user_errors():
        _print_feed(feed_only(load_show(config)))


@contextlib.contextmanager
def _build_progress() -> Iterator[object]:
    """A live display for a build: one bar for the show, one per essay being rendered."""
    from studio.show import BuildEvent

    bar = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, object] = {}
    finished: set[str] = set()
    overall = bar.add_task("show", total=None, unit="essays", audio="")

    def report(event: BuildEvent) -> None:
        if event.kind == "planned":
            bar.update(overall, total=event.total)
        elif event.kind == "segments" and event.slug not in finished:
            if event.slug not in tasks:
                tasks[event.slug] = bar.add_task(event.slug, total=None, unit="segments", audio="")
            bar.update(
                tasks[event.slug],
                completed=event.done,
                total=event.total,
                audio=f"{event.seconds:6.1f} s audio",
            )
        elif event.kind == "done" and event.outcome is not None:
            finished.add(event.slug)
            if event.slug in tasks:
                bar.remove_task(tasks.pop(event.slug))
            bar.advance(overall)
            _print_outcome(event.outcome)

    with bar:
        yield report


def _print_outcome(outcome: object) -> None:
    from studio.show import EssayOutcome

    assert isinstance(outcome, EssayOutcome)
    if outcome.status == "failed":
        console.print(
            f"[red]failed[/]     {outcome.slug}: {outcome.error}", highlight=False, soft_wrap=True
        )
        return
    minutes, seconds = divmod(outcome.duration, 60)
    detail = f"{int(minutes)}:{seconds:04.1f}"
    if outcome.status == "rendered":
        detail += f", {outcome.synthesized} takes synthesized, {outcome.seconds:.1f} s"
    colour = "green" if outcome.status == "rendered" else "dim"
    console.print(f"[{colour}]{outcome.status:<10}[/] {outcome.slug} ({detail})", highlight=False)


def _print_feed(report: object) -> None:
    from studio.show import FeedReport

    assert isinstance(report, FeedReport)
    state = "wrote" if report.changed else "unchanged"
    console.print(f"{state} {report.path} ({report.episodes} episodes)", highlight=False)
    if report.missing:
        console.print(
            f"[yellow]not in the feed yet[/] (not built): {', '.join(report.missing)}",
            highlight=False,
        )


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


def _print_summary(result: RenderResult) -> None:
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
    table.add_row("breaths", f"{result.breaths} cleaned")
    table.add_row("also", ", ".join(p.name for k, p in result.outputs.items() if k != "mp3"))
    table.add_row("time", f"{result.timings.get('total', 0):.1f} s")
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
