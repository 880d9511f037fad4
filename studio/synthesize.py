"""Script to takes: every segment's audio in the take cache, synthesized where it is missing.

Synthesis runs in a worker process. The engine imports torch (about half a gigabyte resident on
its own) and holds the model; once the takes are cached neither is needed again, and a separate
process gives all of that memory back before the episode is assembled and mastered. It also
keeps an unchanged re-render from importing torch at all.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from studio.cache import TakeCache
from studio.errors import StudioError
from studio.takes import TakeRecord, cached_record
from studio.types import Script
from studio.voices import VoiceProfile, open_engine

# Called after each take: (takes done, takes in all, seconds of audio so far).
Progress = Callable[[int, int, float], None]


def synthesize(
    script: Script,
    keys: Sequence[str],
    profile: VoiceProfile,
    cache_dir: Path,
    progress: Progress | None = None,
    device: str | None = None,
    on_take: Callable[[int, TakeRecord], None] | None = None,
) -> list[TakeRecord]:
    """Make sure every segment's take is in the cache; report which ones had to be made.

    `device` ("cpu", "cuda", ...; None for the GPU when there is one) is where the worker runs
    the model; it is not part of a take's key: a take is as good from either. `on_take` hears of
    each take as soon as it is in the cache (the cached ones first), so later stages can start
    on it while the rest are synthesized.
    """
    cache = TakeCache(cache_dir)
    segments = script.segments
    records = [cached_record(cache, key) for key in keys]
    cached = [cache.has(key) for key in keys]  # one look: the passes below must agree
    waiting: dict[str, list[int]] = {}  # each missing take, with every segment that speaks it
    for index, key in enumerate(keys):
        if not cached[index]:
            waiting.setdefault(key, []).append(index)
    missing = [(indices[0], key, segments[indices[0]].text) for key, indices in waiting.items()]
    hits = [index for index, hit in enumerate(cached) if hit]
    seconds = sum(cache.seconds(keys[index]) for index in hits)
    done = len(hits)
    if progress:
        progress(done, len(keys), seconds)
    if on_take:
        for index in hits:
            on_take(index, records[index])
    if not missing:
        return records

    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    worker = context.Process(
        target=_synthesis_worker,
        args=(profile, cache_dir, missing, messages, device),
        daemon=True,
    )
    worker.start()
    try:
        while done < len(keys):
            try:
                message = messages.get(timeout=1.0)
            except queue.Empty:
                if not worker.is_alive():
                    raise StudioError(
                        f"the synthesis worker stopped unexpectedly (exit code {worker.exitcode})"
                    ) from None
                continue
            if message[0] == "error":
                raise StudioError(message[1])
            _, index, attempts, notes, take_seconds = message
            for same in waiting[keys[index]]:  # a repeated sentence is synthesized once
                records[same] = TakeRecord(keys[same], False, attempts, notes)
                if on_take:
                    on_take(same, records[same])
                done += 1
                seconds += take_seconds
            if progress:
                progress(done, len(keys), seconds)
    finally:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
    return records


def _synthesis_worker(
    profile: VoiceProfile,
    cache_dir: Path,
    work: list[tuple[int, str, str]],
    messages: multiprocessing.Queue,
    device: str | None = None,
) -> None:
    try:
        engine = open_engine(profile, cache_dir, device=device)
        cache = TakeCache(cache_dir)

        def make(item: tuple[int, str, str]) -> None:
            index, key, text = item
            synthesis = engine.synthesize(text)
            meta = {"attempts": synthesis.attempts, "notes": synthesis.notes}
            audio, rate = cache.put(key, synthesis.audio, engine.sample_rate, meta)
            messages.put(("done", index, synthesis.attempts, synthesis.notes, len(audio) / rate))

        with ThreadPoolExecutor(engine.synthesis_threads) as pool:
            for _ in pool.map(make, work):
                pass
    except StudioError as error:
        messages.put(("error", str(error)))
    except Exception as error:  # the parent prints one line; the cause is named in it
        messages.put(("error", f"synthesis failed: {type(error).__name__}: {error}"))
