"""The file edge of breath cleaning: any WAV, FLAC or MP3 in, the cleaned file and a report out.

Two streaming passes, so an hour of stereo never has to sit in memory:

1. read block by block, average the channels to a mid signal and feed its frame features to
   `FeatureStream` (the features do not depend on the block size); then find the breaths once,
   over the whole file, and the quietest gap (the noise clip for room tone and noisereduce);
2. read again and write block by block, each block ending outside every breath. Edits are a pure
   function of the breath list, so the blocks join with no seams: the output is the same, sample
   for sample, as cleaning the whole file at once. With `floor_cleanup`, each block is gated with
   a second of context either side and boundaries fall on the gate's STFT grid.

Every channel gets the same gain curve (and the same cuts), so the stereo image stays put.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import numpy as np
import soundfile as sf

from studio.breath import (
    BreathEvent,
    BreathReport,
    BreathSettings,
    FeatureStream,
    RoomTone,
    apply_events,
    events_from_features,
    floor_cleanup,
    mid_signal,
    quietest_gap,
)
from studio.errors import StudioError
from studio.files import atomic_path, write_text_atomic

FORMATS = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3"}
BLOCK_SECONDS = 60.0
_GRID = 1024  # block boundaries are multiples of this (noisereduce's STFT hop divides it)
_CLEANUP_CONTEXT_SECONDS = 1.0
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class FileReport:
    source: Path
    target: Path
    channels: int
    report: BreathReport
    seconds: float  # wall-clock time taken

    def to_json(self) -> dict[str, Any]:
        return {
            "input": str(self.source),
            "output": str(self.target),
            "channels": self.channels,
            **self.report.to_json(),
            "time_s": round(self.seconds, 3),
        }


def clean_file(
    source: Path,
    target: Path,
    settings: BreathSettings | None = None,
    *,
    report_path: Path | None = None,
    plot_path: Path | None = None,
    block_seconds: float = BLOCK_SECONDS,
) -> FileReport:
    """Clean the breaths out of `source` into `target` (format from its suffix), atomically;
    with `plot_path`, also draw what was done (`plot_breaths`).

    Raises StudioError, with nothing written, for an unreadable, empty or too low-rate input or
    an output that can't be written.
    """
    settings = settings or BreathSettings()
    source, target = Path(source), Path(target)
    started = time.perf_counter()
    if plot_path is not None:
        if Path(plot_path).suffix.lower() != ".png":
            raise StudioError(f"{Path(plot_path).name}: the picture is a PNG; name it .png")
        _pyplot()  # before any work: a missing extra is a one-line error, not a late one
    kind = FORMATS.get(target.suffix.lower())
    if kind is None:
        raise StudioError(
            f"{target.name}: can't write {target.suffix or 'files without a suffix'}; "
            "name the output .wav, .flac or .mp3"
        )
    info = _info(source)
    rate, channels = info.samplerate, info.channels
    if rate < 4000:
        raise StudioError(f"{source}: {rate} Hz is too low a sample rate to find breaths in")
    block = max(_GRID, round(block_seconds * rate) // _GRID * _GRID)

    # Pass 1: features of the mid signal, then the breaths over the whole file.
    stream = FeatureStream(rate, settings)
    for piece in _ahead(_blocks(source, block)):
        stream.feed(mid_signal(piece))
    features = stream.finish()
    if features.length == 0:
        raise StudioError(f"{source}: the file holds no audio; give a recording with sound in it")
    events = events_from_features(features, settings)
    gap = quietest_gap(features, settings)
    clip = _read_range(source, *gap) if gap else np.zeros((0, channels), dtype=np.float32)
    tone = RoomTone.from_clip(clip) if settings.mode == "remove" and len(clip) else None
    cleanup = settings.floor_cleanup if len(clip) else 0.0

    # Pass 2: edit and write, block by block, each block ending outside every breath.
    done: list[BreathEvent] = []
    subtype = info.subtype if FORMATS.get(source.suffix.lower()) == kind else None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            atomic_path(target) as tmp,
            sf.SoundFile(
                tmp, "w", samplerate=rate, channels=channels, format=kind, subtype=subtype
            ) as out,
        ):
            ends = _boundaries(events, block, rate, features.length)
            pad = round(_CLEANUP_CONTEXT_SECONDS * rate) // _GRID * _GRID if cleanup else 0
            blocks = _ahead(_edit_blocks(source, ends, block, channels, pad))
            for start, audio, (before, after) in blocks:
                if cleanup:
                    audio = floor_cleanup(audio, rate, clip, cleanup)
                    audio = audio[before : len(audio) - after]
                inside = [e for e in events if start <= round(e.start * rate) < start + len(audio)]
                edited, treated = apply_events(
                    audio, rate, inside, settings, offset=start, room_tone=tone
                )
                done.extend(treated)
                out.write(edited)
    except (OSError, sf.LibsndfileError) as error:
        raise StudioError(f"can't write {target}: {error}") from None

    report = BreathReport(settings.mode, rate, features.length / rate, tuple(done))
    if plot_path is not None:
        plot_breaths(source, report, Path(plot_path))
    result = FileReport(source, target, channels, report, time.perf_counter() - started)
    if report_path is not None:
        try:
            write_text_atomic(Path(report_path), json.dumps(result.to_json(), indent=2) + "\n")
        except OSError as error:
            raise StudioError(f"can't write the report {report_path}: {error}") from None
    return result


def _info(source: Path) -> Any:
    if not source.is_file():
        raise StudioError(f"{source}: no such file; give a WAV, FLAC or MP3 recording")
    if source.stat().st_size == 0:
        raise StudioError(f"{source}: the file is empty; give a WAV, FLAC or MP3 recording")
    try:
        info = sf.info(str(source))
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        reason = str(error).split(": ", 1)[-1].rstrip(".") or "unknown format"
        raise StudioError(
            f"{source}: can't read it as audio ({reason}); give a WAV, FLAC or MP3 recording"
        ) from None
    if info.frames <= 0:
        raise StudioError(f"{source}: the file holds no audio; give a recording with sound in it")
    return info


def _blocks(source: Path, block: int) -> Iterator[np.ndarray]:
    """The whole file, (frames, channels) float32, block by block.

    NaN or infinite samples are refused, not repaired: no sound decodes to them, so the file is
    damaged, and a guess at what they stood for would pass the damage on unseen.
    """
    try:
        with sf.SoundFile(str(source)) as handle:
            while True:
                at = handle.tell()
                piece = handle.read(block, dtype="float32", always_2d=True)
                if not len(piece):
                    return
                bad = ~np.isfinite(piece).all(axis=1)
                if bad.any():
                    second = (at + int(np.argmax(bad))) / handle.samplerate
                    raise StudioError(
                        f"{source}: the audio holds NaN or infinite samples (first at "
                        f"{second:.2f} s); export the recording again"
                    )
                yield piece
    except sf.LibsndfileError as error:
        raise StudioError(
            f"{source}: the audio is damaged and can't be decoded ({error})"
        ) from None


def _ahead(items: Iterator[_Item], depth: int = 2) -> Iterator[_Item]:
    """`items`, produced on a worker thread up to `depth` ahead: decoding the file (libsndfile
    releases the GIL) overlaps the analysis and editing on the main thread."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put((True, item))
            queue.put((False, None))
        except BaseException as error:  # handed to the consumer, raised there
            queue.put((False, error))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            ok, item = queue.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)


def _read_range(source: Path, start: int, stop: int) -> np.ndarray:
    with sf.SoundFile(str(source)) as handle:
        handle.seek(start)
        return handle.read(stop - start, dtype="float32", always_2d=True)


def _boundaries(events: list[BreathEvent], block: int, rate: int, length: int) -> list[int]:
    """Block ends: about every `block` samples, on the grid, never inside a breath's pause
    (so cut mode shares out each pause's allowance within one block)."""
    spans = sorted((round(e.pause_start * rate), round(e.pause_end * rate)) for e in events)
    ends: list[int] = []
    position = 0
    while position < length:
        end = position + block
        for start, stop in spans:
            if start < end < stop:
                end = -(-stop // _GRID) * _GRID
        end = min(end, length)
        ends.append(end)
        position = end
    return ends


def _edit_blocks(
    source: Path, ends: list[int], block: int, channels: int, pad: int
) -> Iterator[tuple[int, np.ndarray, tuple[int, int]]]:
    """(start, audio, (context before, context after)) for each output block [start, end),
    read sequentially; the audio carries up to `pad` samples of context either side."""
    reader = _blocks(source, block)
    buffer = np.zeros((0, channels), dtype=np.float32)
    buffer_start = begin = 0
    for end in ends:
        while buffer_start + len(buffer) < end + pad:
            piece = next(reader, None)
            if piece is None:
                break
            buffer = np.concatenate((buffer, piece))
        lo = max(0, begin - pad)
        hi = min(buffer_start + len(buffer), end + pad)
        yield begin, buffer[lo - buffer_start : hi - buffer_start], (begin - lo, max(0, hi - end))
        drop = max(0, end - pad - buffer_start)
        buffer = buffer[drop:]
        buffer_start += drop
        begin = end


# --- pictures -----------------------------------------------------------------------------

_PLOT_COLUMNS = 3000  # time columns in the picture, whatever the file's length
_PLOT_FFT = 1024


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        raise StudioError(
            "--plot needs matplotlib: pip install 'studio[plot]' (or leave out --plot)"
        ) from None
    return pyplot


def plot_breaths(source: Path, report: BreathReport, target: Path) -> None:
    """Draw `source`'s waveform and spectrogram (mid signal), each breath of `report` shaded and
    labelled with the dB it was brought down, into the PNG `target` (atomically). The file is read
    once more in blocks and drawn in at most `_PLOT_COLUMNS` columns, so an hour is no heavier to
    draw than a minute."""
    pyplot = _pyplot()
    info = _info(source)
    rate, length = info.samplerate, info.frames
    columns = max(1, min(_PLOT_COLUMNS, length // 64))
    step = length / columns
    low = np.zeros(columns, dtype=np.float32)
    high = np.zeros(columns, dtype=np.float32)
    spectra = np.full((_PLOT_FFT // 2 + 1, columns), -140.0, dtype=np.float32)
    window = np.hanning(_PLOT_FFT).astype(np.float32)
    scale = 2.0 / float(np.sum(window) ** 2)
    position = 0
    for piece in _blocks(source, max(_GRID, 1 << 20)):
        mid = mid_signal(piece)
        first = int(np.ceil(position / step - 1e-9))
        last = min(columns, int(np.ceil((position + len(mid)) / step - 1e-9)))
        for column in range(first, last):
            start = round(column * step) - position
            span = mid[max(0, start) : max(0, start) + max(1, round(step))]
            if span.size:
                low[column], high[column] = span.min(), span.max()
            frame = mid[max(0, start) : max(0, start) + _PLOT_FFT]
            if len(frame) == _PLOT_FFT:
                power = np.abs(np.fft.rfft(frame * window)) ** 2 * scale
                spectra[:, column] = 10 * np.log10(power + 1e-14)
        position += len(mid)
    times = (np.arange(columns) + 0.5) * step / rate
    figure, (wave, spectrum) = pyplot.subplots(
        2, 1, figsize=(14, 6), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    wave.fill_between(times, low, high, color="#345", linewidth=0)
    wave.set_ylabel("amplitude")
    wave.set_ylim(-1, 1)
    top = min(rate / 2, 11025)
    extent = (0.0, length / rate, 0.0, rate / 2 / 1000)
    floor = float(np.percentile(spectra, 5))
    spectrum.imshow(
        spectra, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=floor, vmax=floor + 80, interpolation="nearest",
    )  # fmt: skip
    spectrum.set_ylim(0, top / 1000)
    spectrum.set_ylabel("kHz")
    spectrum.set_xlabel("seconds")
    for event in report.events:
        for axis in (wave, spectrum):
            axis.axvspan(event.start, event.end, color="#3af", alpha=0.3, linewidth=0)
        wave.annotate(
            f"-{event.reduction_db:.0f} dB", ((event.start + event.end) / 2, 0.92),
            ha="center", va="top", fontsize=7, color="#036",
        )  # fmt: skip
    wave.set_title(f"{source.name}: {report.summary()}", fontsize=10)
    figure.tight_layout()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            figure.savefig(tmp, dpi=100, format="png")
    except OSError as error:
        raise StudioError(f"can't write the picture {target}: {error}") from None
    finally:
        pyplot.close(figure)
