"""The one exception type users see: its message is the whole one-line error the CLI prints."""


class StudioError(Exception):
    """A problem with the user's input or environment, explained in one line with what to do."""
