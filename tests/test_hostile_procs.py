"""Processes, interrupts and the command line under careless or hostile use: Ctrl-C, kill -9,
two renders at once, brackets in paths, broken samples, and what --help says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.progress import Progress

from studio import __version__
from studio.cache import TakeCache
from studio.cli import _report_takes, _TakesEta
from studio.config import MP3_BITRATES_KBPS
from studio.files import sweep_stale
from studio.voices import DEFAULT_VOICE
from tests.conftest import run_studio
from tests.test_cli import assert_one_line_error

pytestmark = pytest.mark.slow  # every test runs the studio command in a fresh process

# Several sentences, so that a signal sent once the first take is cached lands mid-synthesis.
ESSAY = """# Careless hands

A render can be stopped at any moment by its impatient owner. The takes already made must stay
in the cache for the next run. Nothing half written may be left behind in the output folder.
The synthesis worker must not outlive the render that started it. A second attempt should make
only the takes that are still missing. And the listener should never hear the difference.
"""

# Longer, so that an orphaned worker would still be busy two seconds after the kill.
LONG_ESSAY = (
    ESSAY
    + """
## Later

Some listeners start an episode on the train and finish it at home. Others skip the opening and
jump straight to the chapter they care about. A few of them read along with the captions on.
Every one of them deserves the same calm voice from start to finish. The producer checks the
loudness once and then trusts the numbers. The writer only wants to publish and move on.
"""
)


def _popen_render(essay: Path, out: Path, cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "render", str(essay), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "STUDIO_CACHE_DIR": str(cache), "NO_COLOR": "1"},
        start_new_session=True,  # its own process group, as a terminal's foreground job is
        # Ctrl-C acts as it does at a terminal even when these tests run as a background job,
        # whose children start with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _raw_takes(cache: Path) -> set[str]:
    """Keys of the sound raw takes in the cache (cleaned takes record their breaths)."""
    takes = TakeCache(cache)
    return {
        flac.stem
        for flac in cache.rglob("*.flac")
        if not flac.name.startswith(".")
        and "breaths" not in takes.meta(flac.stem)
        and takes.has(flac.stem)
    }


def _wait_for_first_take(render: subprocess.Popen[str], cache: Path) -> None:
    deadline = time.monotonic() + 300
    while not _raw_takes(cache):
        assert render.poll() is None, render.communicate()
        assert time.monotonic() < deadline, "no take was made in 5 minutes"
        time.sleep(0.05)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap the killed)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _survivors(family: set[int], grace: float = 2.0) -> list[int]:
    """The processes of `family` still running `grace` seconds from now (or as soon as none)."""
    deadline = time.monotonic() + grace
    while (alive := [pid for pid in family if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _hidden(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob(".*")]


def _render_mid_synthesis(
    tmp_path: Path, text: str
) -> tuple[subprocess.Popen[str], Path, Path, Path, set[int]]:
    """A render started and caught once its first take is cached: it, its essay, cache and
    output folders, and its child processes."""
    essay = tmp_path / "careless.md"
    essay.write_text(text)
    cache, out = tmp_path / "cache", tmp_path / "out"
    render = _popen_render(essay, out, cache)
    _wait_for_first_take(render, cache)
    return render, essay, cache, out, _descendants(render.pid)


def _leftovers(*folders: Path) -> list[Path]:
    return _hidden(*folders) + [p for folder in folders for p in folder.rglob("*.claim")]


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process table from /proc")
@pytest.mark.parametrize("whole_group", [True, False], ids=["ctrl-c", "kill-int"])
def test_an_interrupt_is_one_line_prompt_and_keeps_finished_takes(
    tmp_path: Path, whole_group: bool
) -> None:
    # Ctrl-C reaches the whole foreground group: the worker printed a 17-line traceback.
    # `kill -INT` of the render alone waited ~10.8 s for the worker to finish its work.
    render, _, cache, out, family = _render_mid_synthesis(tmp_path, ESSAY)
    made = _raw_takes(cache)
    sent = time.monotonic()
    (os.killpg if whole_group else os.kill)(render.pid, signal.SIGINT)
    stdout, stderr = render.communicate(timeout=60)
    took = time.monotonic() - sent

    assert render.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1:] == [
        "interrupted: nothing half-written was left behind"
    ], stderr
    assert "Traceback" not in stdout + stderr and "KeyboardInterrupt" not in stderr, stderr
    assert took < 5.0, f"the interrupt took {took:.1f} s"
    assert not _survivors(family)
    assert made <= _raw_takes(cache)  # every finished take is still there, and sound
    assert not _hidden(out)


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process table from /proc")
def test_kill_9_leaves_no_process_and_the_next_render_makes_only_what_is_missing(
    tmp_path: Path,
) -> None:
    render, essay, cache, out, family = _render_mid_synthesis(tmp_path, LONG_ESSAY)
    assert family, "the render started no synthesis worker"
    render.kill()
    render.wait()  # not communicate(): an orphaned worker would hold the output pipes open
    assert not _survivors(family), "a process of the render outlived it by 2 s"

    made = _raw_takes(cache)
    script = run_studio("script", str(essay), "--json")
    segments = sum(len(c["segments"]) for c in json.loads(script.stdout)["chapters"])
    assert 0 < len(made) < segments, "the kill did not land mid-synthesis"
    # What a killed run leaves: a partial take (as the worker's pid names it), a half-written MP3
    # and a claim nobody holds. A file named for a live process is a live run's: it stays.
    partial = cache / "takes" / "ab" / f".{'ab' * 32}.tmp{2**22 + 1}.x1y2z3w4.flac"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"fLaC half")
    (out / f".careless.tmp{2**22 + 1}.abcdefgh.mp3").write_bytes(b"ID3 half")
    (partial.parent / f"{'ab' * 32}.claim").touch()
    live = out / f".careless.tmp{os.getpid()}.abcdefgh.mp3"
    live.write_bytes(b"ID3 live")

    again = run_studio(
        "render", str(essay), "--out", str(out), env={"STUDIO_CACHE_DIR": str(cache)}
    )
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "careless.json").read_text())
    assert manifest["cache"]["synthesized"] == segments - len(made)
    assert _leftovers(out, cache) == [live]


def test_two_renders_at_once_share_the_takes(tmp_path: Path) -> None:
    essay = tmp_path / "careless.md"
    essay.write_text(ESSAY)
    cache = tmp_path / "cache"
    renders = [_popen_render(essay, tmp_path / name, cache) for name in ("one", "two")]
    for render in renders:
        _, stderr = render.communicate(timeout=900)
        assert render.returncode == 0, stderr
    made = [
        json.loads((tmp_path / name / "careless.json").read_text())["cache"]["synthesized"]
        for name in ("one", "two")
    ]
    segments = len(json.loads((tmp_path / "one" / "careless.json").read_text())["segments"])
    assert sum(made) == segments, f"takes made by each render: {made} of {segments}"
    one, two = (tmp_path / name / "careless.mp3" for name in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    assert not _leftovers(cache)


def test_a_stale_temp_file_is_told_from_a_live_one(tmp_path: Path) -> None:
    dead = tmp_path / f".take.tmp{2**22 + 1}.abcdefgh.flac"
    live = tmp_path / f".take.tmp{os.getpid()}.abcdefgh.flac"
    old = tmp_path / ".take.q7w8e9r0.flac"  # from before names carried a pid
    fresh = tmp_path / ".take.a1s2d3f4.flac"
    for path in (dead, live, old, fresh):
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert sweep_stale(tmp_path.iterdir()) == 2
    assert sorted(tmp_path.iterdir()) == sorted([live, fresh])


@pytest.mark.parametrize("name", ["notes[draft].md", "a[/b]c.md", "[bold]x[/].md"])
def test_brackets_in_a_path_are_printed_as_they_are(tmp_path: Path, name: str) -> None:
    result = run_studio("render", str(tmp_path / name))
    assert_one_line_error(result, f"essay not found: {tmp_path / name}")


def test_brackets_in_an_essay_are_printed_as_they_are(tmp_path: Path) -> None:
    essay = tmp_path / "[draft] notes.md"
    essay.write_text("# The [b]loud[/b] part\n\nSay [red]this[/] and [/i] that.\n")
    result = run_studio("script", str(essay))
    assert result.returncode == 0, result.stderr
    assert "The [b]loud[/b] part" in result.stdout


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_clean_refuses_nan_or_infinite_samples(tmp_path: Path, bad: float) -> None:
    rate = 22050
    audio = np.random.default_rng(7).normal(0, 0.05, (rate * 2, 2)).astype(np.float32)
    audio[rate + 50, 1] = bad
    source, target = tmp_path / "broken.wav", tmp_path / "clean.wav"
    sf.write(source, audio, rate, subtype="FLOAT")
    result = run_studio("clean", str(source), "-o", str(target))
    assert_one_line_error(result, "broken.wav", "NaN or infinite", "1.00 s")
    assert not target.exists()
    assert not _hidden(tmp_path)


def test_version() -> None:
    result = run_studio("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"studio {__version__}"


@pytest.mark.parametrize(
    "command",
    [
        ["render"],
        ["script"],
        ["say"],
        ["clean"],
        ["init"],
        ["build"],
        ["feed"],
        ["words"],
        ["voices", "list"],
        ["voices", "check"],
        ["voices", "add"],
        [],
    ],
    ids=lambda command: " ".join(command) or "studio",
)
def test_help_names_what_options_take_not_python_types(command: list[str]) -> None:
    result = run_studio(*command, "--help")
    assert result.returncode == 0, result.stderr
    for python_type in ("<bool>", "<list[", "<str>", "<int", "<path>", "<float>", "--no-force"):
        assert python_type not in result.stdout, result.stdout
    if command == ["render"]:
        assert ", ".join(map(str, MP3_BITRATES_KBPS)) in " ".join(result.stdout.split())


def test_an_unknown_voice_offers_only_voices_that_are_ready(tmp_path: Path) -> None:
    unready = tmp_path / "voices" / "unready"
    unready.mkdir(parents=True)
    (unready / "voice.toml").write_text(
        f'engine = "xtts"\nmodel = "{tmp_path / "no-model"}"\n'
        f'clips = ["{tmp_path / "no-clip.wav"}"]\n'
    )
    env = {"STUDIO_VOICES": str(tmp_path / "voices")}
    listed = run_studio("voices", "list", env=env)
    assert "unready" in listed.stdout and "not ready" in listed.stdout, listed.stdout
    essay = tmp_path / "any.md"
    essay.write_text("# Any\n\nSomething to read.\n")
    result = run_studio("script", str(essay), "--voice", "nope", env=env)
    assert_one_line_error(result, "unknown voice 'nope'", DEFAULT_VOICE, "studio voices list")
    assert "unready" not in result.stderr


def test_the_eta_runs_at_the_pace_of_takes_made_not_cached_or_loading() -> None:
    bar = Progress()
    task = bar.add_task("render", total=None, audio="")
    # 40 of 50 takes were cached: rich counted them as made in no time, and an ETA near zero.
    assert not _report_takes(bar, task, 40, 50, 100.0)
    assert _report_takes(bar, task, 41, 50, 102.5)  # the first take made, after the voice loaded
    column = _TakesEta()
    state = bar.tasks[0]
    assert column.render(state).plain == "eta …"  # one take is no pace yet
    since, _ = state.fields["pace_from"]
    bar.update(task, pace_from=(since - 8.0, 41))  # 8 s since the first take was made...
    _report_takes(bar, task, 45, 50, 112.5)  # ...and 4 more made since: 2 s each
    assert column.render(bar.tasks[0]).plain == "eta 0:10"
