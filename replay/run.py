"""Replaying recordings through exactly the live pipeline."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from detect.envelope import RunLength
from detect.events import Episode
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording, WfdbRecording
from replay.csvio import CsvRecording
from replay.datalog import DataLogRecording, is_datalog
from replay.errors import ReplayError, no_such_signals
from replay.matfile import MatRecording
from replay.myolog import MyoLogRecording, is_myo_log
from replay.openbci import OpenBCIRecording, is_openbci
from replay.opensignals import MAGIC, OpenSignalsRecording, is_opensignals
from replay.shimmer import ShimmerRecording, is_shimmer
from sensor.block import Block

Recording = (
    CsvRecording
    | DataLogRecording
    | MatRecording
    | EdfRecording
    | MyoLogRecording
    | OpenBCIRecording
    | OpenSignalsRecording
    | ShimmerRecording
    | WfdbRecording
)
#: Bytes of a text file read to tell its format: the longest header line a Shimmer export
#: writes (a unit with every sensor on: about 60 columns of 40 characters) fits.
HEAD_BYTES = 8192


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

    @property
    def cut(self) -> ReplayError | None:
        """The recording's last line, if it was left out because it was cut short."""
        return getattr(self.recording, "cut", None)

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


def _text_kind(path: Path) -> str:
    """Which text format a file is, by its first lines: "opensignals", "shimmer", "openbci",
    "myolog", "datalog" or "csv"."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise ReplayError(path, f"cannot open: {exc.strerror}") from exc
    if is_opensignals(head[: len(MAGIC) + 3]):
        return "opensignals"
    if is_shimmer(head.decode("utf-8", errors="replace")):
        return "shimmer"
    if is_openbci(head):
        return "openbci"
    if is_myo_log(head.decode("utf-8", errors="replace")):
        return "myolog"
    if is_datalog(head.decode("utf-8", errors="replace")):
        return "datalog"
    return "csv"


def open_recording(
    path: str | Path,
    signal: str,
    channels: Sequence[str] | None = None,
    fs: float | None = None,
) -> Recording | Selected:
    """Open a recording by its file type, all its signals or the ``channels`` named.

    A text file (``.txt``, ``.tsv``, ``.csv``) whose first line is OpenSignals' is read as an
    OpenSignals recording (``replay.opensignals``), one that starts as a Shimmer Consensys
    export, an OpenBCI GUI recording, a series of the UCI Myo gestures dataset or a
    Biometrics DataLOG text export as that (``replay.shimmer``, ``replay.openbci``,
    ``replay.myolog``, ``replay.datalog``), any other as CSV. ``fs`` is the sampling rate
    of a CSV without a time column (one with a time column must agree with it) and of a
    DataLOG export or a MATLAB file (``replay.matfile``) that does not say it; other files
    say their own.

    Raises
    ------
    ReplayError
        If the file type is not one spasmwatch reads, the file is unreadable, or it has no
        signal of a name asked for.
    """
    p = Path(path)
    text = p.suffix.lower() in (".csv", ".tsv", ".txt")
    kind = _text_kind(p) if text else None
    if fs is not None and kind not in ("csv", "datalog") and p.suffix.lower() != ".mat":
        raise ReplayError(
            p, "says its own sampling rate; --fs is for text files without a time column"
        )
    if p.suffix.lower() == ".mat":
        return MatRecording(p, signal, channels, fs)
    if p.suffix.lower() in (".bdf", ".edf"):
        if not p.exists():
            raise ReplayError(p, "cannot open: No such file or directory")
        return EdfRecording(p, signal, channels)
    rec: CsvRecording | WfdbRecording
    if kind == "opensignals":
        return OpenSignalsRecording(p, signal, channels)
    if kind == "shimmer":
        return ShimmerRecording(p, signal, channels)
    if kind == "openbci":
        return OpenBCIRecording(p, signal, channels)
    if kind == "myolog":
        return MyoLogRecording(p, signal, channels)
    if kind == "datalog":
        return DataLogRecording(p, signal, channels, fs)
    if text:
        rec = CsvRecording(p, signal, fs)
    elif p.suffix.lower() in (".hea", ".dat"):
        rec = WfdbRecording(p, signal, every=channels is not None)
    else:
        raise ReplayError(
            p,
            f"unknown recording type {p.suffix or '(no suffix)'!r}; spasmwatch reads .csv, .tsv "
            "and .txt (OpenSignals, Shimmer, OpenBCI, Myo log and DataLOG files too), .edf, .bdf, "
            "WFDB .hea and MATLAB .mat",
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


@dataclasses.dataclass(frozen=True)
class NoSignal:
    """A stretch of a recording without usable signal: nothing can be detected there.

    ``reason`` is ``packets`` (lost samples: the file's gaps) or ``detached`` (a channel's
    raw values did not change for ``QualityConfig.detached_after_s`` or longer: an electrode
    off, a stuck device or an amplifier held at its full scale), as the live monitor logs
    them. ``channel`` None means every channel. Samples ``[start_index, stop_index)``.
    """

    reason: str
    channel: str | None
    start_index: int
    stop_index: int
    fs: float

    @property
    def start_s(self) -> float:
        return self.start_index / self.fs

    @property
    def duration_s(self) -> float:
        return (self.stop_index - self.start_index) / self.fs

    @property
    def samples(self) -> int:
        return self.stop_index - self.start_index


class NoSignalWatch:
    """Finds the stretches without usable signal in a stream, block by block, so that a
    replay says where "no spasms" means "no signal" (as the monitor's log does live).

    Each stretch is reported once it has ended (or at :meth:`flush`); how the stream is cut
    into blocks does not change them.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.fs = pipeline.fs
        self.channels = pipeline.channels
        self._need = max(2, round(pipeline.config.quality.detached_after_s * pipeline.fs))
        self._runs = RunLength(len(pipeline.columns))
        self._lost_from: int | None = None
        self._flat_from: list[int | None] = [None] * len(self.channels)
        self._next = 0

    def process(self, block: Block) -> list[NoSignal]:
        """The stretches that ended within ``block``."""
        out: list[NoSignal] = []
        i0, n = block.start_index, block.n_samples
        if n == 0:
            return out
        self._next = i0 + n
        lost = block.lost
        if lost.any() or self._lost_from is not None:
            for e in _edges(self._lost_from is not None, lost):
                if self._lost_from is None:
                    self._lost_from = i0 + e
                elif e < n:
                    out.append(NoSignal("packets", None, self._lost_from, i0 + e, self.fs))
                    self._lost_from = None
        runs = self._runs.process(block.samples, lost)
        if any(b is not None for b in self._flat_from) or (runs >= self._need).any():
            for j, ch in enumerate(self.channels):
                run = runs[:, list(ch.columns)].min(axis=1)
                began = self._flat_from[j]
                for e in _edges(began is not None, run >= self._need):
                    if began is None:
                        began = i0 + e - int(run[e]) + 1  # where the unchanging run began
                    elif e < n:
                        out.append(NoSignal("detached", ch.name, began, i0 + e, self.fs))
                        began = None
                self._flat_from[j] = began
        return sorted(out, key=lambda s: s.start_index)

    def flush(self) -> list[NoSignal]:
        """The stretches still going at the end of the stream."""
        out = []
        if self._lost_from is not None:
            out.append(NoSignal("packets", None, self._lost_from, self._next, self.fs))
        for ch, began in zip(self.channels, self._flat_from, strict=True):
            if began is not None:
                out.append(NoSignal("detached", ch.name, began, self._next, self.fs))
        self._lost_from, self._flat_from = None, [None] * len(self.channels)
        return sorted(out, key=lambda s: s.start_index)


def _edges(carry: bool, flags: npt.NDArray[np.bool_]) -> list[int]:
    """Where ``flags`` (after ``carry``, the state before them) change: index ``e`` is the
    first sample of a run of True, or the first after one (``len(flags)``: still going)."""
    return np.flatnonzero(np.diff(np.r_[carry, flags, False])).tolist()
