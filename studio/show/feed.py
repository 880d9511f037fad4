"""The show's cover and feed, written from what is on disk, so the feed always describes the files
that will be served. `studio feed` (`feed_only`) writes them without rendering anything.

The feed already published is the record of what listeners have: an episode in it is never
dropped unless the user says so (`allow_removals`), and an essay that cannot be built this time
keeps its episode there as it was last published.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lxml import etree

from studio.cover import check_cover
from studio.errors import StudioError
from studio.files import write_bytes_atomic
from studio.manifest import Manifest, output_paths
from studio.publish.feed import Channel, Item, build_feed, feed_items
from studio.show.config import Show
from studio.show.guids import GUIDS_PATH, assign_guids
from studio.show.lock import output_lock
from studio.show.plan import EpisodePlan, plan_episodes
from studio.site.paths import INDEX, page_path


@dataclasses.dataclass(frozen=True)
class FeedReport:
    path: Path
    episodes: int
    changed: bool
    missing: tuple[str, ...]  # publishable essays with no rendered episode yet
    kept: tuple[str, ...] = ()  # essays that failed, whose last published episode was kept
    removed: tuple[str, ...] = ()  # titles of published episodes dropped (--allow-removals)


def feed_only(show: Show, *, allow_removals: bool = False) -> FeedReport:
    """Rewrite the cover and the feed from the episodes already rendered; render nothing."""
    with output_lock(show):
        plans = assign_guids(show, plan_episodes(show))
        move_old_manifests(show, plans)
        publish_cover(show)
        return write_feed(show, plans, allow_removals=allow_removals)


def episode_paths(show: Show, slug: str) -> dict[str, Path]:
    """An episode's files: the published ones in the output folder, its manifest in the state."""
    return output_paths(show.output, slug, show.manifests)


def move_old_manifests(show: Show, plans: list[EpisodePlan]) -> None:
    """Move manifests that older versions wrote into the output folder to the show's state."""
    for plan in plans:
        old = output_paths(show.output, plan.slug)["manifest"]
        new = episode_paths(show, plan.slug)["manifest"]
        if old.is_file() and not new.exists() and Manifest.read(old) is not None:
            new.parent.mkdir(parents=True, exist_ok=True)
            old.replace(new)


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


def write_feed(
    show: Show,
    plans: list[EpisodePlan],
    *,
    failed: frozenset[str] = frozenset(),
    allow_removals: bool = False,
) -> FeedReport:
    """Write feed.xml from the published essays whose episodes are on disk (only if it changed).

    An essay that cannot be built (a plan error, or its name in `failed`: its render failed)
    keeps the item it has in the feed now. Any other item of the feed now that this one would
    drop is refused, unless `allow_removals`.
    """
    published = _published_items(show, allow_removals)
    info = show.info
    channel = Channel(
        title=info.title,
        description=info.description,
        link=_show_link(show),
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
    kept = {}
    missing = []
    for plan in plans:
        if plan.draft:
            continue
        if plan.error is not None or plan.name in failed:
            if plan.guid in published and _audio_on_disk(show, published[plan.guid]):
                kept[plan.guid] = plan.name
            else:
                missing.append(plan.name)
            continue
        item = _item(show, plan)
        if item is None:
            missing.append(plan.name)
        else:
            items.append(item)
    listed = {item.guid for item in items} | set(kept)
    dropped = [element for guid, element in published.items() if guid not in listed]
    titles = tuple(element.findtext("title") or "" for element in dropped)
    if dropped and not allow_removals:
        names = ", ".join(f'"{title}"' for title in titles)
        raise StudioError(
            f"{show.feed} publishes {len(dropped)} episode(s) this feed would drop: {names}; "
            f"check `essays` in {show.config_file.name} and that {GUIDS_PATH} is intact, "
            "or pass --allow-removals to drop them"
        )
    document = build_feed(channel, items, (published[guid] for guid in kept))
    path = show.feed
    changed = not path.is_file() or path.read_bytes() != document
    if changed:
        write_bytes_atomic(path, document)
    return FeedReport(
        path, len(items) + len(kept), changed, tuple(missing), tuple(kept.values()), titles
    )


def _audio_on_disk(show: Show, element: etree._Element) -> bool:
    enclosure = element.find("enclosure")
    url = "" if enclosure is None else enclosure.get("url", "")
    name = url.rsplit("/", 1)[-1]
    return bool(name) and (show.output / name).is_file()


def _published_items(show: Show, allow_removals: bool) -> dict[str, etree._Element]:
    """The items of the feed as published now, by guid (none if there is no feed yet)."""
    try:
        document = show.feed.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise StudioError(f"cannot read {show.feed}: {error.strerror}") from None
    try:
        return feed_items(document)
    except ValueError as error:
        if allow_removals:
            return {}
        raise StudioError(
            f"{show.feed} is damaged ({error}), so what it publishes is unknown; restore it, "
            "or pass --allow-removals to write it anew"
        ) from None


def _item(show: Show, plan: EpisodePlan) -> Item | None:
    """The feed item of a plan's episode on disk; None if it has not been rendered."""
    if plan.published is None:
        return None
    info = show.info
    paths = episode_paths(show, plan.slug)
    manifest = Manifest.read(paths["manifest"])
    try:
        audio_bytes = paths["mp3"].stat().st_size
    except OSError:
        return None
    if manifest is None:
        return None
    season = plan.fields.season
    if season is None and info.type == "serial":
        season = 1  # Apple orders a serial show by season and episode
    return Item(
        guid=plan.guid,
        title=plan.title,
        summary=plan.summary,
        link=_episode_link(show, plan),
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


def _show_link(show: Show) -> str:
    """The channel's <link>: the show's own page if it set one, else the site's index."""
    info = show.info
    if info.link or not show.config.site.enabled:
        return info.link or info.base_url
    return show.url(INDEX)


def _episode_link(show: Show, plan: EpisodePlan) -> str:
    """An item's <link>: the episode's page on the site (the essay's own page is linked from
    there); with the site off, the essay's page or the show's."""
    if show.config.site.enabled:
        return show.url(page_path(plan.slug))
    return plan.fields.link or show.info.link or show.info.base_url


def _url_if_file(show: Show, path: Path) -> str:
    return show.url(path.name) if path.is_file() else ""
