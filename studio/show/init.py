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
from studio.show.config import CONFIG_NAME, ShowConfig, tomllib

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
