"""Encode a mastered Episode to one CBR MP3 with ID3v2.3 tags and chapters (CHAP + CTOC)."""

from __future__ import annotations

import contextlib
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen.id3 as id3
import numpy as np
import soundfile

from studio.config import MP3_BITRATES_KBPS
from studio.errors import StudioError
from studio.files import atomic_path
from studio.types import Episode, Timeline

MP3_SAMPLE_RATES = (32000, 44100, 48000)  # MPEG-1 Layer III

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_TOC_ID = "toc"


@dataclass(frozen=True)
class Id3Tags:
    """What the episode file says about itself. Empty strings leave a frame out."""

    title: str
    artist: str = ""
    album: str = ""  # the show's name
    date: str = ""  # "2026-11-28", "2026-11", "2026" or ""
    description: str = ""
    cover: Path | None = None  # JPEG or PNG


def check_mp3_settings(
    sample_rate: int, tags: Id3Tags, bitrate_kbps: int
) -> tuple[str, bytes] | None:
    """Refuse, with a one-line StudioError, what `Mp3Writer` could not write: worth calling
    before synthesis, which a render would otherwise finish first. Returns the cover, read
    (MIME type and bytes), if the tags name one."""
    if bitrate_kbps not in MP3_BITRATES_KBPS:
        allowed = ", ".join(map(str, MP3_BITRATES_KBPS))
        raise StudioError(
            f"MP3 bitrate {bitrate_kbps} kbps is not supported: use one of {allowed} kbps "
            "(below 56 the encoder writes no header giving the exact length)."
        )
    if sample_rate not in MP3_SAMPLE_RATES:
        raise StudioError(
            f"Cannot encode {sample_rate} Hz audio as MP3: master the episode at "
            "44100 Hz (32000 and 48000 Hz also work)."
        )
    if tags.date and not _DATE.fullmatch(tags.date):
        raise StudioError(f"Episode date {tags.date!r} is not a date: write it as YYYY-MM-DD.")
    return _read_cover(tags.cover) if tags.cover is not None else None


def _open_encoder(target: Any, sample_rate: int, bitrate_kbps: int) -> soundfile.SoundFile:
    # Both settings are needed for CBR: CONSTANT alone silently gives ~77 kbps VBR.
    return soundfile.SoundFile(
        target,
        "w",
        samplerate=sample_rate,
        channels=1,
        format="MP3",
        subtype="MPEG_LAYER_III",
        bitrate_mode="CONSTANT",
        compression_level=(320 - bitrate_kbps) / 288,
    )


@functools.cache
def encoder_level(sample_rate: int, bitrate_kbps: int) -> float:
    """The amplitude the encoder gives its input, measured once per setting.

    libsndfile's LAME path scales what it encodes (by 0.95 at 96 kbps, not at all at 320), so an
    episode mastered to -16 LUFS decoded at -16.45; `Mp3Writer` divides by this level.
    """
    # Noise in the speech band: the encoder low-passes above it, which is not a level change.
    noise = np.fft.rfft(np.random.default_rng(1770).standard_normal(sample_rate))
    band = np.fft.rfftfreq(sample_rate, 1 / sample_rate)
    noise[(band < 100) | (band > 5000)] = 0
    probe = np.fft.irfft(noise, sample_rate)
    probe = (0.3 * probe / np.abs(probe).max()).astype(np.float32)
    encoded = io.BytesIO()
    with _open_encoder(encoded, sample_rate, bitrate_kbps) as sound:
        sound.write(probe)
    encoded.seek(0)
    decoded = soundfile.read(encoded, dtype="float32")[0][: len(probe)]
    # The decoder drops the encoder's delay (LAME's header says how much), so the two line up.
    return float(np.dot(decoded, probe[: len(decoded)]) / np.dot(probe, probe))


class Mp3Writer:
    """One MP3 encoded as its PCM streams in: `write` blocks in order, then `finish` with the
    episode's layout to tag it. The file appears at `path` only if the `with` block completes
    after `finish`; leaving it any other way (an exception) leaves nothing behind.
    """

    def __init__(
        self, path: Path, sample_rate: int, *, tags: Id3Tags, bitrate_kbps: int = 96
    ) -> None:
        # The cover is read here, before the encode, which takes a while for a long episode.
        self._cover = check_mp3_settings(sample_rate, tags, bitrate_kbps)
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.tags = tags
        self.bitrate_kbps = bitrate_kbps
        self._atomic: contextlib.AbstractContextManager[Path] | None = None
        self._partial: Path | None = None
        self._sound: soundfile.SoundFile | None = None
        self._finished = False
        # Undo the encoder's own scaling, so that the file is as loud as what was mastered.
        self._make_up = np.float32(1.0 / encoder_level(sample_rate, bitrate_kbps))

    def __enter__(self) -> Mp3Writer:
        self._atomic = atomic_path(self.path)
        try:
            self._partial = self._atomic.__enter__()
            self._sound = _open_encoder(self._partial, self.sample_rate, self.bitrate_kbps)
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise self._cannot_write(error) from error
        return self

    def write(self, block: np.ndarray) -> None:
        assert self._sound is not None, "use Mp3Writer in a with block"
        try:
            self._sound.write(np.asarray(block, dtype=np.float32) * self._make_up)
        except (OSError, soundfile.SoundFileRuntimeError) as error:
            raise self._cannot_write(error) from error

    def finish(self, layout: Episode | Timeline) -> None:
        """Close the encoder and tag the file with the episode's chapters."""
        assert self._sound is not None and self._partial is not None
        try:
            self._sound.close()
            # v2.3, not v2.4: under v2.4 Apple Podcasts broke on chapter titles over ~51 chars.
            tag = _id3_tag(layout, self.tags, self._cover)
            tag.update_to_v23()  # TDRC becomes TYER + TDAT; save alone would drop it
            tag.save(self._partial, v2_version=3)
            _store_chapters_in_time_order(self._partial)
        except OSError as error:
            raise self._cannot_write(error) from error
        self._finished = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        assert self._atomic is not None and self._sound is not None
        if not self._sound.closed:
            self._sound.close()
        if kind is None and not self._finished:
            kind, error = RuntimeError, RuntimeError("Mp3Writer left without finish()")
        self._atomic.__exit__(kind, error, tb)

    def _cannot_write(self, error: BaseException) -> BaseException:
        if isinstance(error, StudioError):
            return error
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
        elif isinstance(error, soundfile.SoundFileRuntimeError):
            reason = str(error)
        else:
            return error
        return StudioError(
            f"Cannot write {self.path}: {reason}. Check that the folder exists and is writable."
        )


def _id3_tag(
    episode: Episode | Timeline, tags: Id3Tags, cover: tuple[str, bytes] | None
) -> id3.ID3:
    utf16 = id3.Encoding.UTF16  # ID3v2.3 has no UTF-8
    tag = id3.ID3()
    tag.add(id3.TIT2(encoding=utf16, text=[tags.title]))
    if tags.artist:
        tag.add(id3.TPE1(encoding=utf16, text=[tags.artist]))
    if tags.album:
        tag.add(id3.TALB(encoding=utf16, text=[tags.album]))
    if tags.date:
        tag.add(id3.TDRC(encoding=utf16, text=[tags.date]))
    if tags.description:
        tag.add(id3.COMM(encoding=utf16, lang="eng", desc="", text=[tags.description]))
    if cover is not None:
        mime, data = cover
        tag.add(
            id3.APIC(
                encoding=utf16, mime=mime, type=id3.PictureType.COVER_FRONT, desc="", data=data
            )
        )

    spans = _chapter_spans_ms(episode)
    element_ids = [f"chp{index}" for index in range(len(spans))]
    for element_id, (title, start_ms, end_ms) in zip(element_ids, spans, strict=True):
        tag.add(
            id3.CHAP(
                element_id=element_id,
                start_time=start_ms,
                end_time=end_ms,
                sub_frames=[id3.TIT2(encoding=utf16, text=[title or tags.title])],
            )
        )
    if element_ids:
        # Apple Podcasts ignores chapters unless the CTOC is flagged top-level and ordered and
        # has a title; Overcast cannot navigate without a CTOC at all.
        tag.add(
            id3.CTOC(
                element_id=_TOC_ID,
                flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                child_element_ids=element_ids,
                sub_frames=[id3.TIT2(encoding=utf16, text=[tags.title])],
            )
        )
    return tag


def _store_chapters_in_time_order(path: Path) -> None:
    """Rewrite the saved tag so its CHAP frames follow each other in time order, in place.

    mutagen sorts frames by size on save, so chapters with titles of different lengths land out
    of order; the CTOC is right, but ffprobe lists them as stored and ffmpeg's MP3 -> M4A
    conversion (what hosts do on upload) misplaces their starts. mutagen offers no frame order,
    so swap the CHAP frames among the slots they already hold: the tag keeps its exact size.
    """
    with open(path, "r+b") as file:
        header = file.read(10)
        if header[:3] != b"ID3" or header[3] != 3 or header[5] & 0xC0:
            return  # not the plain v2.3 tag written just above (no unsync, no extended header)
        size = sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(header[6:10]))
        body = file.read(size)
        frames: list[tuple[int, bytes]] = []
        offset = 0
        while offset + 10 <= len(body) and body[offset] != 0:
            length = 10 + int.from_bytes(body[offset + 4 : offset + 8], "big")
            frames.append((offset, body[offset : offset + length]))
            offset += length
        chapters = [(start, frame) for start, frame in frames if frame[:4] == b"CHAP"]

        def start_ms(frame: bytes) -> int:
            time_at = frame.index(b"\0", 10) + 1  # after the null-terminated element id
            return int.from_bytes(frame[time_at : time_at + 4], "big")

        ordered = sorted((frame for _, frame in chapters), key=start_ms)
        rewritten = bytearray(body)
        slot = chapters[0][0] if chapters else 0
        # CHAP frames may be interleaved with others (sorted by size), so lay the chapters out
        # one after another where the first one was, and the frames they displaced after them.
        others = [frame for start, frame in frames if frame[:4] != b"CHAP" and start > slot]
        for frame in [*ordered, *others]:
            rewritten[slot : slot + len(frame)] = frame
            slot += len(frame)
        if rewritten != body:
            file.seek(10)
            file.write(rewritten)


def _chapter_spans_ms(episode: Episode | Timeline) -> list[tuple[str, int, int]]:
    """(title, start, end) in whole ms: each end is the next start, the last the duration."""
    if not episode.chapters:
        return []
    starts = [round(mark.start * 1000) for mark in episode.chapters]
    ends = [*starts[1:], round(episode.duration * 1000)]
    return [
        (mark.title, start, end)
        for mark, start, end in zip(episode.chapters, starts, ends, strict=True)
    ]


def _read_cover(cover: Path) -> tuple[str, bytes]:
    try:
        data = Path(cover).read_bytes()
    except OSError as error:
        raise StudioError(
            f"Cannot read the cover image {cover}: {error.strerror or error}. "
            "Check the path in the show's settings."
        ) from error
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", data
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", data
    raise StudioError(f"The cover image {cover} is neither JPEG nor PNG: convert it to one.")
