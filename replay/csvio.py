"""CSV recordings: the simple text format anyone can write.

The contract (also in the README):

- lines starting with ``#`` are comments; ``# start: <ISO-8601>`` gives the wall-clock time of
  the first sample, ``# units: <unit>`` the unit of every signal column and
  ``# location: <place>`` where every channel was worn;
- the first other line is the header ``time,<channel>,...``;
- ``time`` is in seconds from the first sample, uniformly sampled within 1 % (the rate is
  inferred from it);
- sEMG columns are in uV (or device counts with ``# units: counts``), one column per channel;
  accelerometer columns come in groups of three (x, y, z in g), one group per sensor;
- a lost sample (a dropped notification) is a row with its time and every other field empty
  (``12.345,,``), so a replay sees the same gaps the live monitor saw; every other field NaN
  (``12.345,nan,nan``, as pandas and other tools write a gap) is read the same way.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from replay.errors import ReplayError
from replay.files import open_private
from replay.timefmt import format_utc, parse_time
from sensor.block import ACC, Block, sensor_groups
from sensor.errors import SensorError

#: Rows parsed per block.
CHUNK_ROWS = 20_000
#: Rows used to infer the sampling rate.
RATE_ROWS = 1_000
#: Allowed deviation of one time step from 1/fs.
UNIFORM_TOLERANCE = 0.01


#: How files write micro in a unit: the micro sign, the Greek mu, and, in an EDF header
#: read as Latin-1, a UTF-8 mu ("Î¼") or a Shift JIS one ("\x83\xca"); all read as
#: spasmwatch writes it: "u".
_MICRO = ("\u00b5", "\u03bc", "\u00ce\u00bc", "\u0083\u00ca")


def normal_unit(text: str) -> str:
    """A unit as spasmwatch writes it: micro as ``u`` ("µV" is "uV"), no surrounding spaces."""
    text = text.strip()
    for micro in _MICRO:
        if text.startswith(micro):
            return "u" + text[len(micro) :]
    return text


@dataclass
class RecordingInfo:
    """What a recording says about itself: channels, units, rate and wall-clock start."""

    path: Path
    channels: tuple[str, ...]
    units: tuple[str, ...]
    fs: float
    start: datetime | None
    comments: dict[str, str] = field(default_factory=dict)
    #: The body location of each channel the recording names one for.
    locations: dict[str, str] = field(default_factory=dict)


class CsvRecording:
    """A CSV recording read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg", "acc"}
        How to read the columns.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file and line.
    """

    def __init__(self, path: str | Path, signal: str) -> None:
        self.path = Path(path)
        self.signal = signal
        try:
            self._fh: IO[str] = open(self.path, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise ReplayError(self.path, f"cannot open: {exc.strerror}") from exc
        try:
            self._read_head(signal)
        except BaseException:
            self._fh.close()
            raise

    def _read_head(self, signal: str) -> None:
        self._line = 0
        comments: dict[str, str] = {}
        header: list[str] | None = None
        try:
            for raw in self._fh:
                self._line += 1
                line = raw.strip()
                if not line:
                    continue
                if line.startswith("#"):
                    key, sep, value = line[1:].partition(":")
                    if sep:
                        comments[key.strip().lower()] = value.strip()
                    continue
                header = [h.strip() for h in line.split(",")]
                break
        except UnicodeDecodeError as exc:
            raise ReplayError(
                self.path, f"not a text file ({exc.reason} at byte {exc.start})", self._line + 1
            ) from exc
        if header is None:
            raise ReplayError(self.path, "no header row (expected time,<channel>,...)", self._line)
        self._header_line = self._line
        if header[0].lower() != "time" or len(header) < 2:
            raise ReplayError(
                self.path,
                f"header must start with 'time' and name at least one channel, got {','.join(header)!r}",
                self._line,
            )
        channels = tuple(header[1:])
        if any(not c for c in channels) or len(set(channels)) != len(channels):
            raise ReplayError(
                self.path, "channel names in the header must be unique and not empty", self._line
            )
        if signal == ACC:
            try:
                sensor_groups(channels)
            except SensorError as exc:
                raise ReplayError(self.path, str(exc), self._line) from exc
        unit = normal_unit(comments.get("units", "g" if signal == ACC else "uV"))
        start = None
        if "start" in comments:
            try:
                start = parse_time(comments["start"])
            except ValueError as exc:
                raise ReplayError(
                    self.path, f"'# start:' is not an ISO-8601 time: {comments['start']!r}"
                ) from exc
        self._pending = self._read_rows(len(channels) + 1)
        if self._pending is None or len(self._pending[0]) < 2:
            raise ReplayError(self.path, "needs at least two samples to infer the sampling rate")
        t = self._pending[0][:RATE_ROWS, 0]
        span = float(t[-1] - t[0])
        if not span > 0:
            raise ReplayError(self.path, "time does not increase", self._header_line + 2)
        step = float(np.median(np.diff(t)))
        if not step > 0:
            raise ReplayError(self.path, "time does not increase", self._header_line + 2)
        fs = 1.0 / step
        if np.all(np.abs(np.diff(t) / step - 1) <= UNIFORM_TOLERANCE):
            fs = (len(t) - 1) / span  # the mean rate, once the steps are known to be uniform
        where = comments.get("location")
        locations = {c: where for c in channels} if where else {}
        self.info = RecordingInfo(
            self.path, channels, (unit,) * len(channels), fs, start, comments, locations
        )
        self._t_prev: float | None = None
        self._index = 0

    def _read_rows(
        self, width: int
    ) -> tuple[npt.NDArray[np.float64], list[int], npt.NDArray[np.bool_]] | None:
        """Up to CHUNK_ROWS data rows as a float array, with their line numbers and which
        rows are lost samples (a time and nothing else: ``12.345,,``, or NaN in every signal
        field), read as 0."""
        lines: list[str] = []
        numbers: list[int] = []
        lost_rows: list[int] = []
        empty = "," * (width - 1)
        zeros = ",0" * (width - 1)
        for raw in self._fh:
            self._line += 1
            s = raw.strip()
            if not s or s.startswith("#"):
                continue
            if s.endswith(empty) and s.count(",") == width - 1:
                lost_rows.append(len(lines))
                s = s[: -len(empty)] + zeros
            lines.append(s)
            numbers.append(self._line)
            if len(lines) >= CHUNK_ROWS:
                break
        if not lines:
            return None
        try:
            data = np.loadtxt(
                io.StringIO("\n".join(lines)), delimiter=",", dtype=np.float64, ndmin=2
            )
            if data.shape[1] != width:
                raise ValueError
        except ValueError:
            for s, n in zip(lines, numbers, strict=True):
                fields = s.split(",")
                if len(fields) != width:
                    raise ReplayError(
                        self.path, f"{len(fields)} fields, the header has {width}", n
                    ) from None
                for col, v in enumerate(fields):
                    if not v.strip():
                        raise ReplayError(
                            self.path,
                            f"field {col + 1} is empty (a lost sample leaves every signal "
                            "field empty)",
                            n,
                        ) from None
                    try:
                        float(v)
                    except ValueError:
                        raise ReplayError(
                            self.path, f"field {col + 1} is not a number: {v.strip()!r}", n
                        ) from None
            raise ReplayError(self.path, "unreadable rows", numbers[0]) from None
        bad = ~np.isfinite(data)
        if bad.any():
            # Every signal field NaN: a lost sample as other tools write one (pandas' "nan").
            gone = np.isnan(data[:, 1:]).all(axis=1) & np.isfinite(data[:, 0])
            if gone.any():
                lost_rows.extend(np.flatnonzero(gone).tolist())
                data[gone, 1:] = 0.0
                bad = ~np.isfinite(data)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ReplayError(
                self.path,
                f"field {c + 1} is not a finite number (a lost sample leaves every signal "
                "field empty or NaN)",
                numbers[r],
            )
        lost = np.zeros(len(lines), dtype=bool)
        lost[lost_rows] = True
        return data, numbers, lost

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks of up to CHUNK_ROWS samples."""
        info = self.info
        width = len(info.channels) + 1
        try:
            while self._pending is not None:
                data, numbers, lost = self._pending
                t = data[:, 0]
                prev = t[0] - 1 / info.fs if self._t_prev is None else self._t_prev
                steps = np.diff(np.concatenate([[prev], t])) * info.fs
                off = np.flatnonzero(np.abs(steps - 1) > UNIFORM_TOLERANCE)
                if len(off):
                    r = int(off[0])
                    raise ReplayError(
                        self.path,
                        f"time {t[r]:g} s breaks uniform sampling at {info.fs:g} Hz "
                        f"(step {steps[r] / info.fs * 1000:g} ms, expected {1000 / info.fs:g} ms)",
                        numbers[r],
                    )
                self._t_prev = float(t[-1])
                yield Block(
                    samples=data[:, 1:].astype(np.float32),
                    fs=info.fs,
                    start_index=self._index,
                    channels=info.channels,
                    units=info.units,
                    lost=lost,
                )
                self._index += len(data)
                self._pending = self._read_rows(width)
        finally:
            self._fh.close()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


class CsvWriter:
    """Write blocks to a CSV recording (mode 0600) in the contract above.

    Parameters
    ----------
    path : path
    channels : sequence of str
    fs : float
    start : datetime or None
        Written as ``# start:``.
    units : str
    comments : mapping
        More ``# key: value`` lines.
    """

    def __init__(
        self,
        path: str | Path,
        channels: Sequence[str],
        fs: float,
        start: datetime | None,
        units: str,
        comments: dict[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.fs = fs
        try:
            self._fh = open_private(self.path)
        except OSError as exc:
            raise ReplayError(self.path, f"cannot write: {exc.strerror}") from exc
        lines = [f"# {k}: {v}" for k, v in (comments or {}).items()]
        if start is not None:
            lines.append(f"# start: {format_utc(start)}")
        lines.append(f"# units: {units}")
        lines.append("time," + ",".join(channels))
        self._fh.write("\n".join(lines) + "\n")
        self._decimals = max(6, math.ceil(math.log10(fs)) + 3)

    def write(self, block: Block) -> None:
        """Append a block's samples; a lost sample is a row with its time and nothing else."""
        if block.n_samples == 0:
            return
        t = np.arange(block.start_index, block.stop_index) / self.fs
        edges = np.flatnonzero(np.diff(block.lost)) + 1
        for a, b in itertools.pairwise([0, *edges.tolist(), block.n_samples]):
            if block.lost[a]:
                gap = "," * block.n_channels
                self._fh.writelines(f"{x:.{self._decimals}f}{gap}\n" for x in t[a:b])
                continue
            # 9 significant digits read back to the same float32 (IEEE 754 round trip).
            np.savetxt(
                self._fh,
                np.column_stack([t[a:b], block.samples[a:b].astype(np.float64)]),
                fmt=[f"%.{self._decimals}f"] + ["%.9g"] * block.n_channels,
                delimiter=",",
            )

    def close(self) -> None:
        """Flush and close."""
        self._fh.close()
