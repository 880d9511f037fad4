"""A new show: `studio init` copies seeds/ (config, a sample essay, a lexicon) and draws a cover."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

import studio
from studio.config import describe_validation_error
from studio.cover import make_cover
from studio.errors import StudioError
from studio.files import write_bytes_atomic
from studio.show.config import CONFIG_NAME, Show, ShowConfig, essay_files, tomllib

SEEDS = Path(studio.__file__).resolve().parent.parent / "seeds"
SEED_AUTHOR = "Your Name"  # in seeds/studio.toml and the sample essay, replaced by init --author


def init_show(folder: Path, *, title: str | None = None, author: str | None = None) -> list[Path]:
    """Create a show in `folder` from seeds/: config, a sample essay, a lexicon and a cover."""

    if not (SEEDS / CONFIG_NAME).is_file():
        raise StudioError(
            f"studio's seeds folder is missing ({SEEDS}); install studio from its repository "
            "checkout (pip install -e .)"
        )
    config = (SEEDS / CONFIG_NAME).read_text(encoding="utf-8")
    if title is not None:
        config = _set_show_key(config, "title", title)
    if author is not None:  # the author, the owner's name and the copyright line
        config = config.replace(SEED_AUTHOR, json.dumps(author, ensure_ascii=False)[1:-1])
    try:
        info = ShowConfig.model_validate(tomllib.loads(config)).show
    except ValidationError as error:
        raise StudioError(f"--title/--author: {describe_validation_error(error)}") from None

    files: dict[Path, bytes] = {
        folder / CONFIG_NAME: config.encode("utf-8"),
        folder / "lexicon.toml": (SEEDS / "lexicon.toml").read_bytes(),
        folder / info.image: make_cover(info.title, info.author),
    }
    for essay in sorted((SEEDS / "essays").iterdir()):
        text = essay.read_text(encoding="utf-8")
        if author is not None:
            text = text.replace(f"author: {SEED_AUTHOR}", f"author: {json.dumps(author)}")
        files[folder / "essays" / essay.name] = text.encode("utf-8")
    for path in files:
        if path.exists():
            raise StudioError(f"{path} already exists: init a new show into an empty folder")
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
    except OSError as error:
        raise StudioError(f"cannot create the show in {folder}: {error.strerror}") from None
    return list(files)


def _set_show_key(config: str, key: str, value: str) -> str:
    """Replace `key = "..."` in the [show] table of the seed config (JSON strings are TOML)."""
    pattern = re.compile(rf'(?m)^{key} = ".*"$')
    show_table = config.index("[show]")
    match = pattern.search(config, show_table)
    assert match is not None, f"seeds/{CONFIG_NAME} has no {key} in [show]"
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    return config[: match.start()] + line + config[match.end() :]


def placeholders(show: Show) -> list[str]:
    """What `show` still holds of `studio init`'s placeholders, one line each (none: ready).

    A feed with the sample base URL points apps at files that are not there, and the sample
    owner email sends Apple's and Spotify's verification mail nowhere: `studio build` warns,
    and a publish must refuse.
    """
    seed = ShowConfig.model_validate(tomllib.loads((SEEDS / CONFIG_NAME).read_text("utf-8"))).show
    info = show.info
    found = []
    if _host(info.base_url) == _host(seed.base_url):
        found.append(f"show.base_url is still the example {info.base_url}")
    if info.link and _host(info.link) == _host(seed.base_url):
        found.append(f"show.link is still the example {info.link}")
    if info.owner.email == seed.owner.email:
        found.append(f"show.owner.email is still the example {info.owner.email}")
    if SEED_AUTHOR in (info.author, info.owner.name):
        found.append(f"the show's author or owner is still '{SEED_AUTHOR}'")
    starters = {_without_author(p.read_text("utf-8")) for p in (SEEDS / "essays").iterdir()}
    for source, fields in essay_files(show):
        if fields.draft:
            continue
        try:
            text = source.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # planning reports it
        if _without_author(text) in starters:
            name = source.relative_to(show.root) if source.is_relative_to(show.root) else source
            found.append(f"{name} is still the starter essay")
    return found


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def _without_author(text: str) -> str:
    return re.sub(r"(?m)^author: .*$", "", text).strip()
