"""Building a show on a Ray cluster (`studio build --executor ray`).

The plan is made here, where the command runs: which essays are stale and which of their raw
takes are missing from the local take cache. The missing takes are made by Ray actors, each
holding one loaded voice (a GPU each for a voice on `cuda`, a CPU each otherwise), fed one
episode after another, each episode's longest takes first, so an episode's takes finish
together and the show's last takes are short ones. Each take comes back through Ray's object
store as the cache files a local synthesis would have written, and lands in the local cache at
once: an interrupted cluster build resumes from what finished. As soon as an episode's takes
exist, a Ray task assembles, masters and encodes it from those same files, with the same code
as a local render (`assembly.assemble_episode`), and hands back the MP3; the sidecars and the
manifest are written here, last, as a local render writes them. Hence the same bytes.

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

from studio.assembly import assemble_episode
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
    """Everything a worker needs to assemble one episode, with no path of the build's machine."""

    script: Script
    keys: tuple[str, ...]  # cleaned takes, by segment
    raw: tuple[TakeRecord, ...]  # raw takes, by segment, with the build's own cached flags
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


def assemble_remote(work: EpisodeWork, take_refs: dict[str, Any]) -> EpisodeMade:
    """A Ray task: the episode assembled, mastered and encoded from its takes' files."""
    import ray

    try:
        with tempfile.TemporaryDirectory(prefix="studio-episode-") as scratch_name:
            scratch = Path(scratch_name)
            cache = TakeCache(scratch)
            sent = set()
            for value in ray.get(list(take_refs.values())):
                take = value.take if isinstance(value, TakeMade) else value
                cache.store(take)
                sent.add(take.key)
            tags = work.tags
            if work.cover is not None:
                name, data = work.cover
                (scratch / name).write_bytes(data)
                tags = dataclasses.replace(tags, cover=scratch / name)
            mp3 = scratch / "episode.mp3"
            records, timeline = assemble_episode(
                work.script,
                work.keys,
                work.raw,
                cache,
                work.settings,
                breath=work.breath,
                mp3=mp3,
                tags=tags,
            )
            cleaned = tuple(
                take
                for key in dict.fromkeys(work.keys)
                if key not in sent and (take := cache.entry(key)) is not None
            )
            return EpisodeMade(mp3.read_bytes(), tuple(records), timeline, cleaned)
    except Exception as error:  # one line for the essay's outcome
        return EpisodeMade(error=_message(error))


class Assembler:
    """A Ray actor that assembles episodes one at a time (`assemble_remote`). It lives for the
    whole build, so its process and imports (studio, numpy, scipy) are ready before the first
    episode's takes are: a task's worker, idle while the takes are made, is reaped by Ray and a
    new one started (about 1.5-2.5 s) when the episode is ready."""

    def __init__(self) -> None:
        import studio.master  # noqa: F401  (scipy and friends, while the voices load)

    def assemble(self, work: EpisodeWork, take_refs: dict[str, Any]) -> EpisodeMade:
        return assemble_remote(work, take_refs)


@dataclasses.dataclass(eq=False)
class _Episode:
    job: EssayJob
    prepared: Prepared
    tags: Id3Tags
    waiting: set[str]  # raw takes not in the local cache yet
    made_here: set[str]  # raw takes this build makes for this episode (not cached, in its manifest)
    state: str = "synthesis"  # then "assembly", then "done" (or "failed")

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")


@dataclasses.dataclass(eq=False)
class _Take:
    key: str
    text: str
    episodes: list[_Episode]  # in plan order: the first one is the one that "made" it


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
        self.to_assemble: deque[_Episode] = deque()  # every take made, waiting for a slot
        # How many episodes not sent to assembly yet speak each take.
        self.needed = Counter(k for e in episodes for k in dict.fromkeys(e.prepared.raw_keys))
        self.idle_assemblers: deque[Any] = deque()  # assembler actors with no episode in hand
        self.assemblers: list[Any] = []  # every one of them
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
            # each assembling one episode at a time.
            self.assembler = ray.remote(Assembler).options(num_cpus=0, scheduling_strategy="SPREAD")
            slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
            for _ in range(min(slots, len(self.episodes))):
                self.idle_assemblers.append(self._new_assembler())
            self.voices = self._voices()
            for voice in self.voices:
                for _ in range(self._actor_count(voice)):
                    self._start_actor(voice)
            for episode in self.episodes:
                if not episode.waiting:
                    yield from self._assemble(episode)
            while self.pending or self.to_assemble or any(v.queue for v in self.voices):
                for voice in self.voices:
                    yield from self._fail_if_stuck(voice)
                    self._dispatch(voice)
                if not self.pending:
                    continue
                ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=_WAIT_SECONDS)
                for ref in ready:
                    kind, subject = self.pending.pop(ref)
                    if kind == "ready":
                        self._actor_ready(subject, ref)
                    elif kind == "take":
                        yield from self._take_done(*subject, ref)
                    else:
                        yield self._episode_done(*subject, ref)
                yield from self._start_assembly()
                for voice in self.voices:
                    self._release_idle(voice)
            for episode in self.episodes:  # none should be left; if one is, say so
                if not episode.over:
                    yield self._failed(episode, "its takes were never made (a bug: please report)")
        finally:
            for assembler in self.assemblers:  # an episode in hand is dropped with it
                with contextlib.suppress(Exception):
                    ray.kill(assembler)
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
        episode.state = "failed"
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
        with them: the episodes' assembly tasks may need them."""
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
        self.made_refs[take.key] = ref
        for episode in take.episodes:
            count = episode.prepared.raw_keys.count(take.key)
            self.done += count
            self.seconds += count * made.seconds
            episode.waiting.discard(take.key)
            if not episode.waiting and episode.state == "synthesis":
                yield from self._assemble(episode)
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

    def _new_assembler(self) -> Any:
        assembler = self.assembler.remote()
        self.assemblers.append(assembler)
        return assembler

    def _assemble(self, episode: _Episode) -> Iterator[EssayOutcome]:
        """The episode's takes all exist: it is assembled as soon as a slot is free."""
        episode.state = "assembly"
        self.to_assemble.append(episode)
        yield from self._start_assembly()

    def _start_assembly(self) -> Iterator[EssayOutcome]:
        """Start assembly tasks while there are episodes ready and slots free, each with its
        takes sent as refs: those made in this build straight from the actors' results, the
        rest from the local cache."""
        while self.to_assemble and self.idle_assemblers:
            episode = self.to_assemble.popleft()
            if episode.over:
                continue
            assembler = self.idle_assemblers.popleft()
            try:
                task = self._assembly_task(episode, assembler)
            except (StudioError, OSError) as error:
                self.idle_assemblers.append(assembler)
                yield self._failed(episode, str(error))
                continue
            self.pending[task] = ("episode", (episode, assembler))

    def _assembly_task(self, episode: _Episode, assembler: Any) -> Any:
        prepared = episode.prepared
        raw = tuple(
            dataclasses.replace(cached_record(self.cache, key), cached=key not in episode.made_here)
            for key in prepared.raw_keys
        )
        refs: dict[str, Any] = {}
        for key in dict.fromkeys(prepared.raw_keys):
            refs[key] = self.made_refs.get(key) or self.ray.put(_entry(self.cache, key))
        for key in dict.fromkeys(prepared.keys):
            if key not in refs and (take := self.cache.entry(key)) is not None:
                refs[key] = self.ray.put(take)  # cleaned already: not cleaned again
        # A take's result is held only while an episode still to be assembled needs it.
        for key in dict.fromkeys(prepared.raw_keys):
            self.needed[key] -= 1
            if self.needed[key] <= 0:
                self.made_refs.pop(key, None)
        cover = None
        if episode.tags.cover is not None:
            cover = (episode.tags.cover.name, Path(episode.tags.cover).read_bytes())
        work = EpisodeWork(
            prepared.script,
            prepared.keys,
            raw,
            episode.job.request.settings,
            prepared.breath,
            dataclasses.replace(episode.tags, cover=None),
            cover,
        )
        return assembler.assemble.remote(work, refs)

    def _episode_done(self, episode: _Episode, assembler: Any, ref: Any) -> EssayOutcome:
        """The episode's files written here: the MP3 whole, then sidecars and manifest (last)."""
        try:
            made: EpisodeMade = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            if isinstance(error, self.ray.exceptions.RayActorError):  # a new one takes its place
                with contextlib.suppress(Exception):
                    self.ray.kill(assembler)
                assembler = self._new_assembler()
            self.idle_assemblers.append(assembler)
            return self._failed(episode, f"its assembly failed: {_one_line(error)}")
        self.idle_assemblers.append(assembler)
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
    they are to be made: episodes longest first, and within one, its longest takes first."""
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

    def length(episode: _Episode) -> int:
        return sum(len(segment.text) for segment in episode.prepared.script.segments)

    rank = {id(e): i for i, e in enumerate(sorted(episodes, key=length, reverse=True))}
    for queue in by_voice.values():
        queue.sort(key=lambda take: (rank[id(take.episodes[0])], -len(take.text)))
    return by_voice


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
