"""Replaying recordings through exactly the live pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from detect.events import Episode
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording, WfdbRecording
from replay.csvio import CsvRecording
from replay.errors import ReplayError
from sensor.block import Block


def open_recording(path: str | Path, signal: str) -> CsvRecording | EdfRecording | WfdbRecording:
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
    if p.suffix.lower() in (".hea", ".dat"):
        return WfdbRecording(p, signal)
    raise ReplayError(
        p,
        f"unknown recording type {p.suffix or '(no suffix)'!r}; spasmwatch reads .csv, .edf, .bdf and WFDB .hea",
    )


#: Paced replay hands the pipeline pieces of at most this long, s.
PACE_PIECE_S = 0.1


def paced(blocks: Iterable[Block], speed: float) -> Iterator[Block]:
    """The blocks in pieces of at most 0.1 s, each released when a session running ``speed``
    times faster than real time would have seen it (``speed`` 1: as the live session did)."""
    t0 = time.monotonic()
    for block in blocks:
        step = max(1, int(PACE_PIECE_S * block.fs))
        for a in range(0, block.n_samples, step):
            piece = Block(
                block.samples[a : a + step],
                block.fs,
                block.start_index + a,
                block.channels,
                block.units,
                block.lost[a : a + step],
            )
            due = t0 + piece.stop_index / block.fs / speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing a replay, as a live device would
            yield piece


def run(pipeline: Pipeline, blocks: Iterable[Block]) -> Iterator[Episode]:
    """Feed every block, then flush: the episode events in the order the live pipeline says them."""
    pipeline.reset()
    for block in blocks:
        yield from pipeline.process(block)
    yield from pipeline.flush()
