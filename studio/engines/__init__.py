"""Synthesis engines: each turns spoken text into mono float32 audio for one voice."""
