"""Errors of the recordings layer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sensor.errors import SpasmwatchError


class ReplayError(SpasmwatchError):
    """A recording that cannot be read or written.

    Attributes
    ----------
    path : Path
        The file.
    line : int or None
        1-based line number where the problem is, for text files.
    reason : str
        What is wrong.
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason


def no_such_signals(missing: Sequence[str], have: Sequence[str]) -> str:
    """The reason given for channels asked for that a recording does not hold."""
    return f"no signal named {', '.join(map(repr, missing))}; it has {', '.join(have)}"
