"""Script to takes: every segment's audio in the take cache, synthesized where it is missing.

Synthesis runs in a worker process. The engine imports torch (about half a gigabyte resident on
its own) and holds the model; once the takes are cached neither is needed again, and a separate
process gives all of that memory back before the episode is assembled and mastered. It also
keeps an unchanged re-render from importing torch at all.

The worker is the render's alone: it ignores Ctrl-C (the render decides, and stops it at once),
and it dies with the render however the render dies. Each take is claimed in the cache before it
is made, so two renders that need the same takes share the work instead of doubling it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

from studio.cache import TakeCache, TakeClaim
from studio.engines.base import Engine
from studio.errors import StudioError
from studio.takes import TakeRecord, cached_record
from studio.types import Script
from studio.voices import VoiceProfile, open_engine

# Called after each take: (takes done, takes in all, seconds of audio so far).
Progress = Callable[[int, int, float], None]

# How often a render waiting on takes another render has claimed looks for them (seconds).
CLAIM_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def synthesize(
    script: Script,
    keys: Sequence[str],
    profile: VoiceProfile,
    cache_dir: Path,
    progress: Progress | None = None,
    device: str | None = None,
    on_take: Callable[[int, TakeRecord], None] | None = None,
    seeds: Sequence[int | None] | None = None,
) -> list[TakeRecord]:
    """Make sure every segment's take is in the cache; report which ones had to be made.

    `seeds[i]`, where given, is the seed segment i is synthesized with instead of the voice's
    own (a retake); its key must be the one `render.take_keys` gives for that seed.

    `device` ("cpu", "cuda", ...; None for the GPU when there is one) is where the worker runs
    the model; it is not part of a take's key: a take is as good from either. `on_take` hears of
    each take as soon as it is in the cache (the cached ones first), so later stages can start
    on it while the rest are synthesized. A take another render is making meanwhile is waited
    for, not made twice; it counts as cached.
    """
    cache = TakeCache(cache_dir)
    segments = script.segments
    records = [cached_record(cache, key) for key in keys]
    cached = [cache.has(key) for key in keys]  # one look: the passes below must agree
    waiting: dict[str, list[int]] = {}  # each missing take, with every segment that speaks it
    for index, key in enumerate(keys):
        if not cached[index]:
            waiting.setdefault(key, []).append(index)
    hits = [index for index, hit in enumerate(cached) if hit]
    seconds = sum(cache.seconds(keys[index]) for index in hits)
    done = len(hits)
    if progress:
        progress(done, len(keys), seconds)
    if on_take:
        for index in hits:
            on_take(index, records[index])
    if not waiting:
        return records

    def land(key: str, record: TakeRecord, take_seconds: float) -> None:
        nonlocal done, seconds
        for same in waiting.pop(key):  # a repeated sentence is synthesized once
            records[same] = record
            if on_take:
                on_take(same, records[same])
            done += 1
            seconds += take_seconds
        if progress:
            progress(done, len(keys), seconds)

    with _Worker(profile, cache_dir, device) as worker:
        claims: dict[str, TakeClaim] = {}
        try:
            while waiting:
                for key in [k for k in waiting if k not in claims]:
                    if cache.has(key):  # made by another render meanwhile
                        land(key, cached_record(cache, key), cache.seconds(key))
                    elif len(claims) < worker.capacity and (claim := cache.claim(key)):
                        if cache.has(key):  # finished just before its claim came free
                            claim.release()
                            land(key, cached_record(cache, key), cache.seconds(key))
                            continue
                        claims[key] = claim
                        index = waiting[key][0]
                        seed = seeds[index] if seeds is not None else None
                        worker.send((index, key, segments[index].text, seed))
                if not claims:  # every missing take is another render's: wait for it
                    if waiting:
                        worker.idle(CLAIM_POLL_SECONDS)
                    continue
                made = worker.receive(CLAIM_POLL_SECONDS)
                if made is not None:
                    index, attempts, notes, take_seconds = made
                    key = keys[index]
                    claims.pop(key).release()
                    land(key, TakeRecord(key, False, attempts, tuple(notes)), take_seconds)
        finally:
            for claim in claims.values():
                claim.release()
    return records


class _Worker:
    """The synthesis process, started when the first take is handed to it.

    It talks over two one-way pipes, not queues: a queue's named semaphores are tracked by
    Python's resource tracker, which printed "leaked semaphore" warnings under the interrupt
    message when a render was stopped while they were being released.
    """

    def __init__(self, profile: VoiceProfile, cache_dir: Path, device: str | None) -> None:
        self._args = (profile, cache_dir, device)
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._work: Connection | None = None  # takes to make, to the worker
        self._messages: Connection | None = None  # what became of them, from the worker
        self.capacity = 2  # takes handed over at once; the worker says how many it can run

    def __enter__(self) -> _Worker:
        return self

    def send(self, item: tuple[int, str, str, int | None]) -> None:
        if self._process is None:
            self._start()
        assert self._work is not None
        try:
            self._work.send(item)
        except OSError:  # the worker is gone; its exit code says more than the broken pipe
            raise self._stopped() from None

    def idle(self, seconds: float) -> None:
        threading.Event().wait(seconds)

    def receive(self, timeout: float) -> tuple[int, int, list[str], float] | None:
        """The next take made, or None if none was within `timeout` seconds."""
        assert self._messages is not None and self._process is not None
        try:
            if not self._messages.poll(timeout):
                if not self._process.is_alive():
                    raise self._stopped()
                return None
            message = self._messages.recv()
        except (EOFError, OSError):
            raise self._stopped() from None
        if message[0] == "error":
            raise StudioError(message[1])
        if message[0] == "ready":
            self.capacity = message[1] + 1  # one queued behind the ones running
            return None
        return message[1:]

    def _stopped(self) -> StudioError:
        assert self._process is not None
        self._process.join(timeout=1)
        return StudioError(
            f"the synthesis worker stopped unexpectedly (exit code {self._process.exitcode})"
        )

    def _start(self) -> None:
        work_out, self._work = self._context.Pipe(duplex=False)
        self._messages, messages_in = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=_synthesis_worker,
            args=(*self._args, work_out, messages_in, os.getpid()),
            daemon=True,
        )
        with _sigint_ignored():  # inherited through exec: covers the worker's start-up too
            self._process.start()
        # The worker's ends are its own now: closing ours lets a dead worker read as EOF.
        work_out.close()
        messages_in.close()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        process = self._process
        if process is None:
            return
        assert self._work is not None and self._messages is not None
        if kind is None:  # every take is in: let the worker finish tidily
            with contextlib.suppress(OSError):
                self._work.send(None)
            process.join(timeout=10)
        # Interrupted or failed: stop now. Finished takes are already in the cache (each is
        # renamed into place whole), and an unfinished one is swept by a later run.
        if process.is_alive():
            process.kill()
            process.join()
        self._work.close()
        self._messages.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _die_with_parent(parent_pid: int) -> None:
    """End this process when the render that started it ends, even by `kill -9`.

    Linux's PR_SET_PDEATHSIG does it in the kernel; elsewhere (and as a second line) a thread
    waits on the pipe from the parent that only closes when the parent is gone.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
    parent = multiprocessing.parent_process()
    if parent is not None:
        sentinel = parent.sentinel

        def exit_when_parent_exits() -> None:
            multiprocessing.connection.wait([sentinel])
            os._exit(1)

        threading.Thread(target=exit_when_parent_exits, daemon=True).start()


def _synthesis_worker(
    profile: VoiceProfile,
    cache_dir: Path,
    device: str | None,
    work: Connection,
    messages_out: Connection,
    parent_pid: int,
) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the render's to handle
    sending = threading.Lock()  # the pool's threads share one pipe

    def tell(message: tuple) -> None:
        with sending:
            messages_out.send(message)

    try:
        engine = open_engine(profile, cache_dir, device=device)
        cache = TakeCache(cache_dir)
        tell(("ready", engine.synthesis_threads))
        # A retake speaks with the voice as it would be with another seed: that voice's engine,
        # opened on first use (its model loads lazily, like the voice's own).
        seeded: dict[int, Engine] = {}
        seeded_lock = threading.Lock()

        def engine_for(seed: int | None) -> Engine:
            if seed is None or seed == profile.seed:
                return engine
            with seeded_lock:
                if seed not in seeded:
                    with_seed = getattr(engine, "with_seed", None)  # shares a loaded model
                    voice = profile.model_copy(update={"seed": seed})
                    seeded[seed] = (
                        with_seed(seed)
                        if with_seed
                        else open_engine(voice, cache_dir, device=device)
                    )
                return seeded[seed]

        def make(item: tuple[int, str, str, int | None]) -> None:
            index, key, text, seed = item
            try:
                attempts, notes, seconds = make_take(engine_for(seed), cache, key, text)
            except Exception as error:  # the parent prints one line; the cause is named in it
                tell(("error", failure_message(error)))
                return
            tell(("done", index, attempts, notes, seconds))

        with ThreadPoolExecutor(engine.synthesis_threads) as pool:
            while (item := work.recv()) is not None:
                pool.submit(make, item)
    except EOFError:  # the render is gone; so is whoever would read an error
        return
    except Exception as error:  # the parent prints one line; the cause is named in it
        tell(("error", failure_message(error)))


def make_take(
    engine: Engine, cache: TakeCache, key: str, text: str
) -> tuple[int, list[str], float]:
    """Synthesize one take into `cache` under `key`: (attempts, notes, seconds of audio).

    The one way a take is made, in a render's worker process or on a cluster's worker, so that
    a take is the same file wherever it was made.
    """
    synthesis = engine.synthesize(text)
    meta = {"attempts": synthesis.attempts, "notes": synthesis.notes}
    audio, rate = cache.put(key, synthesis.audio, engine.sample_rate, meta)
    return synthesis.attempts, list(synthesis.notes), len(audio) / rate


def failure_message(error: Exception) -> str:
    """One line for a take that could not be made: studio's own message, else the cause named."""
    if isinstance(error, StudioError):
        return str(error)
    return f"synthesis failed: {type(error).__name__}: {error}"
