"""Text that every output can carry: the one filter applied wherever text enters studio."""

from __future__ import annotations

import re

# XML 1.0 cannot carry C0 controls other than tab, LF and CR, lone surrogates, U+FFFE or U+FFFF;
# lxml refuses them, and players choke on them in ID3 tags and captions.
_SPACING_CONTROLS = re.compile("[\x0b\x0c\x1c-\x1f]")  # vertical tab, form feed, separators
_UNCARRIABLE = re.compile("[\x00-\x08\x0e-\x1b\x7f\ud800-\udfff\ufffe\uffff]")


def carriable(text: str) -> str:
    """`text` with the characters XML cannot carry dropped (those that separate, as a space)."""
    return _UNCARRIABLE.sub("", _SPACING_CONTROLS.sub(" ", text))
