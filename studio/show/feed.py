"""The show's cover and feed, written from what is on disk, so the feed always describes the files
that will be served. `studio feed` (`feed_only`) writes them without rendering anything."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from studio.cover import check_cover
from studio.errors import StudioError
from studio.files import write_bytes_atomic
from studio.manifest import Manifest, output_paths
from studio.publish.feed import Channel, Item, build_feed
from studio.show.config import Show
from studio.show.guids import assign_guids
from studio.show.lock import output_lock
from studio.show.plan import EpisodePlan, plan_episodes


@dataclasses.dataclass(frozen=True)
class FeedReport:
    path: Path
    episodes: int
    changed: bool
    missing: tuple[str, ...]  # publishable essays with no rendered episode yet


def feed_only(show: Show) -> FeedReport:
    """Rewrite the cover and the feed from the episodes already rendered; render nothing."""
    with output_lock(show):
        plans = assign_guids(show, plan_episodes(show))
        publish_cover(show)
        return write_feed(show, plans)


def publish_cover(show: Show) -> Path:
    """Check the show's cover and copy it into the output folder (only if it changed)."""
    image = show.image
    try:
        check_cover(image)
    except StudioError as error:
        raise StudioError(f"{show.config_file}: show.image: {error}") from None
    data = image.read_bytes()
    target = show.published_image
    if not target.is_file() or target.read_bytes() != data:
        write_bytes_atomic(target, data)
    return image


def write_feed(show: Show, plans: list[EpisodePlan]) -> FeedReport:
    """Write feed.xml from the published essays whose episodes are on disk (only if it changed)."""
    info = show.info
    channel = Channel(
        title=info.title,
        description=info.description,
        link=info.link or info.base_url,
        feed_url=show.feed_url,
        image_url=show.url(show.published_image.name),
        language=info.language,
        category=info.category,
        subcategory=info.subcategory,
        author=info.author,
        owner_name=info.owner.name,
        owner_email=info.owner.email,
        explicit=info.explicit,
        type=info.type,
        copyright=info.copyright,
        locked=info.locked,
    )
    items = []
    missing = []
    for plan in plans:
        if plan.draft or plan.error is not None or plan.published is None:
            if not plan.draft:
                missing.append(plan.name)
            continue
        paths = output_paths(show.output, plan.slug)
        manifest = Manifest.read(paths["manifest"])
        try:
            audio_bytes = paths["mp3"].stat().st_size
        except OSError:
            manifest = None
        if manifest is None:
            missing.append(plan.name)
            continue
        season = plan.fields.season
        if season is None and info.type == "serial":
            season = 1  # Apple orders a serial show by season and episode
        items.append(
            Item(
                guid=plan.guid,
                title=plan.title,
                summary=plan.summary,
                link=plan.fields.link or info.link or info.base_url,
                published=plan.published,
                audio_url=show.url(paths["mp3"].name),
                audio_bytes=audio_bytes,
                duration=manifest.duration,
                chapters=tuple((c.start, c.title or plan.title) for c in manifest.chapters),
                chapters_url=_url_if_file(show, paths["chapters"]),
                vtt_url=_url_if_file(show, paths["vtt"]),
                srt_url=_url_if_file(show, paths["srt"]),
                explicit=info.explicit if plan.fields.explicit is None else plan.fields.explicit,
                episode_type=plan.fields.episode_type or "full",
                episode=plan.fields.episode,
                season=season,
            )
        )
    document = build_feed(channel, items)
    path = show.feed
    changed = not path.is_file() or path.read_bytes() != document
    if changed:
        write_bytes_atomic(path, document)
    return FeedReport(path, len(items), changed, tuple(missing))


def _url_if_file(show: Show, path: Path) -> str:
    return show.url(path.name) if path.is_file() else ""
