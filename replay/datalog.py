"""Biometrics DataLOG text exports: what its analysis software writes as text.

The export (as the UCI "EMG dataset in Lower Limb" files have it) is:

- ``File Name: <the log>``;
- one line a channel: ``Channel 4: 'Recto Femoral', 38971 values, engineering units: mV,
  no filters.``, a channel sampled slower and written at the rows' rate adding
  ``extrapolated from 50 to 1000 samples per second``;
- a blank line, then one row a sample: the channels' values separated by tabs, a channel
  that has no more values leaving its field empty.

An sEMG replay takes by default the channels in volts (mV, uV, V): a goniometer (deg) or a
force sensor is not a muscle's signal, and stderr names what was left out. The export does
not say its sampling rate unless a channel was extrapolated to it (its second number); else
``--fs`` gives it. Each channel's values end at its count: rows past the end of the
channels replayed are not read. The file has no wall-clock start (``--start`` gives one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from replay.csvio import CHUNK_ROWS, SIGNAL_UNITS, DeviceRecording, RecordingInfo, normal_unit
from replay.errors import ReplayError
from sensor.block import Block

#: A channel's line in the head.
CHANNEL = re.compile(
    r"^Channel (?P<n>\d+): '(?P<name>[^']*)', (?P<count>\d+) values, "
    r"engineering units: (?P<unit>[^,]*)(?:,(?P<rest>.*))?$"
)
#: What a channel written at a faster rate than its own says of the rows' rate.
EXTRAPOLATED = re.compile(r"extrapolated from [\d.]+ to (?P<fs>[\d.]+) samples per second")
#: Units that are a muscle's electrical signal.
VOLTS = ("uV", "mV", "V", "nV")


def is_datalog(head: str) -> bool:
    """Whether a file starts as a DataLOG text export (its first two lines)."""
    lines = head.lstrip("\ufeff").split("\n", 2)
    return (
        len(lines) >= 2
        and lines[0].startswith("File Name:")
        and CHANNEL.match(lines[1].strip()) is not None
    )


class DataLogRecording(DeviceRecording):
    """A DataLOG text export read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg"}
    channels : sequence of str, optional
        Channels by name; by default those in volts.
    fs : float, optional
        The sampling rate, when the export does not say it.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file and line.
    """

    emg_only = "a DataLOG export"

    def __init__(
        self,
        path: str | Path,
        signal: str,
        channels: Sequence[str] | None = None,
        fs: float | None = None,
    ) -> None:
        self._given_fs = fs
        super().__init__(path, signal, channels)

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        names: list[str] = []
        units: list[str] = []
        counts: list[int] = []
        rates: set[float] = set()
        for raw in self._fh:
            self._line += 1
            s = raw.strip()
            if self._line == 1:
                continue  # File Name: (is_datalog read it)
            if not s:
                break
            m = CHANNEL.match(s)
            if m is None:
                raise ReplayError(self.path, "not a 'Channel N: ...' line of the head", self._line)
            names.append(m["name"])
            unit = normal_unit(m["unit"])
            units.append(SIGNAL_UNITS.get(unit, (unit, 1.0))[0])
            counts.append(int(m["count"]))
            if (r := EXTRAPOLATED.search(m["rest"] or "")) is not None:
                rates.add(float(r["fs"]))
        if not names:
            raise ReplayError(self.path, "no 'Channel N: ...' lines")
        if len(set(names)) != len(names):
            raise ReplayError(self.path, "two channels of the same name")
        if wanted is not None:
            chosen = self._asked(wanted, names)
            for n in chosen:
                unit = units[names.index(n)]
                if unit not in VOLTS:
                    raise ReplayError(
                        self.path, f"channel {n!r} is in {unit}, not a muscle's signal (volts)"
                    )
            self.left_out: tuple[str, ...] = ()
        else:
            chosen = [n for n, u in zip(names, units, strict=True) if u in VOLTS]
            if not chosen:
                listed = ", ".join(f"{n} ({u})" for n, u in zip(names, units, strict=True))
                raise ReplayError(
                    self.path,
                    f"no channel in volts to replay as sEMG: {listed}; choose with --channels",
                )
            self.left_out = tuple(n for n in names if n not in chosen)
        self._columns = [names.index(n) for n in chosen]
        self._width = len(names)
        lengths = {counts[c] for c in self._columns}
        if len(lengths) > 1:
            raise ReplayError(
                self.path,
                "the channels chosen have different numbers of values ("
                + ", ".join(f"{names[c]} {counts[c]}" for c in self._columns)
                + "): replay those of one rate together",
            )
        self._left = lengths.pop()
        fs = self._rate(rates)
        self.info = RecordingInfo(
            self.path,
            tuple(chosen),
            tuple(units[c] for c in self._columns),
            fs,
            None,
            {"device": "Biometrics DataLOG (text export)"},
            {},
        )
        self._index = 0

    def _rate(self, said: set[float]) -> float:
        """The rows' sampling rate: what the export says, or ``--fs``."""
        given = self._given_fs
        if len(said) > 1:
            raise ReplayError(self.path, f"its channels say different rates: {sorted(said)}")
        if said:
            fs = said.pop()
            if given is not None and given != fs:
                raise ReplayError(
                    self.path, f"says its rows are {fs:g} samples per second, not --fs {given:g}"
                )
            return fs
        if given is None:
            raise ReplayError(
                self.path, "a DataLOG export does not say its sampling rate: give it with --fs"
            )
        return given

    def _row(self, fields: list[str]) -> list[float]:
        """The chosen channels' values in a row's fields."""
        row: list[float] = []
        for c in self._columns:
            v = fields[c].strip() if c < len(fields) else ""
            try:
                row.append(float(v))
            except ValueError:
                what = "is empty" if not v else f"is not a number: {v!r}"
                raise ReplayError(self.path, f"field {c + 1} {what}", self._line) from None
        return row

    def blocks(self) -> Iterator[Block]:
        """The chosen channels' values, as many as their count, in consecutive blocks."""
        width = self._width
        try:
            while self._left > 0:
                rows: list[list[float]] = []
                for raw in self._fh:
                    self._line += 1
                    s = raw.rstrip("\r\n")
                    if not s.strip():
                        continue
                    fields = s.split("\t")
                    if len(fields) > width:
                        raise ReplayError(
                            self.path, f"{len(fields)} fields, the head names {width}", self._line
                        )
                    try:
                        rows.append(self._row(fields))
                    except ReplayError as exc:
                        if raw.endswith("\n"):
                            raise
                        self.cut = exc  # the file's last line, cut mid-row: left out
                        self._left = len(rows)
                        break
                    if len(rows) >= min(CHUNK_ROWS, self._left):
                        break
                if not rows:
                    if self.cut is not None:
                        break
                    raise ReplayError(
                        self.path, f"ends {self._left} values short of what its head says"
                    )
                self._left -= len(rows)
                x = np.asarray(rows, dtype=np.float32)
                yield Block(x, self.info.fs, self._index, self.info.channels, self.info.units)
                self._index += len(x)
        finally:
            self._fh.close()


__all__ = ["DataLogRecording", "is_datalog"]
