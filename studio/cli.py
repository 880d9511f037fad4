"""The `studio` command line: parses options, calls one function per command, prints results."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from studio import __version__
from studio.breath import BreathSettings
from studio.cache import default_cache_dir
from studio.cleaning import clean_file
from studio.clips import check_clips
from studio.config import MP3_BITRATES_KBPS, RenderSettings, describe_validation_error
from studio.engines.coqui import check_device
from studio.errors import StudioError
from studio.show.config import Show, load_show
from studio.voices import (
    DEFAULT_VOICE,
    add_voice,
    calibrate_rate,
    find_voice,
    list_voices,
    load_profile,
    voice_dirs,
    voice_status,
)

if TYPE_CHECKING:
    from studio.render import RenderResult
    from studio.show.build import BuildEvent, EssayOutcome
    from studio.show.feed import FeedReport
    from studio.show.ray_build import RayOptions
    from studio.show.site import SiteReport
    from studio.upload.publish import PublishReport

app = typer.Typer(
    help="Turn written essays into podcast-ready narration.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def main() -> None:
    """The `studio` command (console script and `python -m studio`)."""
    command = typer.main.get_command(app)
    # Help text only, through typer's parameter objects: should a typer release change them,
    # help shows typer's own labels again rather than studio failing to start.
    with contextlib.suppress(AttributeError, TypeError):
        _plain_metavars(command)
    command(prog_name="studio")


def _plain_metavars(command: Any) -> None:
    """Help that says what an option takes (PATH, INTEGER), never a Python type: typer labels
    options `<list[Path]>` and gives flags, --help too, a `<bool>` to type after them."""
    ctx = command.context_class(command)
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option else [])]:
        word = _type_word(param.display_type(ctx))
        if param.param_type_name == "argument":  # its metavar is its name, in the usage line
            param.metavar = param.metavar or param.name.upper()
            param.display_type_rich = lambda ctx, word=word: word
        elif param.metavar is None:
            param.metavar = "" if param.is_flag else word
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def _type_word(label: str) -> str:
    """`<list[Path]>` -> PATH, `<int range>` -> INTEGER, `<a|b>` stays a|b."""
    label = label.strip("<>").removeprefix("list[").removesuffix("]")
    if "|" in label:
        return label
    words = {"path": "PATH", "str": "TEXT", "int": "INTEGER", "float": "NUMBER"}
    return words.get(label.split()[0].lower(), label.upper())


def _show_version(value: bool) -> None:
    if value:
        _say(f"studio {__version__}")
        raise typer.Exit()


@app.callback()
def _studio(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Turn written essays into podcast-ready narration."""


VoiceOption = Annotated[str, typer.Option("--voice", "-v", help="Voice profile name.")]
LexiconOption = Annotated[
    list[Path] | None,
    typer.Option("--lexicon", "-l", help="Pronunciation lexicon (TOML); repeatable."),
]


Part = str | tuple[str, str]


def _say(*parts: Part, out: Console | None = None, one_line: bool = False) -> None:
    """Print a line. A plain string is printed exactly as it is, never read as Rich markup: user
    text (a path like `notes[draft].md`, a title with `[/b]`) goes through here and nowhere
    else. A `(text, style)` pair is studio's own styled word."""
    (out or console).print(Text.assemble(*parts), soft_wrap=one_line)


def _cells(*values: object) -> list[Text]:
    """Table cells that print as they are (see `_say`)."""
    return [value if isinstance(value, Text) else Text(str(value)) for value in values]


@contextlib.contextmanager
def _user_errors(code: int = 1) -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit status `code` (1; `check` uses
    2, as 1 means "flagged" there), never a traceback."""
    try:
        yield
    except StudioError as error:
        _say(("error:", "bold red"), f" {error}", out=errors, one_line=True)
        raise typer.Exit(code) from None
    except ValidationError as error:
        message = describe_validation_error(error)
        _say(("error:", "bold red"), f" {message}", out=errors, one_line=True)
        raise typer.Exit(code) from None
    except KeyboardInterrupt:
        _say("interrupted: nothing half-written was left behind", out=errors)
        raise typer.Exit(130) from None


@app.command()
def render(
    essay: Annotated[Path, typer.Argument(help="Essay file: .md, .html or .txt.")],
    voice: VoiceOption = DEFAULT_VOICE,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    bitrate: Annotated[
        int,
        typer.Option(
            metavar="KBPS",
            help=f"MP3 bitrate in kbps (CBR): one of {', '.join(map(str, MP3_BITRATES_KBPS))}.",
        ),
    ] = 96,
    lexicon: LexiconOption = None,
    cover: Annotated[Path | None, typer.Option(help="Cover image (JPEG or PNG).")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render even if outputs are up to date.")
    ] = False,
    device: DeviceOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Then listen to it (studio check) and re-take flagged segments with new seeds, "
            "up to the voice's max_attempts; exit 1 if any stay flagged.",
        ),
    ] = False,
) -> None:
    """Render one essay to DIR/<slug>.mp3 with chapters, captions and a manifest."""
    # Deferred, here and below: studio.render imports the whole pipeline (~0.3 s).
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
            task = bar.add_task("preparing", total=None, audio="")

            def report(done: int, total: int, seconds: float) -> None:
                making = _report_takes(bar, task, done, total, seconds)
                bar.update(task, description="synthesizing" if making else "loading voice")

            if not check:
                result = render_essay(request, progress=report)
            else:
                from studio.check.retakes import render_checked

                def retrying(takes: int, attempt: int, attempts: int) -> None:
                    what = f"re-taking {takes} flagged (attempt {attempt} of {attempts})"
                    bar.update(task, description=what)

                checked = render_checked(request, progress=report, on_retry=retrying)
                result = checked.render
        _print_summary(result)
    if check:
        for index, tries in checked.tries.items():
            scores = ", ".join(f"{t['score']:.2f}" for t in tries)
            _say(f"re-took #{index}: {len(tries)} attempts (scores {scores})")
        _print_check(checked.report)
        if checked.report.flagged:
            raise typer.Exit(1)


@app.command()
def script(
    essay: Annotated[Path, typer.Argument(help="Essay file: .md, .html or .txt.")],
    voice: VoiceOption = DEFAULT_VOICE,
    lexicon: LexiconOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Print the spoken script without synthesizing anything."""
    from studio.render import RenderRequest, prepare  # deferred: ~0.3 s, see render()

    with _user_errors():
        request = RenderRequest(
            essay=essay, out_dir=Path("."), voice=voice, lexicons=tuple(lexicon or ())
        )
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
        console.rule(Text(chapter.title), style="cyan")
        for segment in chapter.segments:
            _say(segment.text)


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="Text to speak, normalized as in an essay.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="WAV file to write.")],
    voice: VoiceOption = DEFAULT_VOICE,
    lexicon: LexiconOption = None,
    device: DeviceOption = None,
) -> None:
    """Speak a phrase to a WAV file, to audition a pronunciation."""
    from studio.render import audition  # deferred: ~0.3 s, see render()

    with _user_errors():
        lexicons = tuple(lexicon or ())
        spoken = audition(text, output, voice=voice, lexicons=lexicons, device=_device(device))
    _say(("wrote", "green"), f" {output}  ", (f"({spoken})", "dim"))


ShowOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The episode is a show's (studio build): its studio.toml, or the folder holding "
        "it; ESSAY may then be the essay's slug.",
    ),
]


def _episode_request(
    essay: Path, out: Path | None, config: Path | None, lexicons: tuple[Path, ...]
) -> tuple[Any, Any]:
    """The episode's render request: a show's as `studio build` makes it (and the show), or a
    plain one in `out`."""
    from studio.render import RenderRequest

    if config is None:
        return RenderRequest(essay, out or Path("out"), lexicons=lexicons), None
    if out is not None:
        raise StudioError("--out and --config name the episode twice: give one of them")
    from studio.check.shows import show_episode

    show = show_episode(config, essay, lexicons=lexicons)
    return show.request, show


@app.command()
def check(
    essay: Annotated[Path, typer.Argument(help="Essay file the episode was rendered from.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder the episode is in (default: out).")
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(help="Check this MP3/WAV/FLAC of the episode instead of DIR/<slug>.mp3."),
    ] = None,
    voice: Annotated[
        str | None, typer.Option("--voice", "-v", help="Voice profile (default: the render's).")
    ] = None,
    lexicon: LexiconOption = None,
    whisper: Annotated[
        Path | None,
        typer.Option(
            metavar="MODEL_DIR",
            help="Listen with faster-whisper (studio's whisper extra) and this local "
            "CTranslate2 model folder instead of pocketsphinx.",
        ),
    ] = None,
    config: ShowOption = None,
) -> None:
    """Listen to a rendered episode and flag segments not said as written.

    Writes DIR/<slug>.qc.json and a proof page DIR/<slug>.qc.html (a show's: in .studio/check/).
    Exit 0 clean, 1 flagged, 2 bad input.
    """
    from studio.check.episode import CheckRequest, check_episode

    with _user_errors(code=2):
        render_request, show = _episode_request(essay, out, config, tuple(lexicon or ()))
        request = CheckRequest(
            essay=render_request.essay,
            out_dir=render_request.out_dir,
            audio=audio,
            voice=voice,
            lexicons=render_request.lexicons,
            whisper=whisper,
            manifest_dir=render_request.manifest_dir,
            settings=render_request.settings,
            report_dir=show.report_dir if show else None,
            show_config=show.config if show else None,
        )
        with console.status("listening", spinner="dots"):
            report = check_episode(request)
    _print_check(report)
    raise typer.Exit(1 if report.flagged else 0)


@app.command()
def retake(
    essay: Annotated[Path, typer.Argument(help="Essay file the episode was rendered from.")],
    segments: Annotated[
        list[int], typer.Argument(help="Segment numbers, as the manifest and proof page show.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder the episode is in (default: out).")
    ] = None,
    voice: Annotated[
        str | None, typer.Option("--voice", "-v", help="Voice profile (default: the render's).")
    ] = None,
    lexicon: LexiconOption = None,
    config: ShowOption = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, max=2**31 - 1, help="Seed of the new takes (default: the next one)."),
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Synthesize chosen segments again with a new seed and rebuild the episode from the cache."""
    from studio.check.retakes import retake as retake_segments

    with _user_errors():
        where = _device(device)
        render_request, show = _episode_request(essay, out, config, tuple(lexicon or ()))
        with _progress() as bar:
            task = bar.add_task("re-taking", total=None, audio="")

            def report(done: int, total: int, seconds: float) -> None:
                _report_takes(bar, task, done, total, seconds)

            result = retake_segments(
                render_request.essay,
                segments,
                out_dir=render_request.out_dir,
                voice=voice,
                lexicons=tuple(lexicon or ()),
                seed=seed,
                progress=report,
                device=where,
                request=show.request if show else None,
            )
    taken = ", ".join(f"#{i} (seed {s})" for i, s in result.seeds.items())
    _say(("re-took", "green"), f" {taken}")
    _print_summary(result.render)
    if show is not None:
        _say(f"the feed and site still describe the old take: run studio build --config {config}")


def _print_check(report: Any) -> None:
    if report.stale:
        _say(
            ("warning:", "yellow"),
            " the essay or voice changed since this episode was rendered: render it again",
            out=errors,
        )
    flagged = [s for s in report.segments if s.flags]
    if flagged:
        table = Table(box=None, pad_edge=False)
        for column in ("#", "at", "flags", "why", "text"):
            table.add_column(column, overflow="fold")
        for s in flagged:
            minutes, seconds = divmod(s.start, 60)
            table.add_row(
                *_cells(
                    s.index,
                    f"{int(minutes)}:{seconds:04.1f}",
                    " ".join(s.flags),
                    s.reasons[0],
                    s.text,
                )
            )
        console.print(table)
    listened = f"listened to {report.listened} of {len(report.segments)} segments"
    took = report.timings.get("total", 0.0)
    verdict = ("clean", "green") if not flagged else (f"{len(flagged)} flagged", "bold red")
    _say(
        verdict,
        f" ({len(report.segments)} segments; {listened} in {took:.1f} s)",
    )
    _say(f"wrote {report.paths['json']} and {report.paths['html']}")


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
    return check_device(device)


@voices_app.command("list")
def voices_list() -> None:
    """Every voice --voice can name: engine, language, and whether it is ready (or why not)."""
    with _user_errors():
        entries = list_voices(default_cache_dir())
    table = Table(box=None, pad_edge=False)
    for column in ("voice", "engine", "language", "status"):
        table.add_column(column, overflow="fold" if column == "status" else None)
    for entry in entries:
        engine = entry.profile.engine if entry.profile else "?"
        language = entry.profile.language if entry.profile else "?"
        status = Text.assemble(
            ("ready", "green") if entry.ready else ("not ready", "red"),
            f": {entry.detail}" if entry.detail else "",
        )
        table.add_row(*_cells(entry.name, engine, language, status))
    console.print(table)


@voices_app.command("check")
def voices_check(
    name: Annotated[str, typer.Argument(help="Voice profile name.")],
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate", help="Synthesize a test passage to measure the voice's speaking rate."
        ),
    ] = False,
    device: DeviceOption = None,
) -> None:
    """Check a voice's reference clips (length, sample rate, clipping, level, noise, breaths)."""
    with _user_errors():
        profile = find_voice(name)
        problems = 0
        if profile.engine == "xtts":
            report = check_clips(profile.clips)
            for clip in report.clips:
                if not clip.seconds:  # missing or unreadable: nothing was measured
                    _say(("fix:", "red"), f" {clip.problems[0]}")
                    continue
                _say(
                    (clip.path.name, "bold"),
                    f"  {clip.seconds:.1f} s, {clip.sample_rate} Hz, "
                    f"speech {clip.speech_dbfs:.0f} dBFS, noise floor {clip.noise_dbfs:.0f} dBFS, "
                    f"peak {clip.peak_dbfs:.1f} dBFS, {clip.breaths} breaths",
                )
                for line in clip.problems:
                    _say("  ", ("fix:", "red"), f" {line}")
                for line in clip.advice:
                    _say("  ", ("consider:", "yellow"), f" {line}")
            _say(f"total {report.total_seconds:.1f} s of reference audio")
            for line in report.problems:
                _say(("fix:", "red"), f" {line}")
            for line in report.advice:
                _say(("consider:", "yellow"), f" {line}")
            problems = len(report.problems) + sum(len(c.problems) for c in report.clips)
        else:
            _say(f"{name} is a {profile.engine} voice: it has no reference clips")
        ready, detail = voice_status(profile, default_cache_dir())
        if ready and calibrate:
            rate = calibrate_rate(profile, default_cache_dir(), device=_device(device))
            _say(
                f"speaking rate: {rate:.1f} characters per second; put "
                f"`chars_per_second = {rate:.1f}` in {name}'s voice.toml"
            )
        if not ready:
            raise StudioError(f"voice '{name}' is not ready: {detail}")
        if problems:
            raise StudioError(f"voice '{name}': {problems} clip problem(s) to fix (listed above)")
        _say((f"voice '{name}' is ready", "green"), f" ({detail})" if detail else "")


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
    force: Annotated[
        bool, typer.Option("--force", help="Replace a voice of the same name.")
    ] = False,
) -> None:
    """Create an XTTS voice from clips: voices/NAME/voice.toml, with the clips copied beside it."""
    with _user_errors():
        target = folder or voice_dirs()[0]
        path = add_voice(name, clips, folder=target, model=model, language=language, force=force)
        _say(("wrote", "green"), f" {path}")
        ready, detail = voice_status(load_profile(path), default_cache_dir())
        if ready:
            _say(f"ready: render with --voice {name}")
        else:
            _say(("not ready yet:", "yellow"), f" {detail}", one_line=True)
        _say(f"check the clips with: studio voices check {name}")


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
    with _user_errors():
        settings = BreathSettings.model_validate({"mode": mode, "floor_cleanup": floor_cleanup})
        result = clean_file(source, output, settings, report_path=report, plot_path=plot)
    summary = result.report
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row(*_cells("cleaned", result.target))
    table.add_row(*_cells("breaths", summary.summary()))
    if summary.events:
        longest = max(summary.events, key=lambda e: e.duration)
        table.add_row(
            "levels",
            f"{min(e.level_db for e in summary.events):.0f} to "
            f"{max(e.level_db for e in summary.events):.0f} dBFS; longest "
            f"{longest.duration * 1000:.0f} ms at {longest.start:.2f} s",
        )
    if report is not None:
        table.add_row(*_cells("report", report))
    if plot is not None:
        table.add_row(*_cells("picture", plot))
    table.add_row(
        "time", f"{result.seconds:.1f} s ({summary.duration / result.seconds:.0f}x real time)"
    )
    console.print(table, highlight=False)


# --- show commands: init, build, feed (issue 5) ---

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The show's studio.toml, or the folder holding it."),
]
AllowRemovalsOption = Annotated[
    bool,
    typer.Option(
        "--allow-removals",
        help="Let feed.xml drop episodes it publishes now (they vanish from apps).",
    ),
]
AllowOutsideOption = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Let the config name essays, lexicons, the cover or the output outside its folder.",
    ),
]


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder for the new show (created if needed).")],
    title: Annotated[str | None, typer.Option(help="The show's title.")] = None,
    author: Annotated[str | None, typer.Option(help="The show's author.")] = None,
) -> None:
    """Create a show: studio.toml, a sample essay, a starter lexicon and a cover."""
    from studio.show.init import init_show  # deferred: Pillow, for the cover (~40 ms)

    with _user_errors():
        written = init_show(folder, title=title, author=author)
    for path in written:
        _say(("wrote", "green"), f" {path}")
    _say(
        f"next: set base_url and the owner's email in {folder / 'studio.toml'}, "
        f"then run: studio build --config {folder}"
    )


@app.command()
def build(
    config: ConfigOption = Path("studio.toml"),
    only: Annotated[str | None, typer.Option(help="Build just the essay with this slug.")] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Essays rendered at once (processes).")
    ] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Render even if outputs are up to date.")
    ] = False,
    allow_removals: AllowRemovalsOption = False,
    allow_outside: AllowOutsideOption = False,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            metavar="local|ray",
            help="local: this machine (--jobs); ray: a Ray cluster (needs studio's ray extra).",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="With --executor ray: the running cluster's head, host:port "
            "(default: a local Ray started for this build)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="With --executor ray: synthesis workers per voice, each one CPU (one GPU for a "
            "voice on cuda); default: as many as the cluster has.",
        ),
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Render every essay of a show that is not a draft, then write its cover, feed.xml and site."""
    from studio.show.build import build as build_show  # deferred: render's ~0.3 s

    with _user_errors():
        ray = _ray_options(executor, address, workers, jobs)
        show = load_show(config, allow_outside=allow_outside)
        _warn_placeholders(show)
        progress = _cluster_progress if ray is not None else _build_progress
        with progress() as report_progress:
            report = build_show(
                show,
                only=only,
                jobs=jobs,
                force=force,
                progress=report_progress,
                allow_removals=allow_removals,
                device=_device(device),
                ray=ray,
            )
        counts = {
            status: sum(1 for outcome in report.outcomes if outcome.status == status)
            for status in ("rendered", "up to date", "failed")
        }
        summary = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        drafts = f"; {report.drafts} drafts left out" if report.drafts else ""
        _say(f"{len(report.outcomes)} essays: {summary or 'none'}{drafts}")
        _print_feed(report.feed)
        _print_site(report.site)
        failed = report.failed
        if failed:
            names = ", ".join(outcome.slug for outcome in failed)
            raise StudioError(f"{len(failed)} of {len(report.outcomes)} essays failed: {names}")


def _ray_options(
    executor: str, address: str | None, workers: int | None, jobs: int
) -> RayOptions | None:
    """The cluster options, or None for a local build; a misplaced option is refused."""
    if executor == "local":
        if address is not None or workers is not None:
            option = "--address" if address is not None else "--workers"
            raise StudioError(f"{option} is for --executor ray")
        return None
    if executor != "ray":
        raise StudioError(f"unknown executor '{executor}': use local or ray")
    if jobs != 1:
        raise StudioError("--jobs is for --executor local: with ray, --workers sets the width")
    from studio.show.ray_build import RayOptions  # imports no Ray until the build runs

    return RayOptions(address=address, workers=workers)


@app.command()
def feed(
    config: ConfigOption = Path("studio.toml"),
    allow_removals: AllowRemovalsOption = False,
    allow_outside: AllowOutsideOption = False,
) -> None:
    """Rewrite only feed.xml (and the cover) from the episodes already built."""
    from studio.show.feed import feed_only  # deferred: ingest, lxml and Pillow (~0.25 s)

    with _user_errors():
        show = load_show(config, allow_outside=allow_outside)
        _warn_placeholders(show)
        _print_feed(feed_only(show, allow_removals=allow_removals))


@app.command()
def publish(
    config: ConfigOption = Path("studio.toml"),
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="DEST",
            help="Where to upload (instead of publish.to): a folder, user@host:/path "
            "(rsync over SSH) or s3://bucket/prefix; repeatable.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be uploaded; change nothing.")
    ] = False,
    delete: Annotated[
        bool | None,
        typer.Option(
            "--delete/--no-delete",
            help="Delete remote files studio published that the output no longer has, once "
            "the new feed is live (default: publish.delete; else keep them).",
        ),
    ] = None,
    allow_removals: Annotated[
        bool,
        typer.Option(
            "--allow-removals",
            help="Replace a live feed that publishes episodes the output's feed lacks.",
        ),
    ] = False,
    allow_outside: AllowOutsideOption = False,
) -> None:
    """Upload the output folder: changed files only, the feed last, after every file it names."""
    from studio.upload.publish import PublishEvent, publish_show  # deferred: lxml, boto3

    def report(event: PublishEvent) -> None:
        _say((f"{event.kind:<9}", "green" if event.kind == "uploaded" else "yellow"),
             f" {event.path}", one_line=True)  # fmt: skip

    with _user_errors():
        show = load_show(config, allow_outside=allow_outside)
        if dry_run:
            _warn_placeholders(show)
        reports = publish_show(
            show,
            to=to,
            dry_run=dry_run,
            delete=delete,
            allow_removals=allow_removals,
            on_event=report,
        )
    for result in reports:
        _print_publish(result)


def _print_publish(result: PublishReport) -> None:
    where = str(result.destination)
    if result.dry_run:
        for file in result.to_upload:
            why = "new" if file in result.new else "changed"
            _say(("would upload", "cyan"), f" {file.path} ({why}, {_size(file.size)})",
                 one_line=True)  # fmt: skip
        for path in result.deleted:
            _say(("would delete", "yellow"), f" {path}", one_line=True)
    count = len(result.new) + len(result.changed)
    size = _size(sum(file.size for file in result.to_upload))
    if count == 0:
        summary = f"{where}: up to date ({result.unchanged} files unchanged)"
    else:
        verb = "would upload" if result.dry_run else "uploaded"
        summary = (
            f"{where}: {verb} {count} files ({size}; {len(result.new)} new, "
            f"{len(result.changed)} changed), {result.unchanged} unchanged"
        )
        if any(file.path == "feed.xml" for file in result.to_upload):
            summary += ", the feed last"
    if result.deleted and not result.dry_run:
        summary += f"; deleted {len(result.deleted)}"
    _say(summary, one_line=True)
    if result.kept:
        _say(
            ("kept", "yellow"),
            f" {len(result.kept)} remote files the output no longer has "
            f"({_some(result.kept)}); --delete removes them",
            one_line=True,
        )
    if result.foreign:
        _say(
            f"left alone: {len(result.foreign)} remote files studio did not publish there "
            f"({_some(result.foreign)})",
            one_line=True,
        )


def _some(paths: tuple[str, ...]) -> str:
    return ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")


def _size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"


def _warn_placeholders(show: Show) -> None:
    """Loudly, on stdout (errors alone go to stderr): the feed is not ready to publish."""
    from studio.show.init import placeholders

    for line in placeholders(show):
        _say(("warning:", "bold yellow"), f" {line}: change it before publishing", one_line=True)


@contextlib.contextmanager
def _build_progress() -> Iterator[Callable[[BuildEvent], None]]:
    """A live display for a build: one bar for the show, one per essay being rendered."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
        _TakesEta(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}
    finished: set[str] = set()
    overall = bar.add_task("show", total=None, unit="essays", audio="")

    def report(event: BuildEvent) -> None:
        if event.kind == "planned":
            bar.update(overall, total=event.total, pace_from=(time.monotonic(), 0))
        elif event.kind == "segments" and event.slug not in finished:
            if event.slug not in tasks:
                tasks[event.slug] = bar.add_task(event.slug, total=None, unit="", audio="")
            task = tasks[event.slug]
            making = _report_takes(bar, task, event.done, event.total, event.seconds)
            bar.update(task, unit="segments" if making else "segments (loading voice)")
        elif event.kind == "done" and event.outcome is not None:
            finished.add(event.slug)
            if event.slug in tasks:
                bar.remove_task(tasks.pop(event.slug))
            bar.advance(overall)
            if event.outcome.status == "up to date":  # done at once: no part of the pace
                since, done_then = bar.tasks[bar.task_ids.index(overall)].fields["pace_from"]
                bar.update(overall, pace_from=(since, done_then + 1))
            _print_outcome(event.outcome)

    with bar:
        yield report


@contextlib.contextmanager
def _cluster_progress() -> Iterator[Callable[[BuildEvent], None]]:
    """A live display for a cluster build: one bar for every take of the build, fed by the
    workers as takes land, with each essay's line printed as it is done."""
    bar = _progress("takes")
    task = bar.add_task("show", total=None, audio="")

    def report(event: BuildEvent) -> None:
        if event.kind == "takes":
            _report_takes(bar, task, event.done, event.total, event.seconds)
        elif event.kind == "done" and event.outcome is not None:
            _print_outcome(event.outcome)

    with bar:
        yield report


def _print_outcome(outcome: EssayOutcome) -> None:
    if outcome.status == "failed":
        _say(("failed", "red"), f"     {outcome.slug}: {outcome.error}", one_line=True)
        return
    minutes, seconds = divmod(outcome.duration, 60)
    detail = f"{int(minutes)}:{seconds:04.1f}"
    if outcome.status == "rendered":
        detail += f", {outcome.synthesized} takes synthesized, {outcome.seconds:.1f} s"
    colour = "green" if outcome.status == "rendered" else "dim"
    _say((f"{outcome.status:<10}", colour), f" {outcome.slug} ({detail})")


def _print_feed(report: FeedReport) -> None:
    state = "wrote" if report.changed else "unchanged"
    _say(f"{state} {report.path} ({report.episodes} episodes)")
    if report.kept:
        _say(("kept as last published", "yellow"), f" (failed this time): {', '.join(report.kept)}")
    if report.removed:
        _say(("dropped from the feed", "yellow"), f": {', '.join(report.removed)}")
    if report.missing:
        _say(("not in the feed yet", "yellow"), f" (not built): {', '.join(report.missing)}")


def _print_site(report: SiteReport | None) -> None:
    if report is None:
        return
    state = "wrote" if report.changed else "unchanged"
    _say(f"{state} {report.index} ({report.pages} episode pages)")
    if report.removed:
        _say(("removed", "yellow"), f" pages no episode has: {', '.join(report.removed)}")
    for slug, snippet in report.snippets:
        _say(("embed", "cyan"), f" {slug}: {snippet}", one_line=True)


def _progress(unit: str = "segments") -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
        _TakesEta(),
        console=console,
        transient=True,
    )


def _report_takes(bar: Progress, task: TaskID, done: int, total: int, seconds: float) -> bool:
    """Show an essay's takes on its bar; whether takes are being made yet (before the first,
    the voice is loading, or every take was cached)."""
    fields = bar.tasks[bar.task_ids.index(task)].fields
    first = fields.get("cached_takes", done)
    pace_from = fields.get("pace_from")
    if pace_from is None and done > first:
        pace_from = (time.monotonic(), done)
    bar.update(
        task,
        completed=done,
        total=total,
        audio=f"{seconds:6.1f} s audio",
        cached_takes=first,
        pace_from=pace_from,
    )
    return pace_from is not None


class _TakesEta(ProgressColumn):
    """Time left at the pace takes have been made since the first one. Rich's own estimate
    counted the cached takes as made at once and the voice's loading as synthesis time."""

    def render(self, task: Task) -> Text:
        pace_from = task.fields.get("pace_from")
        if task.finished or pace_from is None or task.total is None:
            return Text("")
        since, done_then = pace_from
        made = task.completed - done_then
        if made < 2:  # takes come in pairs from a parallel voice: one is no pace yet
            return Text("eta …", style="progress.remaining")
        left = (time.monotonic() - since) / made * (task.total - task.completed)
        minutes, secs = divmod(round(left), 60)
        return Text(f"eta {minutes}:{secs:02d}", style="progress.remaining")


def _print_summary(result: RenderResult) -> None:
    minutes, seconds = divmod(result.duration, 60)
    if result.up_to_date:
        _say(
            ("up to date", "green"),
            f" {result.outputs['mp3']} ({int(minutes)}:{seconds:04.1f});",
            " use --force to render again",
        )
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row(*_cells("episode", result.outputs["mp3"]))
    table.add_row("duration", f"{int(minutes)}:{seconds:04.1f}")
    table.add_row(
        "segments",
        f"{result.segments} ({result.synthesized} synthesized, {result.cache_hits} from cache)",
    )
    table.add_row(
        "loudness", f"{result.integrated_lufs:.1f} LUFS, true peak {result.true_peak_dbtp:.1f} dBTP"
    )
    table.add_row("breaths", f"{result.breaths} cleaned")
    table.add_row(
        *_cells("also", ", ".join(p.name for k, p in result.outputs.items() if k != "mp3"))
    )
    table.add_row("time", f"{result.timings.get('total', 0):.1f} s")
    console.print(table)


@app.command()
def words(
    essay: Annotated[Path, typer.Argument(help="Essay file: .md, .html or .txt.")],
    voice: VoiceOption = DEFAULT_VOICE,
    lexicon: LexiconOption = None,
    builtin_lexicon: Annotated[
        bool, typer.Option(help="Count studio's built-in lexicon as known.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """List words the voice is likely to get wrong, with how each is said now and a lexicon line."""
    from studio.ingest import load_essay
    from studio.render import open_voice
    from studio.speech.lexicon import Lexicon
    from studio.speech.words import find_words

    with _user_errors():
        lexicons = tuple(lexicon or ())
        _, engine, voicing = open_voice(
            voice, lexicons, default_cache_dir(), builtin=builtin_lexicon
        )
        phonemize = _phonemizer(engine) if voicing.accepts_ipa else None
        report = find_words(
            load_essay(essay),
            voicing.lexicon or Lexicon.empty(),
            allow_ipa=voicing.accepts_ipa,
            phonemize=phonemize,
        )
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    table = Table(box=None, pad_edge=False)
    for column in ("word", "why", "times", "said now", "lexicon.toml line"):
        table.add_column(column, overflow="fold")
    for flagged in report.flagged:  # Text: user words are never read as Rich markup
        said = f"{flagged.said}  /{flagged.phonemes}/" if flagged.phonemes else flagged.said
        cells = (flagged.word, flagged.reason, str(flagged.count), said, flagged.line)
        table.add_row(*_cells(*cells))
    console.print(table)
    _say(
        f"{len(report.flagged)} words flagged in {report.words} "
        f"({report.per_thousand_words:.1f} per 1,000 words)"
    )


def _phonemizer(engine: object) -> Callable[[str], str] | None:
    """The bundled voice's own espeak-ng phonemes, to show how it would say a word."""
    from studio.engines.bundled import BundledEngine, phonemize

    if not isinstance(engine, BundledEngine):
        return None
    voice = engine.espeak_voice
    return lambda text: "".join(phonemize(text, voice)).strip()


if __name__ == "__main__":  # pragma: no cover
    main()
