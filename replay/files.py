"""Files that hold health data are created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def private_dir(path: Path) -> None:
    """Create ``path`` (and parents) as needed; a directory spasmwatch creates gets mode 0700."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """Open a text file for writing, creating it with mode 0600 (an existing file keeps its mode
    but is narrowed to 0600 too: it is health data)."""
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC), 0o600
    )
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode, encoding="utf-8", newline="")
