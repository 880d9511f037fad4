"""Build a 3-essay show cold, unchanged and after a one-paragraph edit; time 1,000-episode feeds
and what the show's site adds to an unchanged rebuild.

The show is `studio init`'s with three essays of about 1,600 words (or, with --mixed, of 1,600,
400 and 100 words), built with the real CLI and a fresh take cache; the edit rewrites one paragraph
of the first (longest) essay. Targets (issue 5):
unchanged rebuild <= 5% of the cold build, a one-paragraph edit <= 15%, and feed generation for
1,000 episodes <= 2 s; issue 16: the site adds <= 0.2 s to an unchanged rebuild of the 3-essay
show (timed in process, `write_site`, and as whole builds with the site on and off).

With --executor ray (issue 15), the same show is built cold, whole processes, rounds alternating:
locally (--jobs 1), and on a local Ray instance with 1 and with 2 CPU workers; it prints each
build's time, Ray's overhead over the local build (target: <= 10 % with 2 workers), what
starting and stopping Ray costs alone, and checks that every build wrote the same episodes.

    .venv/bin/python benchmarks/build.py [--jobs N] [--mixed] [--episodes 1000]
    .venv/bin/python benchmarks/build.py --executor ray [--mixed] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from studio.manifest import Manifest
from studio.publish.feed import Channel, Item, build_feed
from studio.show.init import init_show

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def studio(*args: str, env: dict[str, str], prefix: Sequence[str] = ()) -> float:
    """Run the real CLI (after `prefix`); return its wall time in seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "studio", *args], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"studio {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def benchmark_show(scratch: Path, *, mixed: bool) -> tuple[Path, dict[str, str], list[Path]]:
    """`studio init`'s show in `scratch` with the three essays and a take cache of its own:
    (the show, the environment to run studio in, the essays)."""
    env = {**os.environ, "STUDIO_CACHE_DIR": str(scratch / "cache")}
    show = scratch / "show"
    studio("init", str(show), "--title", "Benchmark Show", env=env)
    (show / "essays" / "welcome.md").unlink()
    return show, env, three_essays(show / "essays", mixed=mixed)


def three_essays(essays: Path, *, mixed: bool) -> list[Path]:
    """The show's three essays, the one to edit first.

    Default: three full-length essays, copies of benchmarks/data/essay.md (1,600 words, about
    9 minutes) whose sentences are tagged so that no take is shared. `mixed`: three real essays of
    different lengths (1,600, 400 and 100 words).
    """
    source = HERE / "data" / "essay.md"
    if mixed:
        sources = [source, REPO / "examples" / "essay.md", REPO / "seeds" / "essays" / "welcome.md"]
        texts = [path.read_text(encoding="utf-8") for path in sources]
    else:
        _, front, body = source.read_text(encoding="utf-8").split("---", 2)
        texts = []
        for number, word in enumerate(("one", "two", "three"), 1):
            tagged = re.sub(r"([.!?])(\s)", rf" in essay {word}\1\2", body)
            meta = re.sub(r"(?m)^slug: .*$", f"slug: essay-{number}", front)
            meta = re.sub(r"(?m)^title: .*$", f"title: Essay {word.title()}", meta)
            texts.append(f"---{meta}---{tagged}")
    paths = []
    for number, text in enumerate(texts, 1):
        path = essays / f"essay-{number}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def edit_one_paragraph(essay: Path) -> str:
    """Rewrite the essay's first long paragraph a little: one changed word, one added sentence."""
    text = essay.read_text(encoding="utf-8")
    paragraphs = text.split("\n\n")
    index = next(i for i, p in enumerate(paragraphs) if len(p.split()) > 40 and p[0].isalpha())
    first, rest = paragraphs[index].split(" ", 1)
    paragraphs[index] = f"{first} {rest.replace(' the ', ' that ', 1)} I had not expected that."
    essay.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return paragraphs[index]


def feed_of(count: int) -> tuple[float, int]:
    """Time the pure feed builder on `count` synthetic episodes; return (seconds, bytes)."""

    base = "https://example.com/pod"
    channel = Channel(
        title="Benchmark",
        description="A thousand episodes.",
        link=base,
        feed_url=f"{base}/feed.xml",
        image_url=f"{base}/cover.png",
        language="en",
        category="Technology",
        author="A",
        owner_name="A",
        owner_email="a@example.com",
    )
    start = dt.datetime(2020, 1, 1, 12, tzinfo=dt.timezone.utc)
    items = [
        Item(
            guid=f"guid-{n}",
            title=f"Episode {n}: on small & large <things>",
            summary="What this episode is about, in a sentence or two. " * 4,
            link=base,
            published=start + dt.timedelta(days=n),
            audio_url=f"{base}/e{n}.mp3",
            audio_bytes=7_000_000 + n,
            duration=600.0 + n,
            chapters=tuple((120.0 * c, f"Chapter {c}") for c in range(6)),
            chapters_url=f"{base}/e{n}.chapters.json",
            vtt_url=f"{base}/e{n}.vtt",
            srt_url=f"{base}/e{n}.srt",
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    document = build_feed(channel, items)
    return time.perf_counter() - started, len(document)


def feed_command_of(count: int, scratch: Path, env: dict[str, str]) -> float:
    """Time `studio feed` on a show of `count` tiny essays whose episodes are (fake) built."""
    folder = scratch / "thousand"
    init_show(folder, title="A Thousand Episodes")
    public = folder / "public"
    public.mkdir()
    for n in range(count):
        slug = f"essay-{n:04d}"
        day = dt.date(2020, 1, 1) + dt.timedelta(days=n)
        (folder / "essays" / f"{slug}.md").write_text(
            f"---\ntitle: Essay {n}\ndate: {day}\n---\n\nParagraph {n} & more.\n", encoding="utf-8"
        )
        manifest = Manifest.model_validate(
            {
                "studio": "bench",
                "render_key": "",
                "essay": {
                    "title": f"Essay {n}",
                    "slug": slug,
                    "author": "",
                    "date": str(day),
                    "description": "",
                },
                "voice": {},
                "duration": 600.5,
                "loudness": {"integrated_lufs": -16.0, "true_peak_dbtp": -1.5},
                "cache": {"hits": 0, "synthesized": 0, "retries": 0},
                "breaths": {"mode": "off", "found": 0, "seconds": 0.0},
                "chapters": [{"title": "", "start": 0.0, "end": 600.5}],
                "segments": [],
                "sizes": {},
            }
        )
        manifests = folder / ".studio" / "manifests"  # a show keeps them out of public/
        manifests.mkdir(parents=True, exist_ok=True)
        manifest.write(manifests / f"{slug}.json")
        (public / f"{slug}.mp3").write_bytes(b"\xff\xfb" * 64)
    (folder / "essays" / "welcome.md").unlink()
    studio("feed", "--config", str(folder), env=env)  # assigns the guids once, as a build would
    (public / "feed.xml").unlink()
    return studio("feed", "--config", str(folder), env=env)


def site_write(show: Path, rounds: int = 5) -> tuple[float, float, int]:
    """Time `write_site` on a built show in this process: (a full render, as when a page may
    have changed: Jinja2 imported and the templates compiled; the median of `rounds` unchanged
    calls; files those rewrote)."""
    from studio.show.config import load_show
    from studio.show.guids import assign_guids
    from studio.show.plan import plan_episodes
    from studio.show.site import SITE_STATE, write_site

    loaded = load_show(show)
    plans = assign_guids(loaded, plan_episodes(loaded))
    (loaded.state / SITE_STATE).unlink()  # forget what the site was made from: render it all
    started = time.perf_counter()
    write_site(loaded, plans)
    full = time.perf_counter() - started
    times, written = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        report = write_site(loaded, plans)
        times.append(time.perf_counter() - started)
        assert report is not None
        written += len(report.written)
    times.sort()
    return full, times[len(times) // 2], written


def site_of_many(folder: Path) -> tuple[float, float, int]:
    """Time `write_site` in process on the many-episode show `feed_command_of` left: (rendered
    in full, unchanged, pages)."""
    from studio.show.config import load_show
    from studio.show.guids import assign_guids
    from studio.show.plan import plan_episodes
    from studio.show.site import write_site

    loaded = load_show(folder)
    plans = assign_guids(loaded, plan_episodes(loaded))
    started = time.perf_counter()
    report = write_site(loaded, plans)
    full = time.perf_counter() - started
    started = time.perf_counter()
    again = write_site(loaded, plans)
    unchanged = time.perf_counter() - started
    assert report is not None and again is not None and not again.changed
    return full, unchanged, report.pages


def site_on_and_off(show: Path, env: dict[str, str], rounds: int = 5) -> tuple[float, float]:
    """Median unchanged rebuilds (whole processes) of the show and of a copy with its site off,
    in alternating rounds so that the machine's other load falls on both alike."""
    without = show.parent / "show-without-site"
    shutil.copytree(show, without)
    config = without / "studio.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("enabled = true", "enabled = false", 1), encoding="utf-8")
    studio("build", "--config", str(without), env=env)  # the feed's links change, once
    on, off = [], []
    for _ in range(rounds):
        on.append(studio("build", "--config", str(show), env=env))
        off.append(studio("build", "--config", str(without), env=env))
    on.sort()
    off.sort()
    return on[rounds // 2], off[rounds // 2]


CPUACCT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1; None of this where it is not writable


@contextlib.contextmanager
def cpu_accounted() -> Iterator[tuple[list[str], list[float]]]:
    """A command prefix that runs a command in a cgroup of its own, and (after the block) the
    CPU-seconds it and every process it started (Ray's daemons and workers too) used; NaN where
    no cgroup can be made. On a machine shared with other work, CPU-seconds are what a build
    costs, where its wall time also measures the neighbours."""
    group = CPUACCT / f"studio-bench-{os.getpid()}-{time.monotonic_ns()}"
    seconds = [math.nan]
    try:
        group.mkdir()
    except OSError:
        yield [], seconds
        return
    prefix = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh"]
    try:
        yield prefix, seconds
        seconds[0] = int((group / "cpuacct.usage").read_text()) / 1e9
    finally:
        for _ in range(100):  # Ray's processes may take a moment to go
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def ray_start_stop() -> float:
    """Seconds to start a local Ray instance and stop it again, in a process of its own."""
    code = (
        "import logging, time; t = time.perf_counter(); import ray; "
        "ray.init(address='local', include_dashboard=False, logging_level=logging.ERROR); "
        "ray.shutdown(); print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"ray start/stop failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def episodes_of(show: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((show / "public").glob("*.mp3"))}


def compare_executors(mixed: bool, rounds: int) -> None:
    """Cold builds of the same show, locally and on Ray with 1 and 2 workers (module doc)."""
    variants = {
        "local (--jobs 1)": [],
        "ray, 1 worker": ["--executor", "ray", "--workers", "1"],
        "ray, 2 workers": ["--executor", "ray", "--workers", "2"],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    episodes: dict[str, dict[str, bytes]] = {}
    minutes = segments = 0.0
    for _ in range(rounds):
        for name, options in variants.items():
            with tempfile.TemporaryDirectory() as scratch_name:
                scratch = Path(scratch_name)
                show, env, _ = benchmark_show(scratch, mixed=mixed)
                with cpu_accounted() as (prefix, seconds):
                    build = ["build", "--config", str(show), *options]
                    times[name].append(studio(*build, env=env, prefix=prefix))
                cpu[name].append(seconds[0])
                print(
                    f"  {name}: {times[name][-1]:.1f} s, {cpu[name][-1]:.1f} CPU-s, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                episodes[name] = episodes_of(show)
                manifests = [Manifest.read(p) for p in (show / ".studio/manifests").glob("*")]
                minutes = sum(m.duration for m in manifests if m) / 60
                segments = sum(len(m.segments) for m in manifests if m)
    same = all(files == episodes["local (--jobs 1)"] for files in episodes.values())
    start_stop = ray_start_stop()
    local = statistics.median(times["local (--jobs 1)"])
    local_cpu = statistics.median(cpu["local (--jobs 1)"])
    print(
        f"show: 3 essays, {segments:.0f} segments, {minutes:.1f} min of audio, cold builds, "
        f"{os.cpu_count()} cores, median of {rounds}"
    )
    for name, seconds in times.items():
        median, used = statistics.median(seconds), statistics.median(cpu[name])
        print(
            f"{name:<18} {median:7.2f} s {median / local - 1:+7.1%}   "
            f"{used:7.1f} CPU-s {used / local_cpu - 1:+7.1%}   over local"
            f"   (wall: {', '.join(f'{s:.1f}' for s in seconds)})"
        )
    print(f"ray start + stop alone: {start_stop:5.2f} s")
    print(f"episodes byte-identical across executors: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="studio build --jobs")
    parser.add_argument("--episodes", type=int, default=1000, help="episodes in the feed runs")
    parser.add_argument("--mixed", action="store_true", help="essays of 1,600, 400 and 100 words")
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local",
        help="ray: compare cold builds on Ray (1 and 2 workers) with a local one",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="with --executor ray")
    args = parser.parse_args()
    if args.executor == "ray":
        compare_executors(args.mixed, args.rounds)
        return

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        show, env, essays = benchmark_show(scratch, mixed=args.mixed)
        build = ["build", "--config", str(show), "--jobs", str(args.jobs)]

        cold = studio(*build, env=env)
        manifests = [Manifest.read(p) for p in (show / ".studio" / "manifests").glob("*.json")]
        manifests = [m for m in manifests if m is not None]
        unchanged = studio(*build, env=env)
        site_full, site_median, site_written = site_write(show)
        unchanged_site, unchanged_no_site = site_on_and_off(show, env)
        edit_one_paragraph(essays[0])
        edited = studio(*build, env=env)
        slug = re.search(r"(?m)^slug: (.*)$", essays[0].read_text(encoding="utf-8"))
        edited_manifest = Manifest.read(show / ".studio" / "manifests" / f"{slug.group(1)}.json")
        assert edited_manifest is not None
        feed_seconds, feed_bytes = feed_of(args.episodes)
        feed_command = feed_command_of(args.episodes, scratch, env)
        many_full, many_unchanged, many_pages = site_of_many(scratch / "thousand")

    minutes = sum(m.duration for m in manifests) / 60
    segments = sum(len(m.segments) for m in manifests)
    print(f"show: 3 essays, {segments} segments, {minutes:.1f} min of audio, --jobs {args.jobs}")
    print(f"cold build:                {cold:7.2f} s")
    print(f"unchanged rebuild:         {unchanged:7.2f} s   {unchanged / cold:6.1%} of cold")
    print(
        f"one-paragraph edit:        {edited:7.2f} s   {edited / cold:6.1%} of cold"
        f"   ({edited_manifest.cache.synthesized} takes synthesized)"
    )
    print(
        f"site (write_site in process): unchanged {site_median:.3f} s (median of 5, "
        f"{site_written} files rewritten); rendered in full {site_full:.3f} s"
    )
    print(
        f"unchanged rebuild, median of 5 alternating: site on {unchanged_site:.2f} s, off "
        f"{unchanged_no_site:.2f} s: the site adds {unchanged_site - unchanged_no_site:+.2f} s"
    )
    print(
        f"feed, {args.episodes} episodes (build_feed):  {feed_seconds:6.3f} s"
        f"   {feed_bytes / 1e6:.1f} MB"
    )
    print(f"feed, {args.episodes} episodes (`studio feed`, whole process): {feed_command:6.2f} s")
    print(
        f"site, {many_pages} episodes (write_site in process): rendered in full "
        f"{many_full:.2f} s, unchanged {many_unchanged:.2f} s"
    )


if __name__ == "__main__":
    main()
