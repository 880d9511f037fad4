"""Building a show on a Ray cluster (`studio build --executor ray`).

The plan is made here, where the command runs: which essays are stale and which of their raw
takes are missing from the local take cache. The missing takes are made by Ray actors, each
holding one loaded voice (a GPU each for a voice on `cuda`, a CPU each otherwise), fed one
episode after another, longest first, each episode's takes in script order. Each take comes
back through Ray's object store as the cache files a local synthesis would have written, and
lands in the local cache at once: an interrupted cluster build resumes from what finished.

Each episode is assembled, mastered and encoded on an `Assembler` actor, streamed as a local
render streams it: the episode takes an assembler as soon as one is free, is sent the takes of
it already in the local cache, then each new one as it lands, into the same
`assembly.EpisodeProducer`, so that its MP3 is nearly done when its last take lands. The
assembler hands back the MP3; the sidecars and the manifest are written here, last, as a local
render writes them. Hence the same bytes.

Ray is imported only when a build asks for it (`pip install 'studio[ray]'`). Every machine of
the cluster needs the same studio installed, and the voice's files at the same paths.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.assembly import EpisodeProducer
from studio.breath import BreathSettings
from studio.cache import StoredTake, TakeCache, default_cache_dir
from studio.config import RenderSettings
from studio.errors import StudioError
from studio.files import write_bytes_atomic
from studio.publish.mp3 import Id3Tags
from studio.render import Prepared, finish_render, is_up_to_date, prepare, start_render
from studio.show.build import BuildEvent, BuildProgress, EssayJob, EssayOutcome, render_job
from studio.synthesize import failure_message, make_take
from studio.takes import TakeRecord, cached_record
from studio.types import Script, Timeline
from studio.voices import VoiceProfile, open_engine

# Takes handed to one actor at once: one running, one queued behind it, so an actor never
# waits for the driver between takes.
TAKES_PER_ACTOR = 2
# Actors of one voice that may die (a node lost, a worker killed) before its essays fail.
SPARE_ACTORS = 3
# A phrase each actor speaks once before it takes work: the voice loads where it will run,
# and a voice that cannot (files missing on that machine, a broken model) says so up front.
WARM_UP = "Ready."
_WAIT_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class RayOptions:
    """Where and how wide a cluster build runs."""

    address: str | None = None  # a running cluster ("host:port"); None: a local Ray for this build
    workers: int | None = None  # synthesis actors per voice; None: one per CPU (GPU) of the cluster


@dataclasses.dataclass(frozen=True)
class TakeMade:
    """What an actor hands back for one take: its cache files, or why it could not be made."""

    key: str
    take: StoredTake | None
    seconds: float
    error: str = ""


@dataclasses.dataclass(frozen=True)
class EpisodeWork:
    """Everything a worker needs to assemble one episode, with no path of the build's machine;
    its takes follow one by one (`Assembler.add`)."""

    script: Script
    keys: tuple[str, ...]  # cleaned takes, by segment
    settings: RenderSettings
    breath: BreathSettings
    tags: Id3Tags  # without the cover, which travels as bytes
    cover: tuple[str, bytes] | None  # the cover's file name and contents


@dataclasses.dataclass(frozen=True)
class EpisodeMade:
    mp3: bytes = b""
    records: tuple[TakeRecord, ...] = ()
    timeline: Timeline | None = None
    cleaned: tuple[StoredTake, ...] = ()  # cleaned takes the build's cache does not hold yet
    error: str = ""


class TakeMaker:
    """A Ray actor: one voice, loaded once, making takes into a scratch cache of its own and
    handing back their files (then dropped: the build's cache is the one that keeps them)."""

    def __init__(self, profile: VoiceProfile, device: str | None, cores: int | None) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="studio-takes-")
        self._cache = TakeCache(Path(self._scratch.name))
        self._error = ""
        self._identity: dict[str, Any] = {}
        try:
            # Model digests and the bundled voice's seeded model stay in this machine's cache.
            self._engine = open_engine(profile, default_cache_dir(), device=device, cores=cores)
            self._identity = self._engine.identity()
            self._engine.synthesize(WARM_UP)
        except Exception as error:  # reported by ready(), as one line
            self._error = failure_message(error)

    def ready(self) -> dict[str, Any]:
        """The voice's identity (to check it is the driver's voice), or why it did not load."""
        return {"identity": self._identity, "error": self._error, "host": socket.gethostname()}

    def make(self, key: str, text: str) -> TakeMade:
        try:
            _, _, seconds = make_take(self._engine, self._cache, key, text)
            take = self._cache.entry(key)
            if take is None:
                raise StudioError(f"take {key[:12]} vanished from the worker's scratch cache")
        except Exception as error:  # the build fails this take's essays with the line
            return TakeMade(key, None, 0.0, failure_message(error))
        finally:
            path = self._cache.path(key)
            for made in (path, path.with_suffix(".json")):
                made.unlink(missing_ok=True)
        return TakeMade(key, take, seconds)


class EpisodeStream:
    """One episode being assembled on a worker: a scratch cache that its takes' files are
    stored into as they arrive, in any order, and the `EpisodeProducer` that a local render
    runs, told of each. Its first error is kept (and the producer stopped) for `finish`."""

    def __init__(self, work: EpisodeWork) -> None:
        self.work = work
        self._scratch = tempfile.TemporaryDirectory(prefix="studio-episode-")
        self._root = Path(self._scratch.name)
        self.cache = TakeCache(self._root)
        self.mp3 = self._root / "episode.mp3"
        self.error = ""
        self._stored: set[str] = set()  # takes sent by the build (so not to be sent back)
        self._missing = set(range(len(work.keys)))  # segments whose take has not arrived
        self._producer: EpisodeProducer | None = None

    def start(self) -> None:
        work = self.work
        tags = work.tags
        try:
            if work.cover is not None:
                name, data = work.cover
                (self._root / name).write_bytes(data)
                tags = dataclasses.replace(tags, cover=self._root / name)
            producer = EpisodeProducer(
                work.script,
                work.keys,
                self.cache,
                work.settings,
                breath=work.breath,
                mp3=self.mp3,
                tags=tags,
            )
            producer.start()
            self._producer = producer
        except Exception as error:
            self.fail(_message(error))

    def add(
        self,
        indices: tuple[int, ...],
        record: TakeRecord,
        take: StoredTake,
        cleaned: tuple[StoredTake, ...],
    ) -> None:
        """The raw take of segments `indices` (and its cleaned take, where the build has it)."""
        if self.error or self._producer is None:
            return
        try:
            for stored in (take, *cleaned):
                if stored.key not in self._stored:
                    self.cache.store(stored)
                    self._stored.add(stored.key)
            for index in indices:
                self._missing.discard(index)
                self._producer.take_ready(index, record)
        except Exception as error:
            self.fail(_message(error))

    def finish(self) -> EpisodeMade:
        """The episode, once every take has been added (else why not, at once: a take that
        never arrived must not leave the producer waiting for it)."""
        if not self.error and self._missing:
            self.fail(f"{len(self._missing)} of its takes never reached the assembler: build again")
        if self.error or self._producer is None:
            return EpisodeMade(error=self.error)
        try:
            records, timeline = self._producer.result()
            cleaned = tuple(
                take
                for key in dict.fromkeys(self.work.keys)
                if key not in self._stored and (take := self.cache.entry(key)) is not None
            )
            return EpisodeMade(self.mp3.read_bytes(), tuple(records), timeline, cleaned)
        except Exception as error:  # one line for the essay's outcome
            return EpisodeMade(error=_message(error))

    def fail(self, error: str) -> None:
        self.error = self.error or error
        if self._producer is not None:
            self._producer.abort()  # it stops, and drops its partial file

    def close(self) -> None:
        if self._producer is not None and self._producer.is_alive():
            self._producer.abort()
        self._scratch.cleanup()


class Assembler:
    """A Ray actor that assembles one episode at a time, streamed: `begin`, then `add` for
    each take as the build has it, then `finish`. Ray runs a synchronous actor's calls from one
    caller in the order they were made, so `finish` comes after every `add` before it.

    It lives for the whole build, so its process and imports (studio, numpy, scipy) are ready
    before the first take is: a task's worker, idle while the takes are made, is reaped by Ray
    and a new one started (about 1.5-2.5 s) when it is needed."""

    def __init__(self) -> None:
        import studio.master  # noqa: F401  (scipy and friends, while the voices load)

        self._stream: EpisodeStream | None = None

    def begin(self, work: EpisodeWork) -> str:
        self.abort()  # none is expected: the build aborts or finishes each episode it begins
        self._stream = EpisodeStream(work)
        self._stream.start()
        return self._stream.error

    def add(
        self,
        indices: tuple[int, ...],
        record: TakeRecord,
        take: TakeMade | StoredTake,
        cleaned: tuple[StoredTake, ...],
    ) -> str:
        """The take, made by a `TakeMaker` (its result, which Ray hands over from wherever it
        was made) or from the build's cache; the error the episode has, if any."""
        if self._stream is None:
            return "a take reached an assembler with no episode (a bug: please report)"
        stored = take.take if isinstance(take, TakeMade) else take
        if stored is None:
            self._stream.fail(f"take {take.key[:12]} was sent unmade (a bug: please report)")
        else:
            self._stream.add(indices, record, stored, cleaned)
        return self._stream.error

    def finish(self) -> EpisodeMade:
        stream, self._stream = self._stream, None
        if stream is None:
            return EpisodeMade(error="an assembler finished no episode (a bug: please report)")
        try:
            return stream.finish()
        finally:
            stream.close()

    def abort(self) -> None:
        """Drop the episode in hand, if any (its essay failed elsewhere)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.fail("aborted")
            stream.close()


@dataclasses.dataclass(eq=False)
class _Episode:
    job: EssayJob
    prepared: Prepared
    tags: Id3Tags
    waiting: set[str]  # raw takes not in the local cache yet
    made_here: set[str]  # raw takes this build makes for this episode (not cached, in its manifest)
    # "queued" (for an assembler), "streaming" (its takes sent as they land), "finishing" (all
    # sent), then "done" or "failed"
    state: str = "queued"
    assembler: _Assembler | None = None
    unsent: set[str] = dataclasses.field(default_factory=set)  # raw takes not sent to it yet

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")


@dataclasses.dataclass(eq=False)
class _Take:
    key: str
    text: str
    episodes: list[_Episode]  # in plan order: the first one is the one that "made" it


@dataclasses.dataclass(eq=False)
class _Assembler:
    handle: Any
    lost: bool = False  # it died; another took its place


@dataclasses.dataclass(eq=False)
class _Actor:
    handle: Any
    voice: _Voice
    ready: bool = False
    in_flight: int = 0


@dataclasses.dataclass(eq=False)
class _Voice:
    name: str
    profile: VoiceProfile
    identity: dict[str, Any]
    device: str | None
    queue: deque[_Take]
    actors: list[_Actor] = dataclasses.field(default_factory=list)
    spares: int = SPARE_ACTORS
    error: str = ""

    @property
    def wants_gpu(self) -> bool:
        return self.profile.engine != "bundled" and (self.device or "").startswith("cuda")


def run_on_ray(
    jobs: list[EssayJob], options: RayOptions, emit: BuildProgress
) -> Iterator[EssayOutcome]:
    """Render `jobs` on Ray, yielding each essay's outcome as it is known (see the module)."""
    started = time.perf_counter()
    episodes: list[_Episode] = []
    for job in jobs:
        try:
            prepared = prepare(job.request, job.cache_dir)
            if not job.request.force and is_up_to_date(prepared):
                outcome = render_job(job)
                emit(BuildEvent("done", slug=job.slug, outcome=outcome))
                yield outcome
                continue
            tags = start_render(prepared, job.request, job.cache_dir)
        except Exception as error:  # one essay's problem must not stop the show
            outcome = EssayOutcome(job.slug, job.name, "failed", error=_message(error))
            emit(BuildEvent("done", slug=job.slug, outcome=outcome))
            yield outcome
            continue
        episodes.append(_Episode(job, prepared, tags, set(), set()))
    if episodes:
        yield from _RayBuild(episodes, options, emit, started).run()


class _RayBuild:
    """One cluster build's driver: its plan, its actors, and what Ray is doing for it."""

    def __init__(
        self, episodes: list[_Episode], options: RayOptions, emit: BuildProgress, started: float
    ) -> None:
        self.episodes = episodes
        self.options = options
        self.emit = emit
        self.started = started
        self.cache = TakeCache(episodes[0].job.cache_dir)
        self.plan = _plan_takes(episodes, self.cache)
        self.voices: list[_Voice] = []
        self.pending: dict[Any, tuple[str, Any]] = {}  # Ray ref -> (what it is, its subject)
        self.made_refs: dict[str, Any] = {}  # take key -> an actor's result, while still needed
        # Episodes waiting for an assembler: those with every take cached first (they can be
        # assembled whole at once), then in the order their takes are made.
        self.to_assemble = deque(
            sorted(_longest_first(episodes), key=lambda episode: bool(episode.waiting))
        )
        # How many episodes not sent it yet speak each take.
        self.needed = Counter(k for e in episodes for k in dict.fromkeys(e.prepared.raw_keys))
        self.idle_assemblers: deque[_Assembler] = deque()  # with no episode in hand
        self.assemblers: list[_Assembler] = []  # every one of them
        self.done = self.total = 0
        self.seconds = 0.0
        for episode in episodes:
            for key in episode.prepared.raw_keys:
                self.total += 1
                if key not in episode.waiting:
                    self.done += 1
                    self.seconds += self.cache.seconds(key)

    def run(self) -> Iterator[EssayOutcome]:
        self.emit(BuildEvent("takes", done=self.done, total=self.total, seconds=self.seconds))
        self.ray, ours = _connect(self.options)
        ray = self.ray
        try:
            self.maker = ray.remote(TakeMaker)
            # Assembly asks Ray for no CPU: the synthesis workers hold every CPU until the last
            # take, and an episode must not wait for that. It shares the cores with them, as a
            # local render's assembly threads share them with its synthesis: one assembler
            # actor per CPU of the cluster (at most one per episode), spread over the machines,
            # each streaming one episode at a time.
            self.assembler = ray.remote(Assembler).options(num_cpus=0, scheduling_strategy="SPREAD")
            slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
            for _ in range(min(slots, len(self.episodes))):
                self.idle_assemblers.append(self._new_assembler())
            self.voices = self._voices()
            for voice in self.voices:
                for _ in range(self._actor_count(voice)):
                    self._start_actor(voice)
            while True:
                for voice in self.voices:
                    yield from self._fail_if_stuck(voice)
                    self._dispatch(voice)
                yield from self._start_assembly()
                if not self.pending:
                    break  # nothing in flight, so nothing left that could move
                refs = list(self.pending)
                ready, _ = ray.wait(refs, num_returns=1, timeout=_WAIT_SECONDS)
                if ready and len(refs) > 1:  # and whatever else is in, in one turn
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                for ref in ready:
                    kind, subject = self.pending.pop(ref)
                    if kind == "ready":
                        self._actor_ready(subject, ref)
                    elif kind == "take":
                        yield from self._take_done(*subject, ref)
                    elif kind == "sent":
                        yield from self._sent(*subject, ref)
                    elif kind == "released":
                        self._released(subject, ref)
                    else:
                        yield self._episode_done(subject, ref)
                for voice in self.voices:
                    self._release_idle(voice)
            for episode in self.episodes:  # none should be left; if one is, say so
                if not episode.over:
                    yield self._failed(episode, "its takes were never made (a bug: please report)")
        finally:
            for assembler in self.assemblers:  # an episode in hand is dropped with it
                with contextlib.suppress(Exception):
                    ray.kill(assembler.handle)
            for voice in self.voices:
                for actor in voice.actors:
                    with contextlib.suppress(Exception):
                        ray.kill(actor.handle)
            if ours:
                ray.shutdown()

    # --- outcomes

    def _finished(self, outcome: EssayOutcome) -> EssayOutcome:
        self.emit(BuildEvent("done", slug=outcome.slug, outcome=outcome))
        return outcome

    def _failed(self, episode: _Episode, error: str) -> EssayOutcome:
        """The episode fails: its assembler (if streaming it) drops it, and the takes it was
        still to be sent are no longer held for it."""
        streaming = episode.state == "streaming"
        episode.state = "failed"
        for key in episode.unsent:
            self._let_go(key)
        episode.unsent.clear()
        assembler = episode.assembler
        if streaming and assembler is not None and not assembler.lost:
            # Free again once it has dropped the episode (or, if it died, replaced).
            self.pending[assembler.handle.abort.remote()] = ("released", assembler)
        job = episode.job
        elapsed = time.perf_counter() - self.started
        return self._finished(EssayOutcome(job.slug, job.name, "failed", elapsed, error=error))

    # --- voices and their actors

    def _voices(self) -> list[_Voice]:
        voices = []
        gpus = self.ray.cluster_resources().get("GPU", 0)
        for name, takes in self.plan.items():
            episode = takes[0].episodes[0]
            profile, device = episode.prepared.profile, episode.job.request.device
            if profile.engine != "bundled" and device is None:
                device = "cuda" if gpus >= 1 else "cpu"  # auto: a GPU if the cluster has one
            identity = episode.prepared.engine.identity()
            voice = _Voice(name, profile, identity, device, deque(takes))
            if voice.wants_gpu and gpus < 1:
                voice.error = (
                    f"voice '{name}' runs on {device}, and the Ray cluster has no GPU: add the "
                    "GPU machines with `ray start --address=...`, or build with --device cpu"
                )
            voices.append(voice)
        return voices

    def _actor_count(self, voice: _Voice) -> int:
        if voice.error:
            return 0
        room = int(self.ray.cluster_resources().get("GPU" if voice.wants_gpu else "CPU", 0))
        return max(1, min(self.options.workers or room, room, len(voice.queue)))

    def _start_actor(self, voice: _Voice) -> None:
        if voice.wants_gpu:  # Ray hands the actor its GPU as cuda:0
            options: dict[str, Any] = {"num_cpus": 1, "num_gpus": 1}
            device, cores = "cuda", None
        else:
            options = {"num_cpus": 1}
            device, cores = voice.device, 1
        handle = self.maker.options(**options).remote(voice.profile, device, cores)
        actor = _Actor(handle, voice)
        voice.actors.append(actor)
        self.pending[handle.ready.remote()] = ("ready", actor)

    def _actor_ready(self, actor: _Actor, ref: Any) -> None:
        voice = actor.voice
        if actor not in voice.actors:
            return  # let go while it loaded: its voice had no takes left
        try:
            state = self.ray.get(ref)
        except self.ray.exceptions.RayActorError as error:
            state = {"error": _one_line(error), "identity": voice.identity, "host": "a worker"}
        if not state["error"] and state["identity"] != voice.identity:
            state["error"] = (
                "its model or settings differ from this machine's: install the same voice "
                "files at the same paths on every machine"
            )
        if state["error"]:
            self._drop(actor)
            voice.error = f"voice '{voice.name}' cannot load on {state['host']}: {state['error']}"
            return
        actor.ready = True

    def _drop(self, actor: _Actor) -> None:
        actor.voice.actors.remove(actor)
        with contextlib.suppress(Exception):
            self.ray.kill(actor.handle)

    def _dispatch(self, voice: _Voice) -> None:
        """Hand the voice's next takes to its ready actors, up to TAKES_PER_ACTOR each."""
        for actor in voice.actors:
            while actor.ready and actor.in_flight < TAKES_PER_ACTOR and voice.queue:
                take = voice.queue.popleft()
                if all(episode.over for episode in take.episodes):
                    continue  # every essay that needed it has failed
                actor.in_flight += 1
                ref = actor.handle.make.remote(take.key, take.text)
                self.pending[ref] = ("take", (actor, take))

    def _fail_if_stuck(self, voice: _Voice) -> Iterator[EssayOutcome]:
        """A voice with an error and no actor left fails the essays still waiting on it."""
        if not voice.error or voice.actors:
            return
        while voice.queue:
            for episode in voice.queue.popleft().episodes:
                if not episode.over:
                    yield self._failed(episode, voice.error)

    def _release_idle(self, voice: _Voice) -> None:
        """Once a voice has no takes left to make, its idle actors go, and their CPUs (GPUs)
        with them: the next voice's actors may need them."""
        if not voice.queue:
            for actor in [a for a in voice.actors if a.in_flight == 0]:
                self._drop(actor)

    # --- takes

    def _take_done(self, actor: _Actor, take: _Take, ref: Any) -> Iterator[EssayOutcome]:
        actor.in_flight -= 1
        try:
            made: TakeMade = self.ray.get(ref)
        except self.ray.exceptions.RayActorError:
            self._actor_lost(actor, take)
            return
        if made.error:
            for episode in take.episodes:
                if not episode.over:
                    yield self._failed(episode, made.error)
            return
        assert made.take is not None
        try:
            self.cache.store(made.take)  # in the local cache at once: a resumed build has it
        except (StudioError, OSError) as error:
            for episode in take.episodes:
                if not episode.over:
                    yield self._failed(episode, str(error))
            return
        if self.needed[take.key] > 0:
            self.made_refs[take.key] = ref
        for episode in take.episodes:
            count = episode.prepared.raw_keys.count(take.key)
            self.done += count
            self.seconds += count * made.seconds
            episode.waiting.discard(take.key)
            if episode.state == "streaming":
                yield from self._send(episode, take.key)
        self.emit(BuildEvent("takes", done=self.done, total=self.total, seconds=self.seconds))

    def _actor_lost(self, actor: _Actor, take: _Take) -> None:
        """An actor died with `take` in hand: the take goes first to the others, and a new actor
        takes the dead one's place while the voice has spares."""
        voice = actor.voice
        voice.queue.appendleft(take)
        if actor not in voice.actors:
            return  # its other take already told us
        voice.actors.remove(actor)
        if voice.spares > 0:
            voice.spares -= 1
            self._start_actor(voice)
        elif not voice.actors:
            voice.error = f"voice '{voice.name}': its synthesis workers keep dying (memory?)"

    # --- episodes

    def _new_assembler(self) -> _Assembler:
        assembler = _Assembler(self.assembler.remote())
        self.assemblers.append(assembler)
        return assembler

    def _start_assembly(self) -> Iterator[EssayOutcome]:
        """Each idle assembler begins the next episode waiting for one."""
        while self.to_assemble and self.idle_assemblers:
            episode = self.to_assemble.popleft()
            if not episode.over:
                yield from self._begin(episode, self.idle_assemblers.popleft())

    def _begin(self, episode: _Episode, assembler: _Assembler) -> Iterator[EssayOutcome]:
        """The episode streams on `assembler`: sent at once every take of it in the local
        cache (cached before the build or landed since), then each of the others as it lands."""
        prepared = episode.prepared
        try:
            cover = None
            if episode.tags.cover is not None:
                cover = (episode.tags.cover.name, Path(episode.tags.cover).read_bytes())
        except OSError as error:
            self.idle_assemblers.appendleft(assembler)
            yield self._failed(episode, str(error))
            return
        work = EpisodeWork(
            prepared.script,
            prepared.keys,
            episode.job.request.settings,
            prepared.breath,
            dataclasses.replace(episode.tags, cover=None),
            cover,
        )
        episode.state, episode.assembler = "streaming", assembler
        episode.unsent = set(prepared.raw_keys)
        self.pending[assembler.handle.begin.remote(work)] = ("sent", (episode, assembler))
        for key in dict.fromkeys(prepared.raw_keys):  # in script order, as they are used
            if key not in episode.waiting and episode.state == "streaming":
                yield from self._send(episode, key)
        if episode.state == "streaming" and not episode.unsent:
            self._finish(episode)  # (a script of no segments)

    def _send(self, episode: _Episode, key: str) -> Iterator[EssayOutcome]:
        """One raw take to the episode's assembler, for every segment that speaks it, with its
        cleaned take where the local cache has it (cleaned already: not cleaned again). A take
        made in this build goes as the actor's result, the rest from the local cache."""
        prepared = episode.prepared
        indices = tuple(i for i, k in enumerate(prepared.raw_keys) if k == key)
        try:
            record = cached_record(self.cache, key)
            record = dataclasses.replace(record, cached=key not in episode.made_here)
            take = self.made_refs.get(key) or _entry(self.cache, key)
            cleaned = tuple(
                entry
                for cleaned_key in dict.fromkeys(prepared.keys[i] for i in indices)
                if cleaned_key != key and (entry := self.cache.entry(cleaned_key)) is not None
            )
        except (StudioError, OSError) as error:
            yield self._failed(episode, str(error))
            return
        assert episode.assembler is not None
        ref = episode.assembler.handle.add.remote(indices, record, take, cleaned)
        self.pending[ref] = ("sent", (episode, episode.assembler))
        episode.unsent.discard(key)
        self._let_go(key)
        if not episode.unsent:
            self._finish(episode)

    def _let_go(self, key: str) -> None:
        """One episode fewer is to be sent the take: its result is dropped once none is."""
        self.needed[key] -= 1
        if self.needed[key] <= 0:
            self.made_refs.pop(key, None)

    def _finish(self, episode: _Episode) -> None:
        """Every take is sent: the episode comes back once the assembler has them all in."""
        assert episode.assembler is not None
        episode.state = "finishing"
        self.pending[episode.assembler.handle.finish.remote()] = ("episode", episode)

    def _sent(self, episode: _Episode, assembler: _Assembler, ref: Any) -> Iterator[EssayOutcome]:
        """A take (or the episode's start) reached the assembler: an episode still streaming
        fails as soon as its assembler has an error or is gone (a finishing one learns it from
        `finish`)."""
        try:
            error = self.ray.get(ref)
        except self.ray.exceptions.RayError as failure:
            if isinstance(failure, self.ray.exceptions.RayActorError):
                self._lose(assembler)
            error = f"its assembly failed: {_one_line(failure)}"
        if error and episode.state == "streaming" and episode.assembler is assembler:
            yield self._failed(episode, error)

    def _released(self, assembler: _Assembler, ref: Any) -> None:
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayError:
            self._lose(assembler)
            return
        self._idle(assembler)

    def _idle(self, assembler: _Assembler) -> None:
        if not assembler.lost:
            self.idle_assemblers.append(assembler)

    def _lose(self, assembler: _Assembler) -> None:
        """The assembler died (the episode in its hand fails): a new one takes its place."""
        if assembler.lost:
            return  # another of its calls already told
        assembler.lost = True
        with contextlib.suppress(Exception):
            self.ray.kill(assembler.handle)
        self.idle_assemblers.append(self._new_assembler())

    def _episode_done(self, episode: _Episode, ref: Any) -> EssayOutcome:
        """The episode's files written here: the MP3 whole, then sidecars and manifest (last)."""
        assembler = episode.assembler
        assert assembler is not None
        try:
            made: EpisodeMade = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            if isinstance(error, self.ray.exceptions.RayActorError):
                self._lose(assembler)
            else:
                self._idle(assembler)
            return self._failed(episode, f"its assembly failed: {_one_line(error)}")
        self._idle(assembler)
        if made.error:
            return self._failed(episode, made.error)
        assert made.timeline is not None
        prepared = episode.prepared
        try:
            for take in made.cleaned:
                self.cache.store(take)
            write_bytes_atomic(prepared.outputs["mp3"], made.mp3)
            result = finish_render(
                prepared, list(made.records), made.timeline, {}, started=self.started
            )
        except (StudioError, OSError) as error:
            return self._failed(episode, str(error))
        episode.state = "done"
        job = episode.job
        return self._finished(
            EssayOutcome(
                job.slug,
                job.name,
                "rendered",
                seconds=time.perf_counter() - self.started,
                duration=result.duration,
                synthesized=result.synthesized,
            )
        )


def _plan_takes(episodes: list[_Episode], cache: TakeCache) -> dict[str, list[_Take]]:
    """The missing raw takes by voice, each once however many segments speak it, in the order
    they are to be made: episodes longest first, and within one, in script order."""
    takes: dict[str, _Take] = {}
    by_voice: dict[str, list[_Take]] = {}
    present: dict[str, bool] = {}
    for episode in episodes:
        segments = episode.prepared.script.segments
        for index, key in enumerate(episode.prepared.raw_keys):
            if key in takes:
                if episode not in takes[key].episodes:
                    takes[key].episodes.append(episode)
                episode.waiting.add(key)
                continue
            if present.setdefault(key, cache.has(key)):
                continue
            take = takes[key] = _Take(key, segments[index].text, [episode])
            episode.made_here.add(key)
            episode.waiting.add(key)
            by_voice.setdefault(episode.job.request.voice, []).append(take)

    # Longest episodes first, so that the show's last takes belong to a short one. Within an
    # episode, script order, not longest take first: its assembler works in script order
    # (`EpisodeProducer`) and so streams the episode as its takes land, where takes made longest
    # first would leave its opening for last, and its whole assembly to follow its last take.
    # What that costs is at most one long take at the very end of the show's synthesis.
    rank = {id(e): i for i, e in enumerate(_longest_first(episodes))}

    def place(take: _Take) -> tuple[int, int]:  # a shared take: for the first that needs it
        return min((rank[id(e)], e.prepared.raw_keys.index(take.key)) for e in take.episodes)

    for queue in by_voice.values():
        queue.sort(key=place)
    return by_voice


def _longest_first(episodes: list[_Episode]) -> list[_Episode]:
    def length(episode: _Episode) -> int:
        return sum(len(segment.text) for segment in episode.prepared.script.segments)

    return sorted(episodes, key=length, reverse=True)


def _connect(options: RayOptions) -> tuple[Any, bool]:
    """Ray, joined to the cluster at `options.address` or a local instance started for this
    build; and whether this build started it (and so stops it). A Ray already initialized in
    this process is used as it is."""
    address = options.address
    if address is not None and address != "auto":
        _check_reachable(address)
        _use_token_if_any()  # before Ray is imported: it reads its settings once, then
    try:
        import ray
    except ImportError:
        raise StudioError(
            "--executor ray needs Ray: pip install 'studio[ray]' (on every machine of the cluster)"
        ) from None
    if ray.is_initialized():
        return ray, False
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address is None:  # "local": a new instance, even where a `ray start` cluster runs
            # Ray runs its workers at nice 15; here they are the build itself, which a local
            # build runs at normal priority: niced, they lose every core to any other work.
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(address="local", include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except Exception as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise StudioError(f"cannot start or join {where}: {_one_line(error)}") from None
    return ray, True


def _use_token_if_any() -> None:
    """Send this machine's Ray token, as `ray start --address` does: Ray clusters started where
    a token exists require it, and `ray.init` sends none to an address it is given unless told
    to (a cluster without token authentication accepts a driver that sends one)."""
    if "RAY_AUTH_MODE" in os.environ:
        return  # the user's choice
    token_file = os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token"
    if os.environ.get("RAY_AUTH_TOKEN") or Path(token_file).is_file():
        os.environ["RAY_AUTH_MODE"] = "token"


def _check_reachable(address: str) -> None:
    """Fail in a second, with one line, where `ray.init` would retry for a minute."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise StudioError(
            f"--address {address}: give the head node as host:port (e.g. 10.0.0.5:6379)"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise StudioError(
            f"cannot reach the Ray cluster at {address}: {reason} "
            "(is `ray start --head` running there, and its port open?)"
        ) from None


def _entry(cache: TakeCache, key: str) -> StoredTake:
    take = cache.entry(key)
    if take is None:
        raise StudioError(f"take {key[:12]} left the cache mid-build: build again")
    return take


def _message(error: Exception) -> str:
    """One line for an essay that failed: studio's own message, else the cause named."""
    return str(error) if isinstance(error, StudioError) else f"{type(error).__name__}: {error}"


def _one_line(error: BaseException) -> str:
    """The last line of a Ray error that names the cause ("XError: ..."), else its first."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return line
    return lines[0] if lines else type(error).__name__
