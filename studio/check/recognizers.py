"""Offline recognizers the check listens with: what each segment's audio says, word by word, with
the recognizer's confidence in each word.

- `Pocketsphinx` (default; PyPI pocketsphinx ships an English acoustic model). Its general
  English language model hears only about 70 % of this voice's words and decodes at about a
  tenth of real time, so it decodes with a language model built from the episode's own script
  instead: faster, and sharp on what was said. It is not a grammar of the expected sentence:
  every word of the script may follow any other (back-off), so audio of another sentence is
  heard as that sentence, and audio that is not speech at all is heard as a few scattered
  words whose lattice posteriors (the confidence) are low. Words CMUdict lacks get espeak-ng's
  pronunciation (`phones`).
- `Whisper` (the `whisper` extra): faster-whisper on a local CTranslate2 model folder the user
  names; nothing is downloaded.

Both take 16 kHz mono float32 clips.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from studio.check.phones import pronunciations
from studio.check.words import tokens
from studio.errors import StudioError

SAMPLE_RATE = 16000
# Below this much audio in all, decoding in this process beats starting worker processes.
POOL_MIN_SECONDS = 40.0
# Whisper's tokens a clip may take: speech runs at 4-6 text tokens a second, timestamps included.
MAX_TOKENS_BASE, MAX_TOKENS_PER_SECOND = 16, 12


@dataclass(frozen=True)
class Heard:
    words: tuple[str, ...]
    confidence: tuple[float, ...]  # 0-1, one per word

    def to_json(self) -> dict[str, Any]:
        return {"words": list(self.words), "confidence": [round(c, 3) for c in self.confidence]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Heard:
        return cls(tuple(data["words"]), tuple(float(c) for c in data["confidence"]))


class Recognizer(Protocol):
    name: str

    def identity(self) -> dict[str, Any]:
        """What changes what is heard (cache keys of check results and calibrations)."""
        ...

    def listen(self, clips: Sequence[np.ndarray], script: Sequence[str]) -> list[Heard]:
        """What each clip says. `script` is every spoken text of the episode (the recognizer
        may use it as its vocabulary)."""
        ...


# --- pocketsphinx --------------------------------------------------------------------------


class Pocketsphinx:
    name = "pocketsphinx"
    VERSION = 2  # bump when the vocabulary, language model or decoding settings change

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))

    def identity(self) -> dict[str, Any]:
        import pocketsphinx

        return {
            "recognizer": self.name,
            "version": self.VERSION,
            "pocketsphinx": getattr(pocketsphinx, "__version__", "5"),
        }

    def listen(self, clips: Sequence[np.ndarray], script: Sequence[str]) -> list[Heard]:
        if not clips:
            return []
        with tempfile.TemporaryDirectory(prefix="studio-check-") as folder:
            lm, dictionary = write_vocabulary(script, Path(folder))
            pcm = [_pcm16(clip) for clip in clips]
            seconds = sum(len(p) for p in pcm) / SAMPLE_RATE
            if self.workers == 1 or seconds < POOL_MIN_SECONDS:
                _open_decoder(str(lm), str(dictionary))
                return [_decode(p) for p in pcm]
            import multiprocessing
            import threading

            # Forked workers start at once; spawned ones import studio again (a second or two
            # each). Fork only while this process runs no other thread (none holds a lock).
            alone = (
                threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
            )
            context = multiprocessing.get_context("fork" if alone else "spawn")
            # Longest first, so the last clips handed out are short and the workers end together.
            order = sorted(range(len(pcm)), key=lambda i: -len(pcm[i]))
            results: list[Heard | None] = [None] * len(pcm)
            with ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=_open_decoder,
                initargs=(str(lm), str(dictionary)),
            ) as pool:
                heard = pool.map(_decode, [pcm[i] for i in order])
                for index, one in zip(order, heard, strict=True):
                    results[index] = one
            return [h for h in results if h is not None]


def write_vocabulary(script: Sequence[str], folder: Path) -> tuple[Path, Path]:
    """An ARPA trigram model of the script's sentences and a dictionary of their words."""
    from pocketsphinx.lm import ArpaBoLM

    sentences: list[str] = []
    prons: dict[str, list[str]] = {}
    for text in script:
        words = []
        for token in tokens(text):
            word = token.text or _ipa_word(token.ipa)
            if word not in prons:
                prons[word] = pronunciations(token.text, letters=token.letters, ipa=token.ipa)
            if prons[word]:
                words.append(word)
        if words:
            sentences.append(" ".join(words))
    if not sentences:
        sentences = ["<unk>"]
    model = ArpaBoLM(text="\n".join(sentences), add_start=True, discount_mass=0.5)
    model.compute()
    buffer = io.StringIO()
    model.write(buffer)
    lm = folder / "script.arpa"
    lm.write_text(buffer.getvalue(), encoding="utf-8")
    dictionary = folder / "script.dict"
    lines = []
    for word, variants in sorted(prons.items()):
        for number, phones in enumerate(variants):
            lines.append(f"{word}{f'({number + 1})' if number else ''} {phones}")
    dictionary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lm, dictionary


def _ipa_word(ipa: str) -> str:
    """The dictionary word standing for an [[ipa]] block (a wildcard when aligned)."""
    return "ipa" + hashlib.sha1(ipa.encode("utf-8")).hexdigest()[:10]


_decoder: Any = None


def _open_decoder(lm: str, dictionary: str) -> None:
    global _decoder
    from pocketsphinx import Decoder

    try:
        # No second (flat lexicon) pass, and the 2 best Gaussians per frame instead of 4: half
        # the CPU, and the same scores on good and on damaged takes (benchmarks/check.md).
        _decoder = Decoder(
            samprate=SAMPLE_RATE,
            lm=lm,
            dict=dictionary,
            fwdflat=False,
            topn=2,
            loglevel="FATAL",
        )
    except (RuntimeError, ValueError) as error:
        raise StudioError(f"pocketsphinx cannot start: {error}") from None


_NOT_WORDS = ("<s>", "</s>", "<sil>", "[NOISE]", "<unk>")


def _decode(pcm: np.ndarray) -> Heard:
    decoder = _decoder
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), no_search=False, full_utt=True)
    decoder.end_utt()
    words: list[str] = []
    confidence: list[float] = []
    if decoder.hyp() is None:
        return Heard((), ())
    for segment in decoder.seg():
        word = segment.word.split("(", 1)[0]
        if word in _NOT_WORDS or word.startswith("++"):
            continue
        if word.startswith("ipa") and len(word) == 13:
            word = "*"  # an [[ipa]] block: the alignment's wildcard takes it
        words.append(word)
        confidence.append(float(min(1.0, max(0.0, segment.prob))))
    return Heard(tuple(words), tuple(confidence))


def _pcm16(clip: np.ndarray) -> np.ndarray:
    return (np.clip(clip, -1.0, 1.0) * 32767).astype("<i2")


# --- faster-whisper ------------------------------------------------------------------------


class Whisper:
    """faster-whisper on a local CTranslate2 model folder (e.g. a converted whisper-small.en)."""

    name = "whisper"
    VERSION = 2  # bump when the decoding settings change

    def __init__(self, folder: Path, *, threads: int | None = None) -> None:
        if not folder.is_dir() or not (folder / "model.bin").is_file():
            raise StudioError(
                f"{folder} is not a CTranslate2 Whisper model folder (no model.bin): "
                "convert one with ct2-transformers-converter, or leave --whisper out"
            )
        if not (folder / "tokenizer.json").is_file():
            # faster-whisper would go to the Hugging Face hub for it.
            raise StudioError(
                f"{folder} has no tokenizer.json: convert the model with "
                "--copy_files tokenizer.json preprocessor_config.json"
            )
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            raise StudioError(
                "--whisper needs faster-whisper: pip install 'studio[whisper]'"
            ) from None
        self.folder = folder
        self.threads = threads or max(1, min(2, os.cpu_count() or 1))
        self._model: Any = None

    def identity(self) -> dict[str, Any]:
        from studio.engines.digest import file_digest

        return {
            "recognizer": self.name,
            "version": self.VERSION,
            "model": file_digest(self.folder / "model.bin"),
        }

    def listen(self, clips: Sequence[np.ndarray], script: Sequence[str]) -> list[Heard]:
        if self._model is None:
            from faster_whisper import WhisperModel

            try:
                self._model = WhisperModel(
                    str(self.folder), device="cpu", compute_type="int8", cpu_threads=self.threads
                )
            except (RuntimeError, ValueError, OSError) as error:
                reason = (str(error).strip() or type(error).__name__).splitlines()[0]
                raise StudioError(f"faster-whisper cannot load {self.folder}: {reason}") from None
        heard = []
        for clip in clips:
            seconds = min(30.0, len(clip) / SAMPLE_RATE)  # the limit is per 30 s window
            segments, _ = self._model.transcribe(
                np.asarray(clip, dtype=np.float32),
                language="en",
                beam_size=1,
                # Greedy only: faster-whisper's fallback samples at rising temperatures when a
                # decode looks poor, so a damaged take would be heard differently on each run
                # (and cached as whichever it was), at up to six decodes a clip.
                temperature=0.0,
                # A recognizer looping on garbled audio stops at twice any speaking rate.
                max_new_tokens=int(MAX_TOKENS_BASE + MAX_TOKENS_PER_SECOND * seconds),
                word_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
            )
            words: list[str] = []
            confidence: list[float] = []
            for segment in segments:
                for word in segment.words or ():
                    for token in tokens(word.word, digits_to_words=True):
                        words.append(token.text or "*")
                        confidence.append(float(word.probability))
            heard.append(Heard(tuple(words), tuple(confidence)))
        return heard


def open_recognizer(whisper: Path | None = None) -> Recognizer:
    return Whisper(whisper) if whisper is not None else Pocketsphinx()
