"""A show's cover art, drawn from its title: a square RGB PNG that Apple Podcasts accepts.

Deterministic: the same title, author and size always give the same bytes (the colours come from a
hash of the title, the font ships inside Pillow, and PNG holds no timestamp).
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from studio.errors import StudioError

COVER_SIZES = (1400, 3000)  # Apple: square, 1400 to 3000 px
COVER_MIN_PX, COVER_MAX_PX = 1400, 3000

# (background, accent, text) pairs with enough contrast to read at thumbnail size.
_PALETTES = (
    ((24, 38, 56), (242, 153, 74), (250, 246, 238)),
    ((33, 61, 52), (236, 201, 99), (248, 245, 236)),
    ((70, 30, 52), (238, 120, 110), (252, 244, 240)),
    ((22, 44, 90), (120, 200, 230), (245, 248, 252)),
    ((244, 239, 226), (200, 72, 52), (30, 30, 36)),
    ((52, 48, 44), (160, 200, 120), (246, 242, 232)),
)


def make_cover(title: str, author: str = "", *, size: int = 1400) -> bytes:
    """PNG bytes of a `size`x`size` RGB cover showing `title` (and `author` beneath it)."""
    if size not in COVER_SIZES:
        raise ValueError(f"cover size must be one of {COVER_SIZES}, not {size}")
    title = " ".join(title.split()) or "Untitled"
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    background, accent, ink = _PALETTES[digest[0] % len(_PALETTES)]
    scale = size / 1400
    margin = round(120 * scale)

    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    # A row of bars like a waveform, its heights taken from the title's hash.
    bars = 24
    bar_width = (size - 2 * margin) / (bars * 1.6)
    base = size - margin - round(80 * scale)
    for index in range(bars):
        height = (0.2 + 0.8 * digest[(index + 1) % len(digest)] / 255) * 150 * scale
        left = margin + index * bar_width * 1.6
        draw.rounded_rectangle(
            (left, base - height / 2, left + bar_width, base + height / 2),
            radius=bar_width / 2,
            fill=accent,
        )
    draw.rectangle(
        (margin, margin, margin + round(160 * scale), margin + round(14 * scale)), accent
    )

    lines, font = _fit_title(draw, title, size - 2 * margin, round(680 * scale), scale)
    line_height = font.size * 1.15
    top = margin + round(110 * scale)
    for number, line in enumerate(lines):
        draw.text((margin, top + number * line_height), line, font=font, fill=ink)
    if author:
        small = ImageFont.load_default(size=round(56 * scale))
        draw.text(
            (margin, top + len(lines) * line_height + 40 * scale), author, font=small, fill=accent
        )

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def check_cover(path: Path) -> str:
    """Raise a one-line StudioError unless `path` is a cover Apple accepts; return its MIME type.

    Apple wants a square JPEG or PNG, 1400 to 3000 px, in RGB, its extension matching its type.
    """
    try:
        with Image.open(path) as image:
            kind, mode, (width, height) = image.format, image.mode, image.size
    except FileNotFoundError:
        raise StudioError(f"cover image {path} does not exist; set show.image") from None
    except OSError as error:
        raise StudioError(f"cover image {path} is not a readable image ({error})") from None
    expected = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}
    if kind not in expected:
        raise StudioError(f"cover image {path} is {kind}; save it as PNG or JPEG")
    if path.suffix.lower() not in expected[kind]:
        raise StudioError(
            f"cover image {path} is a {kind} file: give it a {expected[kind][0]} name"
        )
    if width != height or not COVER_MIN_PX <= width <= COVER_MAX_PX:
        raise StudioError(
            f"cover image {path} is {width}x{height} px; Apple needs a square of 1400 to 3000 px"
        )
    if mode != "RGB":
        raise StudioError(f"cover image {path} is in {mode} colour; convert it to RGB")
    return "image/png" if kind == "PNG" else "image/jpeg"


def _fit_title(
    draw: ImageDraw.ImageDraw, title: str, width: int, height: int, scale: float
) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """The largest font (and the title wrapped to it) that fits in width x height."""
    for points in range(190, 47, -8):
        font = ImageFont.load_default(size=round(points * scale))
        assert isinstance(font, ImageFont.FreeTypeFont)
        average = draw.textlength("abcdefghijklmnopqrstuvwxyz", font=font) / 26
        lines = textwrap.wrap(title, max(1, int(width / average)), break_long_words=True)
        fits = all(draw.textlength(line, font=font) <= width for line in lines)
        if fits and len(lines) * font.size * 1.15 <= height:
            return lines, font
    font = ImageFont.load_default(size=round(48 * scale))
    assert isinstance(font, ImageFont.FreeTypeFont)
    lines = textwrap.wrap(title, max(1, int(width / (font.size * 0.55))))[:8]
    return lines, font
