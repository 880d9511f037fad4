"""The interface every synthesis engine implements."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Engine(Protocol):
    """A loaded (or lazily loadable) voice.

    `identity()` must be cheap and must not load the model: an unchanged re-render computes every
    take's cache key from it and should never pay for importing torch or opening the model.
    """

    name: str
    sample_rate: int
    max_chars: int  # the longest spoken text one take may carry, counted after normalization
    accepts_ipa: bool  # whether `[[ipa]]` blocks in the text are spoken as raw phonemes

    def identity(self) -> dict[str, Any]:
        """Everything that changes the audio for a given text: engine, settings, model hash."""
        ...

    def synthesize(self, text: str) -> np.ndarray:
        """Speak `text`; return mono float32 samples at `sample_rate`."""
        ...
