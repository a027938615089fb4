"""Errors of the episode log."""

from __future__ import annotations

from pathlib import Path

from sensor.errors import SpasmwatchError


class LogError(SpasmwatchError):
    """The episode log cannot be opened or written.

    Attributes
    ----------
    path : Path
    reason : str
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class ForeignFileError(LogError):
    """The file is not a spasmwatch log; it was not modified."""
