"""The built-in lexicon is on by default; a render's speech settings or a voice can turn it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.config import RenderSettings, SpeechOptions
from studio.render import RenderRequest, prepare

ESSAY = "# Notes\n\nWe trained it with PyTorch on GPUs, SOTA at last.\n\nAda [00:02:01]: Hi.\n"


def spoken(tmp_path: Path, voice: str = "joe", **speech: bool) -> list[str]:
    essay = tmp_path / "essay.md"
    essay.write_text(ESSAY, encoding="utf-8")
    settings = RenderSettings(speech=SpeechOptions(**speech))
    request = RenderRequest(essay, tmp_path, voice=voice, settings=settings)
    return [s.text for s in prepare(request, tmp_path / "cache").script.segments]


def test_on_by_default(tmp_path: Path) -> None:
    texts = spoken(tmp_path)
    assert "We trained it with pie torch on G-P-U's, state of the art at last." in texts
    assert "Ada: Hi." in texts


def test_render_settings_turn_it_off_and_read_timestamps(tmp_path: Path) -> None:
    texts = spoken(tmp_path, builtin_lexicon=False, read_timestamps=True)
    assert "We trained it with PyTorch on G-P-U's, S-O-T-A at last." in texts
    assert "Ada, at two minutes one second: Hi." in texts


def test_a_voice_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    voice = tmp_path / "voices" / "plain"
    voice.mkdir(parents=True)
    (voice / "voice.toml").write_text('engine = "bundled"\nbuiltin_lexicon = false\n')
    monkeypatch.setenv("STUDIO_VOICES", str(tmp_path / "voices"))
    assert "We trained it with PyTorch on G-P-U's, S-O-T-A at last." in spoken(tmp_path, "plain")
