"""Shimmer recordings: the CSV files Shimmer's Consensys software exports.

A Shimmer3 EXG unit records two sEMG channels (``EMG_CH1_24BIT``, ``EMG_CH2_24BIT``, in mV)
beside its accelerometers, battery and status words. Consensys writes a recording as:

- ``"sep=,"`` (or a tab): the separator, as a hint to spreadsheets;
- the columns' names, each ``<device>_<signal>_<CAL|RAW>``: ``Shimmer_68ED_EMG_CH1_24BIT_CAL``
  (the device part is whatever the user named the unit: ``S_SeatHead_``, ``id95AE_``);
- the columns' units: ``ms``, ``mV``, ``m/(s^2)``, ``no_units``...;
- one row a sample, every row ending with the separator.

Time is the ``Timestamp_Unix_CAL`` column, milliseconds since 1970 by the unit's own
32768 Hz clock, so its steps are the samples': a step of several samples is samples that
never arrived (a streamed file's lost Bluetooth packets), replayed as lost samples in their
place. By default an sEMG replay takes the ``EMG_CH`` channels and an accelerometer replay
the low-noise accelerometer's three axes (``Accel_LN``; else the wide-range or the MPU
one), in g; ``--channels`` picks any calibrated column by its name without the device part
and ``_CAL``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from replay.csvio import (
    RATE_ROWS,
    SEP_LINE,
    SIGNAL_UNITS,
    DeviceRecording,
    RecordingInfo,
    normal_unit,
    read_end,
    sample_gaps,
    time_rate,
    with_gaps,
    wrong_unit,
)
from replay.errors import ReplayError
from sensor.block import ACC, Block, sensor_groups
from sensor.errors import SensorError

#: Names of the time column, without the device part, in the order taken.
TIME_COLUMNS = ("Timestamp_Unix_CAL", "TimestampSync_Unix_CAL")
#: The sEMG channels of a Shimmer3 EXG unit set up for EMG (24- or 16-bit).
EMG_CHANNEL = re.compile(r"^EMG_CH\d+_(?:24|16)BIT$")
#: Accelerometers, in the order an accelerometer replay prefers them: low noise (+-2 g),
#: wide range, the MPU's.
ACCELEROMETERS = ("Accel_LN", "Accel_WR", "Accel_MPU")


def is_shimmer(head: str) -> bool:
    """Whether a text file's first lines are a Consensys export's: a ``sep=`` line, then a
    header naming a ``Timestamp_Unix_CAL`` column."""
    lines = head.lstrip("\ufeff").splitlines()
    return (
        len(lines) >= 2
        and SEP_LINE.match(lines[0].strip("\r\n")) is not None
        and any(c in lines[1] for c in TIME_COLUMNS)
    )


def _fields(line: str, sep: str) -> list[str]:
    """A header line's fields, unquoted, without the empty one its last separator makes."""
    fields = [f.strip().strip('"').strip() for f in line.rstrip("\r\n").split(sep)]
    if fields and not fields[-1]:
        fields.pop()
    return fields


class ShimmerRecording(DeviceRecording):
    """A Consensys CSV export read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg", "acc"}
    channels : sequence of str, optional
        Columns by name without the device part and ``_CAL`` (``EMG_CH1_24BIT``); by default
        the sEMG channels, or one accelerometer's three axes.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file, line and column.
    """

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        lines = [self._fh.readline() for _ in range(3)]
        self._line = 3
        match = SEP_LINE.match(lines[0].strip("\r\n"))
        if match is None:
            raise ReplayError(self.path, "not a Shimmer export (no 'sep=' line)", 1)
        self._sep = sep = match["sep"]
        names, units = _fields(lines[1], sep), _fields(lines[2], sep)
        if len(units) != len(names):
            raise ReplayError(
                self.path, f"{len(units)} units for the {len(names)} columns named above", 3
            )
        found = [i for c in TIME_COLUMNS for i, n in enumerate(names) if n.endswith("_" + c)]
        if not found:
            raise ReplayError(self.path, "no Timestamp_Unix_CAL column", 2)
        self._time = found[0]
        if units[self._time] != "ms":
            raise ReplayError(
                self.path, f"column {names[self._time]!r} is in {units[self._time]!r}, not ms", 3
            )
        device = names[self._time][: names[self._time].index("Timestamp")]
        short = [n.removeprefix(device).removesuffix("_CAL") for n in names]
        calibrated = {
            s: i
            for i, (s, n) in enumerate(zip(short, names, strict=True))
            if n.endswith("_CAL") and "Timestamp" not in s
        }
        if wanted is not None:
            chosen = self._asked(wanted, list(calibrated))
        elif signal == ACC:
            axes = [[f"{a}_{x}" for x in "XYZ"] for a in ACCELEROMETERS]
            chosen = next((c for c in axes if all(n in calibrated for n in c)), [])
        else:
            chosen = [s for s in calibrated if EMG_CHANNEL.match(s)]
        if not chosen:
            what = "accelerometer (Accel_LN_X, _Y, _Z)" if signal == ACC else "EMG_CH channel"
            raise ReplayError(
                self.path,
                f"no {what}; it has {', '.join(calibrated)}: choose with --channels",
                2,
            )
        if signal == ACC:
            try:
                sensor_groups(chosen)
            except SensorError as exc:
                raise ReplayError(self.path, str(exc), 2) from exc
        allowed = ("g",) if signal == ACC else ("uV", "mV", "V")
        out_units: list[str] = []
        factors: list[float] = []
        for name in chosen:
            written = normal_unit(units[calibrated[name]])
            if written not in SIGNAL_UNITS:
                raise ReplayError(
                    self.path, f"column {name!r} is in {written!r}, not sEMG or acceleration", 3
                )
            unit, factor = SIGNAL_UNITS[written]
            if unit not in allowed:
                raise ReplayError(self.path, wrong_unit(name, unit), 3)
            out_units.append(unit)
            factors.append(factor)
        self._columns = [calibrated[n] for n in chosen]
        self._factors = np.asarray(factors, dtype=np.float64)
        self._width = len(names)
        self._pending = self._read_rows()
        if self._pending is None or len(self._pending[0]) < 2:
            raise ReplayError(self.path, "needs at least two samples to infer the sampling rate")
        t_ms = self._pending[0][:RATE_ROWS, self._time]
        # Time from the first sample: in seconds since 1970, float64 keeps only 0.2 us.
        self._t0_ms = float(t_ms[0])
        fs = time_rate((t_ms - self._t0_ms) / 1000.0)
        if fs is None:
            raise ReplayError(self.path, "time does not increase", 4)
        start = datetime.fromtimestamp(self._t0_ms / 1000.0, UTC)
        comments = {"device": device.rstrip("_"), "format": "Shimmer"}
        self.info = RecordingInfo(
            self.path, tuple(chosen), tuple(out_units), fs, start, comments, {}
        )
        self._index = 0
        self._t_prev: float | None = None

    def _read_rows(self) -> tuple[npt.NDArray[np.float64], list[int]] | None:
        got = self._collect(suffix=self._sep)  # every row ends with the separator
        if got is None:
            return None
        lines, numbers, cut = got
        data, self.cut = read_end(self.path, lines, numbers, self._sep, self._width, cut=cut)
        return (data, numbers[: len(data)]) if len(data) else None

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks; where time skips whole sample periods, the
        samples that never arrived are lost samples (read as 0), in their place."""
        fs = self.info.fs
        try:
            while self._pending is not None:
                data, numbers = self._pending
                t = (data[:, self._time] - self._t0_ms) / 1000.0
                before = t[0] - 1 / fs if self._t_prev is None else self._t_prev
                periods = np.diff(np.concatenate([[before], t])) * fs
                gaps, r = sample_gaps(periods)
                if r is not None:
                    raise ReplayError(
                        self.path,
                        f"time {data[r, self._time]:.3f} ms is {periods[r]:.3g} sample periods "
                        f"after the row before, not a whole number at {fs:g} Hz",
                        numbers[r],
                    )
                self._t_prev = float(t[-1])
                x = (data[:, self._columns] * self._factors).astype(np.float32)
                x, lost = with_gaps(x, gaps)
                yield Block(x, fs, self._index, self.info.channels, self.info.units, lost)
                self._index += len(x)
                self._pending = self._read_rows()
        finally:
            self._fh.close()


__all__ = ["ShimmerRecording", "is_shimmer"]
