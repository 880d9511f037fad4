"""Script to takes: every segment's audio in the take cache, synthesized where it is missing.

Synthesis runs in a worker process. The engine imports torch (about half a gigabyte resident on
its own) and holds the model; once the takes are cached neither is needed again, and a separate
process gives all of that memory back before the episode is assembled and mastered. It also
keeps an unchanged re-render from importing torch at all.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

from studio.breath import BreathSettings, clean_take
from studio.cache import TakeCache
from studio.errors import StudioError
from studio.types import Script, Take
from studio.voices import VoiceProfile, open_engine

# Called after each take: (takes done, takes in all, seconds of audio so far).
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class TakeRecord:
    """What the manifest says about one segment's take."""

    key: str
    cached: bool
    attempts: int = 1
    notes: tuple[str, ...] = ()
    breaths: tuple[dict[str, Any], ...] = ()  # BreathEvent.to_json() of each breath cleaned


class CachedTakes(Sequence[Take]):
    """The takes of a script, read from the cache one at a time as they are needed."""

    def __init__(self, cache: TakeCache, records: Sequence[TakeRecord]) -> None:
        self.cache = cache
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> Take: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Take]: ...
    def __getitem__(self, index: int | slice) -> Take | Sequence[Take]:
        if isinstance(index, slice):
            return CachedTakes(self.cache, self.records[index])
        record = self.records[index]
        stored = self.cache.get(record.key)
        if stored is None:
            raise StudioError(f"take {record.key[:12]} left the cache mid-render: render again")
        return Take(stored[0], stored[1], cached=record.cached)

    def __iter__(self) -> Iterator[Take]:
        return (self[i] for i in range(len(self)))


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
    records = [_cached_record(cache, key) for key in keys]
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


def clean(
    raw: Sequence[TakeRecord], keys: Sequence[str], cache: TakeCache, breath: BreathSettings
) -> list[TakeRecord]:
    """The clean stage: each raw take with its breaths treated, cached under `keys[i]`.

    It runs in the render's own process, not the synthesis worker (a render cleans each take as
    it arrives, while the rest are synthesized). Raw takes stay cached too: changing the breath
    settings re-cleans, it does not re-synthesize.
    """
    return [clean_one(record, key, cache, breath) for record, key in zip(raw, keys, strict=True)]


def clean_one(record: TakeRecord, key: str, cache: TakeCache, breath: BreathSettings) -> TakeRecord:
    """One raw take through the clean stage: its cleaned take is cached under `key`."""
    if key == record.key:  # cleaning is off: the raw take is the take
        return record
    if not cache.has(key):
        stored = cache.get(record.key)
        if stored is None:
            raise StudioError(f"take {record.key[:12]} left the cache mid-render: render again")
        audio, events = clean_take(stored[0], stored[1], breath)
        breaths = [event.to_json() for event in events]
        meta = {"attempts": record.attempts, "notes": record.notes, "breaths": breaths}
        cache.put(key, audio, stored[1], meta)
    return replace(_cached_record(cache, key), cached=record.cached)


def _cached_record(cache: TakeCache, key: str) -> TakeRecord:
    meta = cache.meta(key)
    return TakeRecord(
        key,
        cached=True,
        attempts=int(meta.get("attempts", 1)),
        notes=tuple(meta.get("notes", ())),
        breaths=tuple(meta.get("breaths", ())),
    )


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
