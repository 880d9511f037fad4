"""Permanent episode guids, kept in `.studio/guids.json`: a published guid never changes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.files import write_text_atomic
from studio.show.config import Show
from studio.show.plan import EpisodePlan

GUIDS_PATH = Path(".studio") / "guids.json"


def assign_guids(show: Show, plans: list[EpisodePlan]) -> list[EpisodePlan]:
    """Give every publishable essay its permanent guid, stored in `.studio/guids.json`.

    A guid set in front matter (or the essay's entry) is used as is. Otherwise an essay keeps the
    guid first assigned to it: it is found by its path (so retitling keeps it), then by its slug
    (so renaming a file with a fixed `slug:` keeps it), then by its title among entries whose file
    is gone (so renaming a file keeps it). A new essay gets a new random UUID.
    """
    store_path = show.root / GUIDS_PATH
    stored = read_guids(store_path)
    before = json.dumps(stored, sort_keys=True)
    guids: dict[int, str] = {}
    wanted = [
        i for i, p in enumerate(plans) if not p.draft and p.error is None and not p.fields.guid
    ]
    used: set[int] = set()

    def match(key: Callable[[dict[str, Any]], bool], plan_index: int) -> None:
        for store_index, entry in enumerate(stored):
            if store_index not in used and key(entry):
                used.add(store_index)
                guids[plan_index] = entry["guid"]
                plan = plans[plan_index]
                entry.update(path=plan.name, slug=plan.slug, title=plan.title)
                return

    # An essay that cannot be built this time keeps its guid (so its last good episode stays in
    # the feed) and its entry as it was, which no other essay may take.
    failed = [i for i, p in enumerate(plans) if not p.draft and p.error is not None]
    for store_index, entry in enumerate(stored):
        for i in failed:
            if entry.get("path") == plans[i].name and not plans[i].fields.guid:
                used.add(store_index)
                guids[i] = entry["guid"]
    for i in wanted:
        match(lambda e, i=i: e.get("path") == plans[i].name, i)
    for i in wanted:
        if i not in guids:
            match(lambda e, i=i: e.get("slug") == plans[i].slug, i)
    for i in wanted:
        if i not in guids:
            match(
                lambda e, i=i: (
                    e.get("title") == plans[i].title
                    and not (show.root / str(e.get("path"))).exists()
                ),
                i,
            )
    for i in wanted:
        if i not in guids:
            guids[i] = str(uuid.uuid4())
            plan = plans[i]
            stored.append(
                {"guid": guids[i], "path": plan.name, "slug": plan.slug, "title": plan.title}
            )
    stored.sort(key=lambda e: (str(e.get("path")), str(e.get("guid"))))
    if json.dumps(stored, sort_keys=True) != before:
        store_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"episodes": stored}, indent=2, ensure_ascii=False) + "\n"
        write_text_atomic(store_path, text)
    return [
        dataclasses.replace(p, guid=p.fields.guid or guids.get(i, "")) for i, p in enumerate(plans)
    ]


def read_guids(store_path: Path) -> list[dict[str, Any]]:
    """The entries of a guids file (none if there is no file); a damaged one is an error, never
    replaced: it is state, and a new guid would make every app list an episode twice."""
    try:
        stored = json.loads(store_path.read_text(encoding="utf-8"))["episodes"]
        if not isinstance(stored, list):
            raise TypeError("'episodes' is not a list")
        for entry in stored:
            if not isinstance(entry, dict) or not isinstance(entry.get("guid"), str):
                raise TypeError("an entry has no guid")
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StudioError(
            f"{store_path} is damaged ({error}); restore it from version control: it holds the "
            "permanent guids of published episodes"
        ) from None
    return stored
