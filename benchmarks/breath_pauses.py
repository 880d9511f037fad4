"""List every pause of the labelled real recordings (tests/data/moonshine, tests/data/librivox)
with what stands in it: the aid used to label them (the README.md in each), independent of the
detector.

    .venv/bin/python benchmarks/breath_pauses.py [--min-over-floor 5]

A pause is a stretch of at least 100 ms with no voiced frame (aperiodicity under 0.35 and 15 dB
over the floor) and no frame within 25 dB of the local speech level, widened by 20 ms. For each,
the stretches in it whose 50 ms level stands at least `--min-over-floor` dB over the floor (the
quietest 50 ms within 5 s) for 100 ms or more are printed with their peak over the floor,
length, median aperiodicity and 1-5 kHz vs 80-1000 Hz ratio; those are then read on a
spectrogram (benchmarks/breath_pauses.py --plot FOLDER draws one per stretch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.breath import BreathSettings, _runs, _smoothed_db, frame_features, local_levels
from tests.breath_real import REAL_RECORDINGS, load_real


def stretches(name: str, min_over_floor: float) -> list[dict[str, float]]:
    audio, rate, _, _ = load_real(name)
    features = frame_features(audio, rate, BreathSettings())
    speech_level, floor = local_levels(features)
    level = features.level.astype(np.float64)
    per_second = rate / features.hop
    voiced = (features.aperiodicity < 0.35) & (level > floor + 15)
    quiet = ~voiced & (level < speech_level - 25)
    pad = round(0.02 * per_second)
    smooth = _smoothed_db(level, 5)
    found = []
    for a, b in _runs(quiet):
        if (b - a) / per_second < 0.1:
            continue
        a, b = max(0, a - pad), min(len(level), b + pad)
        loud = smooth[a:b] >= floor[a:b] + min_over_floor
        for s0, s1 in _runs(loud):
            if (s1 - s0) / per_second < 0.1:
                continue
            span = slice(a + s0, a + s1)
            found.append(
                {
                    "start": (a + s0) / per_second,
                    "end": (a + s1) / per_second,
                    "peak_over_floor": float(np.max(smooth[span] - floor[span])),
                    "aperiodicity": float(np.median(features.aperiodicity[span])),
                    "band_ratio": float(np.median(features.band_ratio[span])),
                }
            )
    return found


def plot(name: str, item: dict[str, float], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.signal

    audio, rate, _, _ = load_real(name)
    t0, t1 = max(0.0, item["start"] - 0.6), item["end"] + 0.6
    piece = audio[round(t0 * rate) : round(t1 * rate)]
    freqs, times, power = scipy.signal.spectrogram(piece, rate, nperseg=512, noverlap=384)
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.pcolormesh(times + t0, freqs, 10 * np.log10(power + 1e-14), shading="auto")
    axis.axvspan(item["start"], item["end"], color="white", alpha=0.15)
    axis.set_title(f"{name} {item['start']:.2f}-{item['end']:.2f} s")
    figure.savefig(folder / f"{name}_{item['start']:.2f}.png", dpi=80)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-over-floor", type=float, default=5.0)
    parser.add_argument("--plot", type=Path, help="draw a spectrogram per stretch here")
    args = parser.parse_args()
    for name in REAL_RECORDINGS:
        for item in stretches(name, args.min_over_floor):
            print(
                f"{name:18} {item['start']:6.2f}-{item['end']:6.2f} s  peak "
                f"{item['peak_over_floor']:4.1f} dB over floor  aperiodicity "
                f"{item['aperiodicity']:.2f}  1-5k/80-1k {item['band_ratio']:5.1f} dB"
            )
            if args.plot:
                args.plot.mkdir(parents=True, exist_ok=True)
                plot(name, item, args.plot)


if __name__ == "__main__":
    main()
