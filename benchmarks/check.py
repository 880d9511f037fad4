"""`studio check` on the ~9-minute benchmark essay: speed, and what it catches and misses.

1. Renders the essay (or reuses `--out`), makes sure the voice's calibration exists, then times
   `studio check` in a fresh process with nothing heard yet (every segment listened to), and
   again unchanged (nothing listened to). Prints wall and CPU seconds and the real-time factor.
2. Tampers with the rendered audio as a failing voice would, a different segment for each kind
   of damage (segments far apart, so neighbours stay clean for the level flag), and checks the
   tampered file with `--audio`: per kind, how many damaged segments were flagged; and how
   many untouched segments were flagged anyway (false alarms).

The thresholds were set on other text (the calibration passage and the test essay); this essay
never tuned anything, so these are held-out figures.

    .venv/bin/python benchmarks/check.py [--essay FILE] [--out DIR] [--rounds N] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
KINDS = (
    "swap", "foreign", "reverse", "noise", "drop_half", "mumble", "gap", "clip", "level", "word"
)  # fmt: skip


def studio(*args: str, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run the real CLI; (wall seconds, CPU seconds of it and its children, the process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "studio", *args], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def tamper(audio: np.ndarray, rate: int, spans: list[tuple[int, int]], plan: dict[int, str],
           rng: np.random.Generator, foreign: list[np.ndarray]) -> np.ndarray:  # fmt: skip
    """Damage segment i as plan[i] says (`foreign`: takes of sentences not in the essay)."""
    out = audio.copy()
    others = [i for i in range(len(spans)) if i not in plan]
    for index, kind in plan.items():
        a, b = spans[index]
        piece = out[a:b]
        n = b - a
        if kind == "swap":  # another sentence's take in its place
            c, d = spans[int(rng.choice(others))]
            other = audio[c:d][:n]
            piece[:] = 0.0
            piece[: len(other)] = other
        elif kind == "foreign":  # a take of a sentence the essay does not have (an old text)
            other = foreign[int(rng.integers(len(foreign)))][:n]
            piece[:] = 0.0
            piece[: len(other)] = other
        elif kind == "reverse":  # garbled: the right sounds, backwards
            piece[:] = piece[::-1].copy()
        elif kind == "noise":  # a take that is noise at speech level
            rms = float(np.sqrt(np.mean(piece**2)))
            piece[:] = rng.normal(0, rms, n).astype(np.float32)
        elif kind == "drop_half":  # a take that stops half way (a clause dropped)
            piece[n // 2 :] = 0.0
        elif kind == "mumble":  # smeared: low-passed to 500 Hz, as a mumbled take
            spectrum = np.fft.rfft(piece)
            spectrum[int(500 * n / rate) :] = 0
            mumbled = np.fft.irfft(spectrum, n).astype(np.float32)
            piece[:] = mumbled * (
                np.sqrt(np.mean(piece**2)) / max(1e-9, np.sqrt(np.mean(mumbled**2)))
            )
        elif kind == "gap":  # a long silence inside the take (it overwrites some words)
            mid = n // 2
            piece[mid - int(0.6 * rate) : mid + int(0.6 * rate)] = 0.0
        elif kind == "clip":  # driven into full scale
            piece[:] = np.clip(piece * 6.0, -1.0, 1.0)
        elif kind == "level":  # 10 dB quieter than its neighbours
            piece *= 10 ** (-10 / 20)
        elif kind == "word":  # one word garbled: 0.35 s from another take in the middle
            c, d = spans[int(rng.choice(others))]
            w = int(0.35 * rate)
            mid = n // 2
            piece[mid : mid + w] = audio[c + (d - c) // 2 : c + (d - c) // 2 + w][
                : len(piece[mid : mid + w])
            ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essay", type=Path, default=HERE / "data" / "essay.md")
    parser.add_argument("--out", type=Path, help="folder of an existing render of the essay")
    parser.add_argument("--rounds", type=int, default=2, help="tampered files (kinds per file)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-speed", action="store_true", help="only the damage rounds")
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    work = Path(tempfile.mkdtemp(prefix="studio-check-bench-"))
    out = args.out or work / "out"
    if not args.out:
        wall, _, done = studio("render", str(args.essay), "--out", str(out), env=env)
        print(f"render: {wall:.1f} s")
        if done.returncode:
            raise SystemExit(done.stderr)
    from studio.ingest import load_essay

    slug = load_essay(args.essay).meta.slug
    manifest = json.loads((out / f"{slug}.json").read_text(encoding="utf-8"))

    if not args.no_speed:
        speed(args, out, slug, manifest, env, work)
    damage(args, out, slug, manifest, env, work)


def speed(args: argparse.Namespace, out: Path, slug: str, manifest: dict, env: dict[str, str],
          work: Path) -> None:  # fmt: skip
    duration = manifest["duration"]
    # Calibration once (it synthesizes the voice's passage), in a check of a scratch copy.
    cold_env = {**env}
    wall, cpu, done = studio("check", str(args.essay), "--out", str(out), env=cold_env)
    print(
        f"first check (calibration if needed, then listening): {wall:.1f} s wall, {cpu:.1f} s CPU"
    )
    # Cold listening: a cache holding the calibration but nothing heard.
    cache = Path(env.get("STUDIO_CACHE_DIR") or Path.home() / ".cache" / "studio")
    heard = cache / "check" / "heard"
    moved = work / "heard-moved"
    if heard.is_dir():
        heard.rename(moved)
    try:
        wall, cpu, done = studio("check", str(args.essay), "--out", str(out), env=env)
    finally:
        if moved.is_dir():
            import shutil

            shutil.rmtree(heard, ignore_errors=True)
            moved.rename(heard)
    print(
        f"check, nothing heard yet: {wall:.1f} s wall, {cpu:.1f} s CPU for {duration:.0f} s "
        f"of audio ({len(manifest['segments'])} segments): RTF {wall / duration:.3f} wall, "
        f"{cpu / duration:.3f} CPU; exit {done.returncode}"
    )
    print("  " + done.stdout.strip().splitlines()[-2])
    wall, cpu, done = studio("check", str(args.essay), "--out", str(out), env=env)
    print(f"check again, unchanged: {wall:.1f} s wall; " + done.stdout.strip().splitlines()[-2])
    clean_flags = json.loads((out / f"{slug}.qc.json").read_text())["flagged"]
    print(f"clean episode: {len(clean_flags)} of {len(manifest['segments'])} flagged {clean_flags}")


def damage(args: argparse.Namespace, out: Path, slug: str, manifest: dict, env: dict[str, str],
           work: Path) -> None:  # fmt: skip
    from studio.cache import default_cache_dir
    from studio.check.episode import passage_takes
    from studio.voices import find_voice

    audio, rate = sf.read(out / f"{slug}.mp3", dtype="float32")
    import soxr

    profile = find_voice(manifest["voice"]["name"])
    foreign = [
        soxr.resample(take, take_rate, rate).astype(np.float32) * 0.5
        for take, take_rate in passage_takes(profile, default_cache_dir())
    ]
    spans = [(int(s["start"] * rate), int(s["end"] * rate)) for s in manifest["segments"]]
    rng = np.random.default_rng(args.seed)
    caught = dict.fromkeys(KINDS, 0)
    tried = dict.fromkeys(KINDS, 0)
    false_alarms = untouched = 0
    flags_seen: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for round_ in range(args.rounds):
        # Segments 4 apart (a level flag compares 3 neighbours each side), title/byline skipped.
        usable = list(range(2 + round_ % 4, len(spans), 4))
        rng.shuffle(usable)
        plan = {index: KINDS[k % len(KINDS)] for k, index in enumerate(usable[: 2 * len(KINDS)])}
        damaged = work / f"tampered-{round_}.wav"
        sf.write(damaged, tamper(audio, rate, spans, plan, rng, foreign), rate, subtype="PCM_16")
        # The check reads the manifest from --out and writes its report there: a copy.
        target = work / f"qc-{round_}"
        target.mkdir()
        for path in out.glob(f"{slug}.*"):
            if ".qc." not in path.name:
                (target / path.name).write_bytes(path.read_bytes())
        studio("check", str(args.essay), "--out", str(target), "--audio", str(damaged), env=env)
        report = json.loads((work / f"qc-{round_}" / f"{slug}.qc.json").read_text())
        for segment in report["segments"]:
            kind = plan.get(segment["index"])
            if kind is None:
                untouched += 1
                false_alarms += bool(segment["flags"])
                continue
            tried[kind] += 1
            caught[kind] += bool(segment["flags"])
            for flag in segment["flags"]:
                flags_seen[kind][flag] = flags_seen[kind].get(flag, 0) + 1
    print("\ncaught per kind of damage (held out):")
    for kind in KINDS:
        flags = ", ".join(f"{f} {n}" for f, n in sorted(flags_seen[kind].items()))
        print(f"  {kind:10s} {caught[kind]}/{tried[kind]}   flags: {flags}")
    print(f"false alarms on untouched segments: {false_alarms}/{untouched}")


if __name__ == "__main__":
    main()
