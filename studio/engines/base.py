"""The interface every synthesis engine implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, eq=False)
class Synthesis:
    """One take from an engine: mono float32 audio, and how many tries it took to get it.

    Engines that check their takes (XTTS can hallucinate or go silent) retry with other seeds;
    `attempts` and `notes` let the render manifest say so.
    """

    audio: np.ndarray
    attempts: int = 1
    notes: tuple[str, ...] = ()


class Engine(Protocol):
    """A loaded (or lazily loadable) voice.

    `identity()` must be cheap and must not load the model: an unchanged re-render computes every
    take's cache key from it and should never pay for importing torch or opening the model.
    """

    name: str
    sample_rate: int
    max_chars: int  # the longest spoken text one take may carry, counted after normalization
    accepts_ipa: bool  # whether `[[ipa]]` blocks in the text are spoken as raw phonemes
    synthesis_threads: int  # how many threads may call `synthesize` at once

    def identity(self) -> dict[str, Any]:
        """Everything that changes the audio for a given text: engine, settings, model hash."""
        ...

    def synthesize(self, text: str) -> Synthesis:
        """Speak `text`: mono float32 samples at `sample_rate`, the same for the same text."""
        ...


@runtime_checkable
class Limited(Protocol):
    """An engine whose takes have a limit beyond `max_chars`, e.g. XTTS's 400 text tokens.

    `fits` is called on spoken text while the script is cut into segments, so it must be as cheap
    as `identity()`: no torch, no model.
    """

    def fits(self, text: str) -> bool: ...
