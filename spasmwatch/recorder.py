"""Recording a live session's raw samples as BDF+, beside the episode log.

Episodes and signal-lost stretches become annotations. When the disk runs low, or the file
cannot be written, recording stops with a clear message; monitoring and logging go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from detect.events import Episode
from replay.bdf import BdfWriter, read_header, repair
from replay.errors import ReplayError
from replay.files import private_dir
from sensor.block import Block

log = logging.getLogger(__name__)

#: Recording stops when the disk has less than this free (8 channels at 2 kHz write 48 kB/s,
#: so this is over an hour of the largest stream).
MIN_FREE_BYTES = 256 * 1024 * 1024
#: How often free space is checked while recording, s of wall-clock time.
DISK_CHECK_S = 10.0


def default_path(folder: Path, start: datetime, source: str) -> Path:
    """A new file ``<folder>/20261125T220001Z-simulated.bdf``, claimed (created empty, 0600) so
    that two sessions starting in the same second get two files (``...-2.bdf`` for the second)."""
    private_dir(folder)
    stem = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}-{source}"
    for n in range(1, 1000):
        path = folder / (f"{stem}.bdf" if n == 1 else f"{stem}-{n}.bdf")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return path
    raise ReplayError(folder, f"no free name for a recording starting {stem}")


def tidy(folder: Path, keep_days: int, now: datetime) -> list[str]:
    """Mend unfinished recordings in ``folder`` and remove those older than ``keep_days``.

    Returns one line per thing done. The episode log is never touched.
    """
    done: list[str] = []
    if not folder.is_dir():
        return done
    for path in sorted(folder.glob("*.bdf")):
        try:
            if read_header(path).cut_short:
                n = repair(path)
                done.append(f"mended {path.name} ({n} whole records kept)")
            age_days = (now.timestamp() - path.stat().st_mtime) / 86400
            if keep_days and age_days > keep_days:
                path.unlink()
                done.append(f"removed {path.name} (older than {keep_days} days)")
        except (OSError, ReplayError) as exc:
            done.append(f"could not tidy {path.name}: {exc}")
    return done


class Recorder:
    """The raw signal of one stream, written as it arrives."""

    def __init__(
        self,
        path: Path,
        block: Block,
        start: datetime,
        *,
        locations: Mapping[str, str],
        patient: str | None,
        recording: str,
        warn: Callable[[str], None],
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        private_dir(path.parent)
        self.path = path
        self.warn = warn
        self.min_free = min_free_bytes
        self.writer: BdfWriter | None = BdfWriter(
            path,
            block.channels,
            block.units,
            block.fs,
            start,
            patient=patient,
            recording=recording,
            transducers=[locations.get(c, "") for c in block.channels],
        )
        self._labels = {c: c.replace(" ", "_") for c in block.channels}
        self._checked = 0.0
        self._check_disk()

    def _stop(self, why: str) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError):
                self.writer.close()
            self.writer = None
            self.warn(
                f"recording stopped: {why}; monitoring and the episode log go on ({self.path})"
            )

    def _check_disk(self) -> None:
        self._checked = time.monotonic()
        free = shutil.disk_usage(self.path.parent).free
        if free < self.min_free:
            self._stop(f"only {free // 2**20} MB free on the disk")

    def write(self, block: Block) -> None:
        """Add a block; each run of lost samples becomes a "signal lost" annotation."""
        if self.writer is None:
            return
        try:
            self.writer.write(block)
        except OSError as exc:
            self._stop(f"cannot write ({exc.strerror})")
            return
        if time.monotonic() - self._checked > DISK_CHECK_S:
            self._check_disk()

    def episode(self, ev: Episode) -> None:
        """Annotate an episode once it has ended, with its true onset and duration."""
        if self.writer is None or ev.state == "open" or ev.duration_s is None:
            return
        label = self._labels.get(ev.channel, ev.channel.replace(" ", "_"))
        note = "" if ev.state == "ended" else " interrupted"
        self.writer.annotate(ev.start_s, ev.duration_s, f"spasm {label} {ev.type}{note}")

    def close(self) -> None:
        """Finish the file (the record count goes into its header)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
