"""OpenBCI GUI recordings: the ``OpenBCI-RAW-*.txt`` files the OpenBCI GUI writes.

The GUI (its ``DataWriterODF``) writes:

- ``%OpenBCI Raw EXG Data``, ``%Number of channels = 8``, ``%Sample Rate = 250 Hz``,
  ``%Board = OpenBCI_GUI$BoardCytonSerial``;
- the columns' names, separated by ", ": ``Sample Index``, ``EXG Channel 0``..., the
  accelerometer, digital and analog lines, ``Timestamp`` (the computer's Unix time in
  seconds, as packets arrived), ``Marker Channel``, and last ``Timestamp (Formatted)``;
- one row a sample: numbers separated by ", ", then the formatted time (text).

The ``EXG Channel`` columns are sEMG (or EEG) in uV; an sEMG replay takes them all by
default, ``--channels`` any numeric column. The start is the first ``Timestamp``; the
timing is the sampling rate's, since the computer's times come in bursts.

``Sample Index`` is the board's counter, and where it skips, samples never reached the
computer: they are lost samples in their place. It counts differently by board (as the
GUI's own packet-loss tracker has it): a Cyton 0-255 by one, a Cyton with Daisy over
serial even numbers 0-254. Like any counter that goes round, it cannot show whole turns
lost, so a skip is the least number of samples that fits. Boards whose counter repeats
each index (a Ganglion, a Cyton with Daisy over WiFi) cannot show a lost sample here and
are refused rather than replayed with their gaps closed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from replay.csvio import DeviceRecording, RecordingInfo, read_end, with_gaps
from replay.errors import ReplayError
from sensor.block import Block

#: The first line of every OpenBCI GUI recording.
MAGIC = "%OpenBCI Raw EXG Data"
#: The sample index each board counts through, by the GUI's board class (``%Board``).
SAMPLE_INDICES: dict[str, tuple[int, ...]] = {
    "BoardCytonSerial": tuple(range(256)),
    "BoardCytonWifi": tuple(range(256)),
    "BoardCytonSerialDaisy": tuple(range(0, 256, 2)),
}


def is_openbci(head: bytes) -> bool:
    """Whether a file starts as an OpenBCI GUI recording."""
    return head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC.encode())


class OpenBCIRecording(DeviceRecording):
    """An OpenBCI GUI recording read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg"}
        OpenBCI's accelerometer columns are not read as a spasm signal.
    channels : sequence of str, optional
        Columns by name; by default every ``EXG Channel``.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file and line.
    """

    emg_only = "an OpenBCI recording"

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        comments: dict[str, str] = {}
        header: str | None = None
        for raw in self._fh:
            self._line += 1
            s = raw.strip()
            if not s:
                continue
            if s.startswith("%"):
                key, _, value = s[1:].partition("=")
                comments[key.strip().lower()] = value.strip()
                continue
            header = s
            break
        if header is None:
            raise ReplayError(self.path, "no header row after the '%' lines", self._line)
        try:
            fs = float(comments.get("sample rate", "").split()[0])
        except (IndexError, ValueError):
            raise ReplayError(self.path, "no '%Sample Rate = <Hz> Hz' line") from None
        if not (fs > 0 and np.isfinite(fs)):
            raise ReplayError(self.path, f"sampling rate {fs:g} Hz is not a positive rate")
        board = comments.get("board", "").rpartition("$")[2]
        indices = SAMPLE_INDICES.get(board)
        if indices is None:
            raise ReplayError(
                self.path,
                f"board {board or '(none named)'!r}: its sample index cannot show lost samples "
                f"the way spasmwatch reads them (it reads {', '.join(SAMPLE_INDICES)})",
            )
        self._position = np.full(max(indices) + 1, -1, dtype=np.int64)
        self._position[list(indices)] = np.arange(len(indices))
        names = [n.strip() for n in header.split(",")]
        self._formatted = names[-1] == "Timestamp (Formatted)"
        if self._formatted:
            names.pop()  # text, not a number: left out of every row
        self._width = len(names)
        if "Sample Index" not in names or "Timestamp" not in names:
            raise ReplayError(self.path, "no 'Sample Index' and 'Timestamp' columns", self._line)
        self._seq = names.index("Sample Index")
        time_col = names.index("Timestamp")
        if wanted is not None:
            chosen = self._asked(wanted, names)
        else:
            chosen = [n for n in names if n.startswith("EXG Channel")]
        if not chosen:
            raise ReplayError(self.path, "no 'EXG Channel' column", self._line)
        self._columns = [names.index(n) for n in chosen]
        self._pending = self._read_rows()
        if self._pending is None:
            raise ReplayError(self.path, "no samples")
        start = datetime.fromtimestamp(float(self._pending[0][0, time_col]), UTC)
        comments["board"] = board
        self.info = RecordingInfo(
            self.path, tuple(chosen), ("uV",) * len(chosen), fs, start, comments, {}
        )
        self._indices = len(indices)
        self._last: int | None = None
        self._index = 0

    def _read_rows(self) -> tuple[npt.NDArray[np.float64], list[int]] | None:
        got = self._collect()
        if got is None:
            return None
        lines, numbers, cut = got
        if self._formatted:
            lines = [s.rpartition(",")[0] for s in lines]
        data, self.cut = read_end(self.path, lines, numbers, ",", self._width, cut=cut)
        return (data, numbers[: len(data)]) if len(data) else None

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks; samples the sample index shows were lost are
        lost samples (read as 0), in their place."""
        try:
            while self._pending is not None:
                data, numbers = self._pending
                seq = data[:, self._seq].astype(np.int64)
                known = (seq >= 0) & (seq < len(self._position))
                pos = np.where(known, self._position[np.clip(seq, 0, len(self._position) - 1)], -1)
                bad = np.flatnonzero(pos < 0)
                if len(bad):
                    r = int(bad[0])
                    raise ReplayError(
                        self.path,
                        f"sample index {data[r, self._seq]:g} is not one a "
                        f"{self.info.comments['board']} counts",
                        numbers[r],
                    )
                before = pos[0] - 1 if self._last is None else self._last
                steps = np.diff(np.concatenate([[before], pos])) % self._indices
                steps[steps == 0] = self._indices  # a whole turn: the least that fits
                self._last = int(pos[-1])
                x, lost = with_gaps(data[:, self._columns].astype(np.float32), steps - 1)
                yield Block(x, self.info.fs, self._index, self.info.channels, self.info.units, lost)
                self._index += len(x)
                self._pending = self._read_rows()
        finally:
            self._fh.close()


__all__ = ["OpenBCIRecording", "is_openbci"]
