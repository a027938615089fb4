"""The UCI "EMG data for gestures" files: a Myo armband's eight channels as its logger wrote them.

Lobov et al. (2018, Sensors 18:1122) recorded 36 people with a Myo armband and a program that
writes about one row a millisecond, tab-separated: ``time`` (ms from the start), ``channel1``
to ``channel8`` (each the armband's int8 count times 1e-5) and ``class`` (0 unmarked, 1 the
hand at rest, 2-7 a cued gesture). The armband samples at 200 Hz: the logger repeats each
value until the next one arrives (sample and hold), and its millisecond steps jitter (1-12
ms). Read as a CSV, every skipped millisecond was a lost sample: a 66 s series gave 1924
stretches without signal and no episode.

So the value held at each 5 ms tick is taken, in counts (the recordings converted into
``recordings/`` are made by the same function). Where the log has no row for longer than
the flat run (0.1 s, what the detector reads as no signal at all), the ticks after that are
lost samples. The cued gestures are the recording's truth (``truth``), as ``recordings/``
has them. Every channel is on the forearm, where the dataset's protocol put the armband. The
file has no wall-clock start (``--start`` gives one).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from replay.csvio import DeviceRecording, RecordingInfo, read_end
from replay.errors import ReplayError
from sensor.block import Block

#: The header every file of the dataset starts with.
HEADER = ("time", *(f"channel{i}" for i in range(1, 9)), "class")
#: The armband's sampling rate, Hz.
MYO_FS = 200.0
#: A file value times this is the armband's int8 count.
COUNTS = 1e5
#: A tick whose last row is older than this is a lost sample: the log stopped (the detector's
#: flat run, ``QualityConfig.flat_run_s``: held that long, a value is no signal anyway).
GAP_MS = 100.0
#: The classes that are cued gestures (0 is unmarked, 1 the hand at rest).
FIRST_GESTURE = 2


def is_myo_log(head: str) -> bool:
    """Whether a file's first line is the dataset's header."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    return tuple(first.split("\t")) == HEADER


def held(
    t_ms: npt.NDArray[np.float64], ticks: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """For each tick, the row whose value it holds (the last at or before it) and whether the
    log had stopped there (that row more than ``GAP_MS`` old). ``t_ms`` must start at or
    before the first tick and must not decrease."""
    rows = np.searchsorted(t_ms, ticks, side="right") - 1
    return rows, ticks - t_ms[rows] > GAP_MS


class MyoLogRecording(DeviceRecording):
    """A series of the UCI gestures dataset read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg"}
    channels : sequence of str, optional
        ``channel1`` to ``channel8`` by name; by default all eight.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file and line.
    """

    emg_only = "a Myo armband's log"

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        self._fh.readline()  # the header (``is_myo_log`` read it)
        self._line = 1
        names = list(HEADER[1:-1])
        chosen = names if wanted is None else self._asked(wanted, names)
        self._columns = [1 + names.index(n) for n in chosen]
        self._pending = self._read_rows()
        if self._pending is None:
            raise ReplayError(self.path, "no samples")
        self.info = RecordingInfo(
            self.path,
            tuple(chosen),
            ("counts",) * len(chosen),
            MYO_FS,
            None,
            {"device": "Myo armband", "conversion": "int8 counts held at each 5 ms tick"},
            # The dataset's protocol: the armband's eight sensors around the forearm.
            dict.fromkeys(chosen, "forearm"),
        )
        self._t0 = float(self._pending[0][0, 0])
        self._next_tick = 0.0
        self._index = 0
        # The last row of the chunk before (time from the start, counts, class).
        self._last: tuple[float, npt.NDArray[np.float64], int] | None = None
        self._gesture_from: tuple[float, int] | None = None

    def _read_rows(self) -> tuple[npt.NDArray[np.float64], list[int]] | None:
        got = self._collect()
        if got is None:
            return None
        lines, numbers, cut = got
        data, self.cut = read_end(self.path, lines, numbers, "\t", len(HEADER), cut=cut)
        return (data, numbers[: len(data)]) if len(data) else None

    def _mark(self, t_ms: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> None:
        """Take this chunk's cued gestures into ``truth``: each from its first row to the first
        row after it (s), numbered by its first row's class; one may go on into the next
        chunk (``t_ms`` and ``labels`` start with the chunk before's last row, if any)."""
        on = labels >= FIRST_GESTURE
        was = self._gesture_from is not None
        for i in np.flatnonzero(np.diff(np.r_[was, on].astype(np.int8)) != 0):
            at = round(float(t_ms[i]) / 1000, 3)
            if on[i]:
                self._gesture_from = (at, int(labels[i]))
            else:
                self._end_gesture(at)

    def _end_gesture(self, at: float) -> None:
        if self._gesture_from is not None:
            start, g = self._gesture_from
            self.truth.append({"start": start, "end": at, "channel": "*", "gesture": g})
            self._gesture_from = None

    def blocks(self) -> Iterator[Block]:
        """The recording at 200 Hz, in counts; ticks after the log stopped are lost samples."""
        step = 1000.0 / MYO_FS
        try:
            while self._pending is not None:
                data, numbers = self._pending
                t = data[:, 0] - self._t0
                back = np.flatnonzero(np.diff(t) < 0)
                if len(back) or (self._last is not None and t[0] < self._last[0]):
                    r = int(back[0]) + 1 if len(back) else 0
                    raise ReplayError(self.path, "time goes back", numbers[r])
                x = np.round(data[:, self._columns] * COUNTS)
                labels = data[:, -1].astype(np.int64)
                if self._last is not None:
                    t = np.r_[self._last[0], t]
                    x = np.vstack([self._last[1], x])
                    labels = np.r_[self._last[2], labels]
                self._mark(t, labels)
                # Ticks before this chunk's last time are decided (a later row cannot hold
                # them); the rest wait for the next chunk. The last time of the file is none.
                n_ticks = max(0, int(np.ceil((t[-1] - self._next_tick) / step)))
                ticks = self._next_tick + step * np.arange(n_ticks, dtype=np.float64)
                self._last = (float(t[-1]), x[-1], int(labels[-1]))
                self._pending = self._read_rows()
                if not len(ticks):
                    continue
                self._next_tick = float(ticks[-1]) + step
                rows, lost = held(t, ticks)
                samples = np.where(lost[:, None], 0.0, x[rows]).astype(np.float32)
                yield Block(samples, MYO_FS, self._index, self.info.channels, self.info.units, lost)
                self._index += len(samples)
            if self._last is not None:  # a gesture to the end: it ends at the last row
                self._end_gesture(round(self._last[0] / 1000, 3))
        finally:
            self._fh.close()


__all__ = ["MyoLogRecording", "held", "is_myo_log"]
