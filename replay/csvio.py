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
- what other tools write is read too: fields separated by semicolons or tabs (a decimal
  comma with semicolons, as spreadsheets in much of Europe write it), quoted header fields,
  a time column named ``t``, ``timestamp`` or ``elapsed time`` and in milliseconds when its
  name says so (``time (ms)``, ``time_ms``, Delsys' ``X[s]``), and a unit in a column's name
  (``EMG (mV)``, ``Acceleration x (m/s^2)``: read in g), which wins over ``# units:``, or
  in a row of units under the header (``Time,EMG`` over ``s,mV``);
- an export's own lines before the header (a preamble: the device, the subject,
  ``Sampling frequency: 1925.9``) are passed over, and a sampling rate there is read;
- a first column counting samples (``sample``, ``index``, ``n``) is timed by the rate given,
  and a time column of ISO-8601 dates and times (``2026-11-20 22:00:00.125``) from its first
  row, whose stamp is the start;
- a separator ending every line (``12.345,5.1,``) makes no column;
- a column of labels (``LABEL_NAMES``: ``class``, ``restimulus``, ``marker``...) is left out
  of the channels, and its runs of one value other than 0 are the recording's ``truth``;
- a lost sample (a dropped notification) is a row with its time and every other field empty
  (``12.345,,``), so a replay sees the same gaps the live monitor saw; every other field NaN
  (``12.345,nan,nan``, as pandas and other tools write a gap) is read the same way.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from replay.errors import ReplayError, no_such_signals
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


#: Field separators a header may use (the one it holds most of; ties in this order).
SEPARATORS = (",", ";", "\t")
#: Names of the time column (case ignored). "x" only with a unit of time: Delsys' "X[s]".
TIME_NAMES = ("time", "t", "timestamp", "elapsed time", "datetime")
#: Names of a column that counts samples instead of timing them (case ignored): with the
#: rate given, sample ``n`` is at ``n / fs``, and numbers it skips are lost samples.
INDEX_NAMES = ("sample", "samples", "sample number", "sample no", "sample #", "index", "n")
#: Names of a column of labels, not a signal (case ignored): a dataset's class, cue or
#: stimulus (NinaPro's "restimulus", the UCI gesture files' "class"), a marker or trigger.
LABEL_NAMES = frozenset(
    ("label", "labels", "class", "stimulus", "restimulus", "gesture", "cue", "marker",
     "markers", "trigger", "event", "events", "annotation", "target")
)  # fmt: skip
#: Units a time column may name, in seconds.
TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "msec": 1e-3,
    "milliseconds": 1e-3,
    "us": 1e-6,
}
#: Units a signal column may name, as spasmwatch writes them, with the factor its values are
#: read with: acceleration in m/s^2 (phones' sensor apps write it) is read in g.
SIGNAL_UNITS = {
    "uV": ("uV", 1.0),
    "mV": ("mV", 1.0),
    "V": ("V", 1.0),
    "nV": ("nV", 1.0),
    "counts": ("counts", 1.0),
    "g": ("g", 1.0),
    "m/s^2": ("g", 1 / 9.80665),
    "m/s\u00b2": ("g", 1 / 9.80665),
    "m/s2": ("g", 1 / 9.80665),
    "m/(s^2)": ("g", 1 / 9.80665),  # as Shimmer writes it
}
#: Slowest sampling rate any chain reads (an accelerometer's 3-12 Hz band needs 14 Hz,
#: ``detect.filters.bandpass_sos``): a slower time column is most likely in milliseconds.
SLOWEST_HZ = 14.0
#: A first line that names the separator for spreadsheets (Excel's hint; Shimmer writes it).
SEP_LINE = re.compile(r'^"?sep=(?P<sep>.)"?$')
#: A unit at the end of a column's name: "EMG (mV)", "X[s]".
_UNIT_IN_NAME = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<p>[^()]*)\)|\[(?P<b>[^\[\]]*)\])$")


def split_unit(label: str) -> tuple[str, str | None]:
    """A column's name and the unit at its end (``"EMG (mV)"`` -> ``("EMG", "mV")``); the
    whole label and None when it ends in no bracketed unit."""
    m = _UNIT_IN_NAME.match(label)
    if m is None or not m.group("name"):
        return label, None
    unit = m.group("p") if m.group("p") is not None else m.group("b")
    return m.group("name"), normal_unit(unit)


def time_column(label: str) -> float | None:
    """Seconds per unit of a time column's values (1 when its name gives no unit), or None
    when the label does not name a time column."""
    name, unit = split_unit(label)
    if unit is None:
        base, _, suffix = label.rpartition("_")
        if base.lower() in TIME_NAMES and suffix.lower() in TIME_UNITS:
            return TIME_UNITS[suffix.lower()]
        return 1.0 if label.lower() in TIME_NAMES else None
    if name.lower() in (*TIME_NAMES, "x") and unit.lower() in TIME_UNITS:
        return TIME_UNITS[unit.lower()]
    return None


#: Comments that give the sampling rate of a file without a time column (BioSPPy's text
#: files write "# Sampling Rate (Hz):= 1000.00"; exports a "Sampling frequency: 1925.9" line).
RATE_KEYS = (
    *("sampling rate", "sampling rate (hz)", "sample rate", "fs", "rate"),
    *("sampling frequency", "sampling frequency (hz)", "sample frequency"),
)
#: Lines looked through for the header row when a file opens with lines of its own.
PREAMBLE_LINES = 100


def rate_comment(comments: dict[str, str]) -> float | None:
    """The sampling rate a file's comments give, Hz, or None (none, or not over 0)."""
    for key in RATE_KEYS:
        m = re.search(r"[0-9]+(?:\.[0-9]*)?", comments.get(key, ""))
        if m and float(m.group()) > 0:
            return float(m.group())
    return None


def _iso_time(text: str) -> datetime | None:
    """A time column's value as a date and time (``2026-11-20T22:00:00.125``, or with a space
    for the ``T``, as loggers and spreadsheets write it), else None."""
    if len(text) < 16 or text[4:5] != "-":
        return None
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _fields(line: str, sep: str) -> list[str]:
    fields = [f.strip().strip('"').strip() for f in line.split(sep)]
    return fields[:-1] if len(fields) > 1 and not fields[-1] else fields


def _is_row(fields: Sequence[str]) -> bool:
    """Whether fields are a data row: a time (a number or a date and time), then numbers or
    empty fields (lost samples)."""
    if not fields[0] or not (_is_number(fields[0]) or _iso_time(fields[0]) is not None):
        return False
    return all(not f or _is_number(f) for f in fields[1:])


def find_header(lines: Sequence[tuple[int, str]]) -> tuple[int, int | None] | None:
    """Where the header row is among a file's first lines (line number, stripped text; no
    comments or blank lines), and the line of a row of units under it, when a file opens
    with lines of its own before it (an export's preamble: "Sampling frequency: 1925.9")
    or names units in a row of their own (``Time,EMG`` over ``s,mV``); None when the first
    line is the header and no units row follows (or no header can be told).

    The header is the line above the first data row, with as many fields as it (by the
    separator it holds most of); a row of units lies between them, none a number.
    """
    for j, (_, line) in enumerate(lines):
        if j == 0:
            continue
        head_at = j - 1
        head = lines[head_at][1]
        sep = max(SEPARATORS, key=lambda c: (head.count(c), -SEPARATORS.index(c)))
        row = _fields(line, sep)
        if not _is_row(row):
            continue
        above = _fields(head, sep)
        units_at: int | None = None
        if len(above) == len(row) and j >= 2 and not any(_is_number(f) for f in above):
            header = _fields(lines[j - 2][1], sep)
            if len(header) == len(row) and any(normal_unit(f) in SIGNAL_UNITS for f in above[1:]):
                head_at, units_at = j - 2, j - 1
        if len(_fields(lines[head_at][1], sep)) != len(row) or _is_row(above):
            return None
        if head_at == 0 and units_at is None:
            return None
        return lines[head_at][0], None if units_at is None else lines[units_at][0]
    return None


def _preamble_pair(line: str, sep: str) -> tuple[str, str]:
    """A preamble line as key and value: "Sampling frequency: 1925.9", "Rate = 2000",
    ``"Rate",2000``."""
    line = line.replace('"', "")
    for mark in (":", "=", sep):
        key, found, value = line.partition(mark)
        if found:
            return key.strip().lower(), value.strip()
    return line.strip().lower(), ""


#: Bytes looked at to tell a text file's encoding.
HEAD_BYTES = 65536


def text_encoding(path: Path, head: bytes) -> str:
    """How to read a text file that starts with ``head``: UTF-8 (its byte-order mark skipped,
    as spreadsheets write one), else Latin-1 (a spreadsheet's "µV" in Windows-1252 is one
    byte, 0xB5, that UTF-8 refuses).

    Raises
    ------
    ReplayError
        If the file holds a NUL byte: it is not text.
    """
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ReplayError(path, f"not a text file (a NUL byte at byte {nul})")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not a character cut at the end of the head
            return "latin-1"
    return "utf-8-sig"


def open_text(path: Path) -> IO[str]:
    """A text file opened for reading lines, in the encoding it is most likely in.

    Raises
    ------
    ReplayError
        If it cannot be opened, or is not text.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
        return open(path, encoding=text_encoding(path, head), newline="")
    except OSError as exc:
        raise ReplayError(path, f"cannot open: {exc.strerror}") from exc


def read_table(
    path: Path,
    lines: Sequence[str],
    numbers: Sequence[int],
    sep: str,
    width: int,
    *,
    off: int = 0,
    empty: str = "",
) -> npt.NDArray[np.float64]:
    """Rows of ``width`` numbers separated by ``sep`` as an array.

    Raises
    ------
    ReplayError
        Naming the first bad row's line (``numbers``) and field: a row of another width, an
        empty field (followed by ``empty``, what an empty field should be instead) or one
        that is not a number. Fields are counted without the first ``off``, which the file
        does not hold.
    """
    try:
        data = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=sep, dtype=np.float64, ndmin=2)
        if data.shape[1] == width:
            return data
    except ValueError:
        pass
    for s, n in zip(lines, numbers, strict=True):
        fields = s.split(sep)
        if len(fields) != width:
            raise ReplayError(path, f"{len(fields) - off} fields, the header has {width - off}", n)
        for col, v in enumerate(fields):
            if not v.strip():
                raise ReplayError(path, f"field {col + 1 - off} is empty{empty}", n)
            try:
                float(v)
            except ValueError:
                raise ReplayError(
                    path, f"field {col + 1 - off} is not a number: {v.strip()!r}", n
                ) from None
    raise ReplayError(path, "unreadable rows", numbers[0])


def read_end(
    path: Path,
    lines: Sequence[str],
    numbers: Sequence[int],
    sep: str,
    width: int,
    *,
    cut: bool,
    off: int = 0,
    empty: str = "",
) -> tuple[npt.NDArray[np.float64], ReplayError | None]:
    """``read_table`` for rows that may end a file, and what was wrong with a last row left out.

    ``cut``: the file's last line has no line end, as when its writer stopped mid-row. If
    that line is the only bad row, the rows before it are read and its error is returned
    (for a warning), instead of stopping the replay at the end of the file.
    """
    try:
        return read_table(path, lines, numbers, sep, width, off=off, empty=empty), None
    except ReplayError as exc:
        if not cut or exc.line != numbers[-1]:
            raise
        if len(lines) == 1:
            return np.empty((0, width), dtype=np.float64), exc
        return read_table(path, lines[:-1], numbers[:-1], sep, width, off=off, empty=empty), exc


def wrong_unit(column: str, unit: str) -> str:
    """Why a column in ``unit`` (as ``SIGNAL_UNITS`` gives it) cannot be the signal replayed."""
    other = (
        "an accelerometer's unit: replay it with --signal acc"
        if unit == "g"
        else "an sEMG unit: replay it with --signal emg"
    )
    return f"column {column!r} is in {unit}, {other}"


def time_rate(t: npt.NDArray[np.float64]) -> float | None:
    """The sampling rate times ``t`` (s) say: their mean rate when every step is a whole
    number of median steps (to within ``UNIFORM_TOLERANCE``; rows missing count as the
    periods they leave), else one over the median step. None if time does not increase.

    The mean is exact to the times' printed precision over the whole span, where one step
    printed to a few digits is not: 2048 Hz printed in us steps 488 or 489 us (0.1 % off),
    and a gap of 40 samples measured with it would be 0.04 periods off.
    """
    d = np.diff(t)
    step = float(np.median(d))
    if not (step > 0 and t[-1] > t[0]):
        return None
    span = float(t[-1] - t[0])
    fs = 1.0 / step
    for _ in range(2):  # the periods by the median step, then by the mean rate they give
        periods = np.rint(d * fs)
        if not np.all(periods >= 1):
            return 1.0 / step
        fs = float(periods.sum()) / span
    if np.all(np.abs(d * fs - periods) <= UNIFORM_TOLERANCE):
        return fs
    return 1.0 / step


def sample_gaps(periods: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], int | None]:
    """The samples lost before each row, from its time step in sample periods: a step of k
    periods (to within ``UNIFORM_TOLERANCE``) is k - 1 samples that never arrived. Also the
    first row whose step is no whole number of periods (None if every step is)."""
    steps = np.rint(periods).astype(np.int64)
    off = np.flatnonzero((steps < 1) | (np.abs(periods - steps) > UNIFORM_TOLERANCE))
    return steps - 1, int(off[0]) if len(off) else None


def with_gaps(
    x: npt.NDArray[np.float32], gaps: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Samples ``x`` with ``gaps[i]`` lost samples (0, flagged lost) put in before sample i."""
    if not gaps.any():
        return x, np.zeros(len(x), dtype=bool)
    where = np.arange(len(x)) + np.cumsum(gaps)
    full = np.zeros((len(x) + int(gaps.sum()), x.shape[1]), dtype=np.float32)
    full[where] = x
    lost = np.ones(len(full), dtype=bool)
    lost[where] = False
    return full, lost


def cut_warning(error: ReplayError) -> str:
    """What a replay says about a last line it left out (``read_end``)."""
    return (
        f"{error.path}:{error.line}: the last line ends mid-row ({error.reason}), as when its "
        "writer stops; replayed up to the line before"
    )


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


class TextRecording:
    """What spasmwatch's text readers share: the file opened once (``open_text``) and
    closed if its head is refused, then read on in chunks of up to CHUNK_ROWS rows; a last
    line cut mid-row is left out and kept in ``cut``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = open_text(self.path)
        #: Lines read so far (the line number of the last one).
        self._line = 0
        #: The last line, left out because it was cut short (``read_end``); None if whole.
        self.cut: ReplayError | None = None
        #: Episodes the file marks (text files mark none) and whether its writer was killed
        #: (a text file's cut last line is ``cut`` instead), as every recording says them.
        self.truth: list[dict[str, object]] = []
        self.damaged = False

    @contextmanager
    def _head(self) -> Iterator[None]:
        """Around reading the head: the file is closed if it is refused."""
        try:
            yield
        except BaseException:
            self._fh.close()
            raise

    def _collect(self, suffix: str = "") -> tuple[list[str], list[int], bool] | None:
        """Up to CHUNK_ROWS non-blank lines, stripped (and ``suffix`` taken off), with their
        line numbers and whether the last is the file's last line cut mid-row (no line end
        after it); None at the end of the file."""
        lines: list[str] = []
        numbers: list[int] = []
        raw = "\n"
        for raw in self._fh:
            self._line += 1
            s = raw.strip()
            if not s:
                continue
            lines.append(s.removesuffix(suffix) if suffix else s)
            numbers.append(self._line)
            if len(lines) >= CHUNK_ROWS:
                break
        if not lines:
            return None
        return lines, numbers, numbers[-1] == self._line and not raw.endswith("\n")

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


class DeviceRecording(TextRecording):
    """A device's own text format, opened with the channels to replay (None: the ones its
    format says are the signal's); ``_read_head`` reads what comes before the rows."""

    #: What a format that holds sEMG only is called, for refusing ``--signal acc``; None if
    #: it holds both.
    emg_only: str | None = None

    def __init__(
        self, path: str | Path, signal: str, channels: Sequence[str] | None = None
    ) -> None:
        if signal == ACC and self.emg_only:
            raise ReplayError(path, f"{self.emg_only} replays as sEMG (--signal emg) only")
        super().__init__(path)
        with self._head():
            self._read_head(signal, channels)

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        raise NotImplementedError

    def _asked(self, wanted: Sequence[str], names: Sequence[str]) -> list[str]:
        """The channels asked for, each one of ``names``; else the error naming them."""
        missing = [n for n in wanted if n not in names]
        if missing:
            raise ReplayError(self.path, no_such_signals(missing, list(names)))
        return list(wanted)


class CsvRecording(TextRecording):
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

    def __init__(self, path: str | Path, signal: str, fs: float | None = None) -> None:
        super().__init__(path)
        self.signal = signal
        with self._head():
            self._read_head(signal, fs)

    def _layout(self) -> tuple[int, int | None] | None:
        """Where the header row and a units row are, when not as usual (:func:`find_header`)."""
        lines: list[tuple[int, str]] = []
        try:
            with open_text(self.path) as fh:
                for n, raw in enumerate(itertools.islice(fh, PREAMBLE_LINES), 1):
                    line = raw.strip()
                    if line and not line.startswith("#") and not (n == 1 and SEP_LINE.match(line)):
                        lines.append((n, line))
        except UnicodeDecodeError:
            return None  # said where it is by the reading below
        return find_header(lines)

    def _read_head(self, signal: str, given_fs: float | None) -> None:
        comments: dict[str, str] = {}
        header_line: str | None = None
        named_sep: str | None = None
        layout = self._layout()
        header_at, units_at = layout if layout is not None else (0, None)
        preamble: dict[str, str] = {}  # lines of an export's own before the header
        try:
            for raw in self._fh:
                self._line += 1
                line = raw.strip()
                if not line:
                    continue
                if self._line == 1 and (match := SEP_LINE.match(raw.strip("\r\n"))):
                    named_sep = match["sep"]
                    continue
                if line.startswith("#"):
                    key, sep, value = line[1:].partition(":")
                    if sep:
                        comments[key.strip().lower()] = value.strip()
                    continue
                if self._line < header_at:
                    key, value = _preamble_pair(line, named_sep or ",")
                    preamble.setdefault(key, value)
                    continue
                header_line = line
                break
        except UnicodeDecodeError as exc:
            raise ReplayError(
                self.path, f"not a text file ({exc.reason} at byte {exc.start})", self._line + 1
            ) from exc
        if header_line is None:
            raise ReplayError(self.path, "no header row (expected time,<channel>,...)", self._line)
        self._header_line = self._line
        # The separator the header holds most of (a one-field header: a comma, for the error).
        sep = max(SEPARATORS, key=lambda c: (header_line.count(c), -SEPARATORS.index(c)))
        self._sep = named_sep or (sep if sep in header_line else ",")
        self._quoted = '"' in header_line
        header = [h.strip().strip('"').strip() for h in header_line.split(self._sep)]
        # A separator ending every line (as some spreadsheets and loggers write): no column.
        self._trailing = len(header) > 2 and not header[-1]
        if self._trailing:
            header.pop()
        if units_at is not None:
            # A row of units under the header ("s,mV"): each column's name takes its unit.
            while self._line < units_at:
                row = next(self._fh)
                self._line += 1
            below = _fields(row.strip(), self._sep)
            header = [
                f"{h} ({u})" if u and split_unit(h)[1] is None else h
                for h, u in zip(header, below, strict=False)
            ] + header[len(below) :]
        time_scale = time_column(header[0])
        # No time column: the rate is given (--fs, or a comment), and sample i is at i / fs.
        self._rate = (
            given_fs if given_fs is not None else rate_comment(comments) or rate_comment(preamble)
        )
        if time_scale is None and header[0].lower() in INDEX_NAMES:
            # A column counting samples: timed by the rate given.
            if self._rate is None:
                raise ReplayError(
                    self.path,
                    f"column {header[0]!r} counts samples but does not time them: give the "
                    "sampling rate with --fs, or a '# sampling rate: <Hz>' line",
                    self._line,
                )
            time_scale = 1.0 / self._rate
        self._timeless = time_scale is None
        #: The first row's date and time, when the time column holds dates and times.
        self._t0: datetime | None = None
        first_row: str | None = None
        if time_scale is None:
            if self._rate is None:
                raise ReplayError(
                    self.path,
                    "no time column ('time' in seconds, or 'time (ms)') and no sampling rate: "
                    f"give --fs, or a '# sampling rate: <Hz>' line (header {header_line!r})",
                    self._line,
                )
            if all(_is_number(h) for h in header):
                # No header row at all: this row is the first sample; BioSPPy's text files
                # name the channels in a "# Labels:=" comment.
                first_row = header_line
                self._line -= 1
                labels = [x.strip() for x in comments.get("labels", "").lstrip("=").split("\t")]
                header = (
                    labels
                    if len(labels) == len(header) and all(labels)
                    else [f"ch{i + 1}" for i in range(len(header))]
                )
            header = ["time", *header]
            time_scale = 1.0
        elif len(header) < 2:
            raise ReplayError(
                self.path,
                "header must start with the time ('time' in seconds, or 'time (ms)') and name "
                f"at least one channel, got {header_line!r}",
                self._line,
            )
        self._time_scale = time_scale
        default_unit = normal_unit(comments.get("units", "g" if signal == ACC else "uV"))
        allowed = ("g", "counts") if signal == ACC else ("uV", "mV", "V", "nV", "counts")
        names: list[str] = []
        units: list[str] = []
        factors: list[float] = []
        for label in header[1:]:
            name, unit = split_unit(label)
            if unit is None or unit not in SIGNAL_UNITS:
                names.append(label)
                units.append(default_unit)
                factors.append(1.0)
                continue
            unit, factor = SIGNAL_UNITS[unit]
            if unit not in allowed:
                raise ReplayError(self.path, wrong_unit(label, unit), self._line)
            names.append(name)
            units.append(unit)
            factors.append(factor)
        #: Fields in a row (the time's too); label columns are read, then left out (their
        #: runs of one value other than 0 are the file's truth).
        self._width = len(names) + 1
        label_cols = [i for i, n in enumerate(names) if n.lower() in LABEL_NAMES]
        if len(label_cols) == len(names):
            label_cols = []  # a signal that happens to be named so
        #: Columns of labels, left out of the channels.
        self.label_columns = tuple(names[i] for i in label_cols)
        self._label_col = label_cols[0] + 1 if label_cols else None
        self._keep: list[int] | None = None
        if label_cols:
            self._keep = [0] + [i + 1 for i in range(len(names)) if i not in label_cols]
            names = [n for i, n in enumerate(names) if i not in label_cols]
            units = [u for i, u in enumerate(units) if i not in label_cols]
            factors = [f for i, f in enumerate(factors) if i not in label_cols]
        self._run: tuple[float, float] | None = None  # the label run going on: start, value
        self._last_label = 0.0
        self._factors = (
            np.asarray(factors, dtype=np.float64) if any(f != 1.0 for f in factors) else None
        )
        # Set by the first data row: whether a non-comma separated file writes a decimal comma.
        self._decimal_comma = False
        channels = tuple(names)
        if any(not c for c in channels) or len(set(channels)) != len(channels):
            raise ReplayError(
                self.path, "channel names in the header must be unique and not empty", self._line
            )
        if signal == ACC:
            try:
                sensor_groups(channels)
            except SensorError as exc:
                raise ReplayError(self.path, str(exc), self._line) from exc
        start = None
        if "start" in comments:
            try:
                start = parse_time(comments["start"])
            except ValueError as exc:
                raise ReplayError(
                    self.path, f"'# start:' is not an ISO-8601 time: {comments['start']!r}"
                ) from exc
        self._lines = self._rows()
        if first_row is not None:
            self._lines = itertools.chain([first_row], self._lines)
        self._timeless_rows = 0
        self._pending = self._read_rows(self._width, first=True)
        if self._pending is None or len(self._pending[0]) < 2:
            raise ReplayError(self.path, "needs at least two samples to infer the sampling rate")
        if self._timeless:
            assert self._rate is not None  # refused above without one
            fs = self._rate
        else:
            fs = self._time_rate(self._pending[0][:RATE_ROWS, 0], header[0], given_fs)
        if start is None and self._t0 is not None:
            t0 = self._t0
            start = (t0.astimezone() if t0.tzinfo is None else t0).astimezone(UTC)
        where = comments.get("location")
        locations = {c: where for c in channels} if where else {}
        self.info = RecordingInfo(self.path, channels, tuple(units), fs, start, comments, locations)
        self._t_prev: float | None = None
        self._index = 0

    def _time_rate(self, t: npt.NDArray[np.float64], label: str, given: float | None) -> float:
        """The sampling rate the first rows' times (seconds) say.

        Raises
        ------
        ReplayError
            If time does not increase, is most likely in milliseconds, or contradicts the rate
            ``given``.
        """
        fs = time_rate(t)
        if fs is None:
            raise ReplayError(self.path, "time does not increase", self._header_line + 2)
        step = 1.0 / fs
        # A name that gives the unit ("time (s)", "time_s") is taken at its word.
        named = split_unit(label)[1] is not None or "_" in label
        if fs < SLOWEST_HZ and not named:
            raise ReplayError(
                self.path,
                f"time steps of {step:g} s ({fs:g} Hz) are too slow for sEMG or acceleration; "
                f"if time is in milliseconds, name the column '{label} (ms)'",
                self._header_line,
            )
        if given is not None and abs(fs / given - 1) > UNIFORM_TOLERANCE:
            raise ReplayError(
                self.path,
                f"its time column says {fs:g} Hz, not the {given:g} Hz given",
                self._header_line,
            )
        return fs

    def _rows(self) -> Iterator[str]:
        """The file's lines from where the header ended; a byte its encoding cannot read is a
        one-line error naming the line. One iterator for the whole file (``self._lines``):
        closing it closes the file."""
        try:
            yield from self._fh
        except UnicodeDecodeError as exc:
            raise ReplayError(
                self.path, f"not text ({exc.reason} in this line)", self._line + 1
            ) from exc

    def _read_rows(
        self, width: int, first: bool = False
    ) -> tuple[npt.NDArray[np.float64], list[int], npt.NDArray[np.bool_]] | None:
        """Up to CHUNK_ROWS data rows as a float array (time in seconds, signals in the units
        of ``info``), with their line numbers and which rows are lost samples (a time and
        nothing else: ``12.345,,``, or NaN in every signal field), read as 0."""
        lines: list[str] = []
        numbers: list[int] = []
        lost_rows: list[int] = []
        sep = self._sep
        empty = sep * (width - 1)
        zeros = (sep + "0") * (width - 1)
        quoted, timeless, comma, t0 = self._quoted, self._timeless, self._decimal_comma, self._t0
        trailing = self._trailing
        raw = "\n"
        for raw in self._lines:
            self._line += 1
            s = raw.strip()
            if not s or s.startswith("#"):
                continue
            if quoted:
                s = s.replace('"', "")
            if trailing and s.endswith(sep):
                s = s[:-1]
            if timeless:
                s = "0" + sep + s  # a time field, so a row reads as in a file with one
            if first:
                comma = self._decimal_comma = sep != "," and "," in s
                if comma:
                    s = s.replace(",", ".")
                if not timeless:
                    t0 = self._t0 = _iso_time(s.split(sep, 1)[0])
                first = False
            elif comma:
                s = s.replace(",", ".")
            if t0 is not None:
                # Seconds from the first row; a value that is no date and time (or one with a
                # zone where the first had none) stays as it is: a field that is not a number.
                when, cut, rest = s.partition(sep)
                t = _iso_time(when)
                if t is not None and (t.tzinfo is None) == (t0.tzinfo is None):
                    s = repr((t - t0).total_seconds()) + cut + rest
            if s.endswith(empty) and s.count(sep) == width - 1:
                lost_rows.append(len(lines))
                s = s[: -len(empty)] + zeros
            lines.append(s)
            numbers.append(self._line)
            if len(lines) >= CHUNK_ROWS:
                break
        if not lines:
            return None
        data, self.cut = read_end(
            self.path,
            lines,
            numbers,
            sep,
            width,
            cut=numbers[-1] == self._line and not raw.endswith("\n"),
            off=1 if self._timeless else 0,  # the time field put in front is not the file's
            empty=" (a lost sample leaves every signal field empty)",
        )
        if not len(data):
            return None
        numbers = numbers[: len(data)]
        if self._keep is not None:
            self._take_labels(data, lost_rows)
            data = data[:, self._keep]
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
        if self._timeless:
            assert self._rate is not None
            data[:, 0] = (self._timeless_rows + np.arange(len(data))) / self._rate
            self._timeless_rows += len(data)
        elif self._time_scale != 1.0:
            data[:, 0] *= self._time_scale
        if self._factors is not None:
            data[:, 1:] *= self._factors
        lost = np.zeros(len(data), dtype=bool)
        lost[[r for r in lost_rows if r < len(data)]] = True
        return data, numbers, lost

    def _take_labels(self, data: npt.NDArray[np.float64], lost_rows: Sequence[int]) -> None:
        """Take the rows' labels into ``truth``: each run of one value other than 0 (or NaN)
        from its first row's time to the first row after it, as the Myo log's gestures. A
        lost sample's row (every field but the time empty) keeps the label before it."""
        assert self._label_col is not None
        values = np.nan_to_num(data[:, self._label_col], nan=0.0)
        if lost_rows:
            at = np.arange(len(values))
            at[[r for r in lost_rows if r < len(values)]] = -1
            at = np.maximum.accumulate(at)  # each row's last row that was not lost
            values = np.where(at >= 0, values[np.maximum(at, 0)], self._last_label)
        t = data[:, 0] * self._time_scale
        if self._timeless:
            assert self._rate is not None
            t = (self._timeless_rows + np.arange(len(data))) / self._rate
        for i in np.flatnonzero(np.diff(values, prepend=self._last_label) != 0).tolist():
            self._end_run(float(t[i]))
            if values[i] != 0:
                self._run = (float(t[i]), float(values[i]))
        self._last_label = float(values[-1])

    def _end_run(self, at: float) -> None:
        if self._run is not None:
            start, value = self._run
            self.truth.append({"start": start, "end": at, "channel": "*", "label": value})
            self._run = None

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks of up to CHUNK_ROWS samples."""
        info = self.info
        width = self._width
        try:
            while self._pending is not None:
                data, numbers, lost = self._pending
                t = data[:, 0]
                prev = t[0] - 1 / info.fs if self._t_prev is None else self._t_prev
                periods = np.diff(np.concatenate([[prev], t])) * info.fs
                gaps, r = sample_gaps(periods)
                if r is not None:
                    raise ReplayError(
                        self.path,
                        f"time {t[r]:g} s breaks uniform sampling at {info.fs:g} Hz (step "
                        f"{periods[r] / info.fs * 1000:g} ms, expected {1000 / info.fs:g} ms or "
                        "a whole multiple of it where rows are missing)",
                        numbers[r],
                    )
                self._t_prev = float(t[-1])
                # Rows missing from the time column are samples lost there, in their place.
                x, missing = with_gaps(data[:, 1:].astype(np.float32), gaps)
                if gaps.any():
                    missing[~missing] = lost
                    lost = missing
                yield Block(x, info.fs, self._index, info.channels, info.units, lost)
                self._index += len(x)
                self._pending = self._read_rows(width)
            if self._t_prev is not None:
                self._end_run(self._t_prev + 1 / info.fs)  # a label run to the file's end
        finally:
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
