"""Time and peak memory of mastering and encoding a 60-minute synthetic episode, streamed as a
render does it: lay out and analyse take by take, solve the gain, then one pass through the
limiter into the MP3 encoder (a render runs these beside synthesis, on threads; here they run
one after the other, so the times add up).

    .venv/bin/python benchmarks/master.py [minutes]

Takes are speech-like signals (a gliding harmonic voice with a syllable envelope, silence around
it and hot plosive clicks) at 22050 Hz, like the bundled voice's output. Twenty distinct
takes are reused round-robin, so the takes themselves cost almost no memory and the peak RSS is
the pipeline's own.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.master import MasteringPass, TimelineAnalysis, TimelineBuilder, solve_gain
from studio.publish.mp3 import Id3Tags, Mp3Writer
from studio.types import Script, ScriptChapter, Segment, Take

TAKE_RATE = 22050


def speech_like_take(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = rng.uniform(100, 180) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 30))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t), 0, None) ** 2
    audio = 0.2 * voice * syllables
    # Plosive clicks, 4 a second: they give the ~22 dB crest factor of the bundled voice, and
    # the limiter has as much to do as it has on that voice.
    for at in rng.uniform(0.1, seconds - 0.1, round(4 * seconds)):
        i = round(at * rate)
        audio[i : i + 40] += rng.uniform(0.5, 0.9) * np.sign(rng.standard_normal()) * np.hanning(40)
    silence = np.zeros(round(0.15 * rate))
    return np.concatenate((silence, audio, silence)).astype(np.float32)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(minutes: float = 60.0) -> None:
    rng = np.random.default_rng(1)
    bank = [Take(speech_like_take(rng.uniform(3, 8), TAKE_RATE, rng), TAKE_RATE) for _ in range(20)]
    take_seconds = [len(t.audio) / TAKE_RATE for t in bank]
    count, seconds = 0, 0.0
    while seconds < minutes * 60:  # trimmed takes plus ~0.6 s pauses
        seconds += take_seconds[count % len(bank)] - 0.3 + 0.58
        count += 1
    segments = [Segment(f"s{i}", f"Sentence {i}.", 0.5 if i % 5 else 0.9) for i in range(count)]
    chapters = tuple(
        ScriptChapter(f"Chapter {c}" if c else "", tuple(segments[c * 50 : (c + 1) * 50]))
        for c in range(-(-count // 50))
    )
    takes = [bank[i % len(bank)] for i in range(count)]
    print(f"{count} segments, baseline RSS {rss_mib():.0f} MiB")

    script = Script("Benchmark", chapters)
    started = time.perf_counter()
    layout = TimelineBuilder(script, sample_rate=44100)
    analysis = TimelineAnalysis(44100)
    for take in takes:
        for piece in layout.pieces(take):
            analysis.feed(piece)
    analysis.close()
    analysed = time.perf_counter()
    print(
        f"analyse   {analysed - started:6.1f} s  peak RSS {rss_mib():5.0f} MiB  "
        f"{layout.length / 44100 / 60:.1f} min of audio"
    )
    gain_db = solve_gain(analysis)
    solved = time.perf_counter()
    print(f"gain      {solved - analysed:6.1f} s  {gain_db:+.2f} dB")
    mastering = MasteringPass(analysis, gain_db, -1.0)
    layout = TimelineBuilder(script, sample_rate=44100)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "episode.mp3"
        with Mp3Writer(path, 44100, tags=Id3Tags(title="Benchmark")) as writer:
            for take in takes:
                for piece in layout.pieces(take):
                    for block in mastering.feed(piece):
                        writer.write(block)
            for block in mastering.close():
                writer.write(block)
            writer.finish(layout.timeline(mastering.loudness))
        written = time.perf_counter()
        size_mb = path.stat().st_size / 1e6
    print(
        f"encode    {written - solved:6.1f} s  peak RSS {rss_mib():5.0f} MiB  {size_mb:.1f} MB"
        "  (master and MP3 in one pass)"
    )
    print(f"total {written - started:.1f} s, peak RSS {rss_mib():.0f} MiB")
    print(f"mastered to {mastering.loudness}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
