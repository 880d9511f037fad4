"""Building a show: render every publishable essay (in this process, several, or on a Ray
cluster: `ray_build`), then the cover, the feed and the site. An essay that fails is reported;
the others carry on."""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from studio.cache import default_cache_dir
from studio.errors import StudioError
from studio.render import RenderRequest, is_up_to_date, prepare, render
from studio.show.config import Show
from studio.show.feed import FeedReport, move_old_manifests, publish_cover, write_feed
from studio.show.guids import assign_guids
from studio.show.lock import output_lock
from studio.show.plan import plan_episodes
from studio.show.site import SiteReport, write_site

if TYPE_CHECKING:
    from studio.show.ray_build import RayOptions


@dataclasses.dataclass(frozen=True)
class EssayOutcome:
    """What happened to one essay in a build."""

    slug: str
    name: str  # the essay's show-relative path
    status: Literal["rendered", "up to date", "failed"]
    seconds: float = 0.0
    duration: float = 0.0  # of the episode
    synthesized: int = 0
    error: str = ""


@dataclasses.dataclass(frozen=True)
class BuildEvent:
    """Progress of a build, for a progress display.

    kinds: "planned" (total = essays to render), "segments" (an essay's takes: done of total,
    seconds of audio), "takes" (the whole build's takes, on a cluster: done of total, seconds
    of audio), "done" (outcome set).
    """

    kind: Literal["planned", "segments", "takes", "done"]
    slug: str = ""
    done: int = 0
    total: int = 0
    seconds: float = 0.0
    outcome: EssayOutcome | None = None


BuildProgress = Callable[[BuildEvent], None]


@dataclasses.dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[EssayOutcome, ...]
    feed: FeedReport
    drafts: int
    site: SiteReport | None = None  # None: the show's site is off

    @property
    def failed(self) -> tuple[EssayOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


@dataclasses.dataclass(frozen=True)
class EssayJob:
    """One essay to render, as the build hands it to whichever executor renders it."""

    slug: str
    name: str
    request: RenderRequest
    cache_dir: Path


def build(
    show: Show,
    *,
    only: str | None = None,
    jobs: int = 1,
    force: bool = False,
    cache_dir: Path | None = None,
    progress: BuildProgress | None = None,
    allow_removals: bool = False,
    device: str | None = None,
    ray: RayOptions | None = None,
) -> BuildReport:
    """Render every publishable essay (or just `only`), then write the cover, the feed and the
    site (unless the show turns it off).

    An essay that fails is reported and the others carry on; the feed lists every episode whose
    files are on disk, and keeps a failed essay's episode as last published. A feed that would
    drop published episodes is refused unless `allow_removals`. `jobs` > 1 renders that many
    essays at once in separate processes; `ray` renders them on a Ray cluster instead.
    `device` is where voices run ("cpu", "cuda"...; None: the GPU if any).
    """
    cache_dir = cache_dir or default_cache_dir()
    emit = progress or (lambda event: None)
    with output_lock(show):
        plans = plan_episodes(show)
        chosen = [p for p in plans if not p.draft]
        if only is not None:
            chosen = [p for p in plans if only in (p.slug, p.name)]
            if not chosen:
                known = ", ".join(p.slug for p in plans) or "none"
                raise StudioError(f"no essay with slug '{only}' in this show (slugs: {known})")
        plans = assign_guids(show, plans)
        move_old_manifests(show, plans)
        cover = publish_cover(show)
        defaults = show.config.defaults
        settings = defaults.render_settings()
        lexicons = tuple(show.root / p for p in defaults.lexicons)  # checked by load_show
        outcomes: dict[str, EssayOutcome] = {}
        work: list[EssayJob] = []
        for plan in chosen:
            if plan.error is not None:
                outcomes[plan.name] = EssayOutcome(plan.slug, plan.name, "failed", error=plan.error)
                continue
            request = RenderRequest(
                essay=plan.source,
                out_dir=show.output,
                manifest_dir=show.manifests,
                voice=plan.fields.voice or defaults.voice,
                settings=settings,
                lexicons=lexicons,
                cover=cover,
                force=force,
                device=device,
            )
            work.append(EssayJob(plan.slug, plan.name, request, cache_dir))
        emit(BuildEvent("planned", total=len(chosen)))
        for outcome in outcomes.values():
            emit(BuildEvent("done", slug=outcome.slug, outcome=outcome))
        if ray is not None:
            from studio.show.ray_build import run_on_ray  # imports Ray: only when asked for

            run = run_on_ray(work, ray, emit)
        else:
            run = _run_jobs(work, jobs, emit)
        for outcome in run:
            outcomes[outcome.name] = outcome
        failed = frozenset(o.name for o in outcomes.values() if o.status == "failed")
        feed = write_feed(show, plans, failed=failed, allow_removals=allow_removals)
        site = write_site(show, plans, failed=failed)
    ordered = tuple(outcomes[p.name] for p in chosen if p.name in outcomes)
    return BuildReport(ordered, feed, drafts=sum(1 for p in plans if p.draft), site=site)


def _run_jobs(work: list[EssayJob], jobs: int, emit: BuildProgress) -> Iterator[EssayOutcome]:
    """Render each job, in this process or `jobs` worker processes, yielding outcomes."""
    stale = work
    if jobs > 1:
        # Deciding what is up to date is cheap; only real work is worth a process.
        stale = []
        for job in work:
            if job_up_to_date(job):
                outcome = render_job(job, emit)
                emit(BuildEvent("done", slug=job.slug, outcome=outcome))
                yield outcome
            else:
                stale.append(job)
    if jobs <= 1 or len(stale) <= 1:
        for job in stale:
            outcome = render_job(job, emit)
            emit(BuildEvent("done", slug=job.slug, outcome=outcome))
            yield outcome
        return

    context = multiprocessing.get_context("spawn")
    events: multiprocessing.Queue = context.Queue()

    def drain() -> None:
        while True:
            try:
                emit(events.get_nowait())
            except queue.Empty:
                return

    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(stale)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(events,),
    )
    try:
        futures: dict[Future[EssayOutcome], EssayJob] = {
            pool.submit(render_job, job): job for job in stale
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            drain()
            for future in finished:
                job = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = EssayOutcome(
                        job.slug, job.name, "failed", error="its render process died (memory?)"
                    )
                emit(BuildEvent("done", slug=job.slug, outcome=outcome))
                yield outcome
        drain()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


_WORKER_EVENTS: multiprocessing.Queue | None = None


def _init_worker(events: multiprocessing.Queue) -> None:
    global _WORKER_EVENTS
    _WORKER_EVENTS = events


def job_up_to_date(job: EssayJob) -> bool:
    if job.request.force:
        return False
    try:
        return is_up_to_date(prepare(job.request, job.cache_dir))
    except StudioError:
        return False  # the render reports it


def render_job(job: EssayJob, emit: BuildProgress | None = None) -> EssayOutcome:
    """Render one essay; never raises for a problem with that essay, reports it instead."""
    events = _WORKER_EVENTS

    def report(done: int, total: int, seconds: float) -> None:
        event = BuildEvent("segments", job.slug, done, total, seconds)
        if events is not None:
            events.put(event)
        elif emit is not None:
            emit(event)

    started = time.perf_counter()
    try:
        result = render(job.request, cache_dir=job.cache_dir, progress=report)
    except StudioError as error:
        message = str(error)
    except Exception as error:  # one essay's bug must not stop the show
        message = f"{type(error).__name__}: {error}"
    else:
        return EssayOutcome(
            job.slug,
            job.name,
            "up to date" if result.up_to_date else "rendered",
            seconds=time.perf_counter() - started,
            duration=result.duration,
            synthesized=result.synthesized,
        )
    return EssayOutcome(
        job.slug, job.name, "failed", seconds=time.perf_counter() - started, error=message
    )
