"""The take lifecycle after synthesis: what the manifest records of a take, reading takes back from
the cache, and a raw take cleaned of breaths into a take of its own.

A take lives in the `TakeCache` under its key; everything here works on keys and records, never
on an engine, so the stages after synthesis need nothing from the synthesis stack.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

from studio.breath import BreathSettings, clean_take
from studio.cache import TakeCache
from studio.errors import StudioError
from studio.types import Take


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
        return read_take(self.cache, self.records[index])

    def __iter__(self) -> Iterator[Take]:
        return (self[i] for i in range(len(self)))


def read_take(cache: TakeCache, record: TakeRecord) -> Take:
    """The take `record` names, from the cache."""
    stored = cache.get(record.key)
    if stored is None:
        raise StudioError(f"take {record.key[:12]} left the cache mid-render: render again")
    return Take(stored[0], stored[1], cached=record.cached)


def cached_record(cache: TakeCache, key: str) -> TakeRecord:
    """The record of a take already in the cache, from the meta stored beside it."""
    meta = cache.meta(key)
    return TakeRecord(
        key,
        cached=True,
        attempts=int(meta.get("attempts", 1)),
        notes=tuple(meta.get("notes", ())),
        breaths=tuple(meta.get("breaths", ())),
    )


def cleaned_records(
    raw: Sequence[TakeRecord], keys: Sequence[str], cache: TakeCache, breath: BreathSettings
) -> list[TakeRecord]:
    """Each raw take with its breaths treated, cached under `keys[i]`.

    It runs in the render's own process, not the synthesis worker (a render cleans each take as
    it arrives, while the rest are synthesized). Raw takes stay cached too: changing the breath
    settings re-cleans, it does not re-synthesize.
    """
    return [cleaned_record(r, key, cache, breath) for r, key in zip(raw, keys, strict=True)]


def cleaned_record(
    record: TakeRecord, key: str, cache: TakeCache, breath: BreathSettings
) -> TakeRecord:
    """One raw take cleaned of breaths: its cleaned take is cached under `key`."""
    if key == record.key:  # cleaning is off: the raw take is the take
        return record
    if not cache.has(key):
        raw = read_take(cache, record)
        audio, events = clean_take(raw.audio, raw.sample_rate, breath)
        breaths = [event.to_json() for event in events]
        meta = {"attempts": record.attempts, "notes": record.notes, "breaths": breaths}
        cache.put(key, audio, raw.sample_rate, meta)
    return replace(cached_record(cache, key), cached=record.cached)
