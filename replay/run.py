"""Replaying recordings through exactly the live pipeline."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from detect.events import Episode
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording, WfdbRecording
from replay.csvio import CsvRecording
from replay.errors import ReplayError, no_such_signals
from sensor.block import Block

Recording = CsvRecording | EdfRecording | WfdbRecording


class Selected:
    """Some of a recording's channels, by name, in the order asked for."""

    def __init__(self, recording: CsvRecording | WfdbRecording, names: Sequence[str]) -> None:
        info = recording.info
        self.recording = recording
        self.columns = [info.channels.index(n) for n in names]
        self.info = dataclasses.replace(
            info,
            channels=tuple(names),
            units=tuple(info.units[i] for i in self.columns),
            locations={n: loc for n, loc in info.locations.items() if n in names},
        )
        self.truth = [t for t in getattr(recording, "truth", []) if t.get("channel") in names]
        self.damaged = getattr(recording, "damaged", False)

    def blocks(self) -> Iterator[Block]:
        """The recording's blocks with the chosen channels' columns only."""
        for b in self.recording.blocks():
            yield Block(
                b.samples[:, self.columns],
                b.fs,
                b.start_index,
                self.info.channels,
                self.info.units,
                b.lost,
            )

    def close(self) -> None:
        """Close the recording."""
        self.recording.close()


def open_recording(
    path: str | Path, signal: str, channels: Sequence[str] | None = None
) -> Recording | Selected:
    """Open a recording by its file type, all its signals or the ``channels`` named.

    Raises
    ------
    ReplayError
        If the file type is not one spasmwatch reads, the file is unreadable, or it has no
        signal of a name asked for.
    """
    p = Path(path)
    if p.suffix.lower() in (".bdf", ".edf"):
        if not p.exists():
            raise ReplayError(p, "cannot open: No such file or directory")
        return EdfRecording(p, signal, channels)
    rec: CsvRecording | WfdbRecording
    if p.suffix.lower() in (".csv", ".txt"):
        rec = CsvRecording(p, signal)
    elif p.suffix.lower() in (".hea", ".dat"):
        rec = WfdbRecording(p, signal)
    else:
        raise ReplayError(
            p,
            f"unknown recording type {p.suffix or '(no suffix)'!r}; spasmwatch reads .csv, .edf, .bdf and WFDB .hea",
        )
    if channels is None:
        return rec
    missing = [n for n in channels if n not in rec.info.channels]
    if missing:
        rec.close()
        raise ReplayError(p, no_such_signals(missing, rec.info.channels))
    return Selected(rec, channels)


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
