"""studio: turn written essays into podcast-ready narration."""

__version__ = "0.1.0"
