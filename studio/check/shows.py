"""A show's episode, for `studio check` and `studio retake` with `--config`: where `studio build`
put it (the MP3 in the show's output folder, the manifest in `.studio/manifests/`) and the render
request build made it with, so a retake renders it exactly as build would and a later build finds
it up to date. The check's report goes into `.studio/check/`, not into the folder that is
published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError


@dataclass(frozen=True)
class ShowEpisode:
    config: Path  # the show's studio.toml
    request: object  # studio.render.RenderRequest, as `studio build` makes it
    report_dir: Path


def show_episode(config: Path, essay: Path, *, lexicons: tuple[Path, ...] = ()) -> ShowEpisode:
    """The episode of `essay` (its path, or its file name or slug in the show) in the show
    whose config is `config` (a file or its folder). `lexicons` come after the show's."""
    from studio.render import RenderRequest
    from studio.show.config import load_show
    from studio.show.plan import plan_episodes

    show = load_show(config)
    plans = plan_episodes(show)
    wanted = essay.resolve() if essay.is_file() else None
    found = [
        plan
        for plan in plans
        if plan.source.resolve() == wanted or str(essay) in (plan.slug, plan.name)
    ]
    if not found:
        known = ", ".join(p.slug for p in plans) or "none"
        raise StudioError(f"{essay} is not an essay of {show.config_file} (slugs: {known})")
    plan = found[0]
    if plan.error:
        raise StudioError(plan.error)
    defaults = show.config.defaults
    request = RenderRequest(
        essay=plan.source,
        out_dir=show.output,
        manifest_dir=show.manifests,
        voice=plan.fields.voice or defaults.voice,
        settings=defaults.render_settings(),
        lexicons=(*(show.root / p for p in defaults.lexicons), *lexicons),
        cover=show.image,
    )
    return ShowEpisode(show.config_file, request, show.state / "check")
