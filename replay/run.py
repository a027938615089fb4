"""Replaying recordings through exactly the live pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from detect.events import Episode
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording
from replay.csvio import CsvRecording
from replay.errors import ReplayError
from sensor.block import Block


def open_recording(path: str | Path, signal: str) -> CsvRecording | EdfRecording:
    """Open a recording by its file type.

    Raises
    ------
    ReplayError
        If the file type is not one spasmwatch reads, or the file is unreadable.
    """
    p = Path(path)
    if p.suffix.lower() in (".csv", ".txt"):
        return CsvRecording(p, signal)
    if p.suffix.lower() in (".bdf", ".edf"):
        if not p.exists():
            raise ReplayError(p, "cannot open: No such file or directory")
        return EdfRecording(p, signal)
    raise ReplayError(
        p,
        f"unknown recording type {p.suffix or '(no suffix)'!r}; spasmwatch reads .csv, .edf and .bdf",
    )


def run(pipeline: Pipeline, blocks: Iterable[Block]) -> Iterator[Episode]:
    """Feed every block, then flush: the episode events in the order the live pipeline says them."""
    pipeline.reset()
    for block in blocks:
        yield from pipeline.process(block)
    yield from pipeline.flush()
