"""BDF+ recordings written as samples arrive, so a killed process loses at most one record.

No library writes BDF+ incrementally with annotations that survive a kill (pyEDFlib keeps
annotations in memory until it closes; edfio writes whole files only), so the records are
written here with numpy, following the EDF+ and BDF+ specifications: the header first with
the record count -1, then each data record in one ``write()`` (every signal's 24-bit samples
and a ``BDF Annotations`` signal holding the record's time-keeping entry and any annotations
that are ready), and the record count at byte 236 on close. Reading uses the libraries.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from replay.csvio import RecordingInfo, normal_unit
from replay.errors import ReplayError, no_such_signals
from sensor.block import Block

#: Digital range of 24-bit BDF samples.
DIGITAL_MIN, DIGITAL_MAX = -8_388_608, 8_388_607
#: Physical range by unit: sEMG +-100 mV (0.012 uV steps), acceleration +-16 g, counts as they are.
PHYSICAL_RANGE = {"uV": 100_000.0, "g": 16.0, "counts": float(DIGITAL_MAX), "au": 100_000.0}
#: Bytes of annotation text each record can carry (a multiple of 3: BDF samples are 3 bytes):
#: about a dozen annotations a record, so runs of lost notifications do not queue up.
ANNOTATION_BYTES = 480
#: The annotation that marks a run of lost samples.
LOST = "signal lost"
#: The annotation after which a record holds only padding.
ENDS = "recording ends"
#: fsync after this many records, so power loss costs at most this many seconds.
FSYNC_RECORDS = 10
RECORD_COUNT_OFFSET = 236


def _field(value: object, width: int) -> bytes:
    text = str(value)
    if len(text) > width:
        raise ValueError(f"header field {text!r} is longer than {width} characters")
    return text.ljust(width).encode("ascii")


def _number(value: float, width: int = 8) -> bytes:
    text = (
        f"{value:.6f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))
    )
    return _field(text[:width], width)


def _edf_text(text: str) -> str:
    """Header text fields are ASCII without spaces inside subfields."""
    return "".join(c if 32 < ord(c) < 127 else "_" for c in text) or "X"


def record_seconds(fs: float) -> float:
    """The longest record of at most 1 s that holds a whole number of samples."""
    for duration in (1.0, 0.5, 0.25, 0.2, 0.1):
        n = fs * duration
        if abs(n - round(n)) < 1e-9 and round(n) >= 1:
            return duration
    raise ReplayError(
        "(recording)", f"no record length of at most 1 s fits {fs} Hz in whole samples"
    )


class BdfWriter:
    """Write one stream as a BDF+ file, record by record.

    Parameters
    ----------
    path : path
        Created with mode 0600.
    channels, units : sequence of str
        Signal labels and units (``uV``, ``g``, ``counts``).
    fs : float
        Sampling rate, Hz.
    start : datetime
        Wall-clock time of sample 0.
    patient : str or None
        A pseudonym for the patient field.
    recording : str
        What made the recording (device, spasmwatch version), for the recording field.
    transducers : sequence of str or None
        Per signal, e.g. the body location.
    """

    def __init__(
        self,
        path: str | Path,
        channels: Sequence[str],
        units: Sequence[str],
        fs: float,
        start: datetime,
        *,
        patient: str | None = None,
        recording: str = "spasmwatch",
        transducers: Sequence[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.channels = tuple(channels)
        self.units = tuple(units)
        self.fs = fs
        self.start = start.astimezone(UTC)
        self.record_s = record_seconds(fs)
        self.per_record = round(fs * self.record_s)
        self.records = 0
        self._buffer = np.zeros((0, len(self.channels)), dtype=np.float32)
        self._pending: list[bytes] = []
        self._n = 0  # samples written so far
        self._lost_from: int | None = None  # where the current run of lost samples began
        self._scale = []
        for u in self.units:
            if u not in PHYSICAL_RANGE:
                raise ReplayError(self.path, f"cannot record unit {u!r}")
            self._scale.append(PHYSICAL_RANGE[u])
        self._gain = np.array([DIGITAL_MAX / r for r in self._scale], dtype=np.float64)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        self._fd = fd
        self._frac = self.start.microsecond / 1e6
        os.write(fd, self._header(transducers, patient, recording))

    def _header(
        self, transducers: Sequence[str] | None, patient: str | None, recording: str
    ) -> bytes:
        ns = len(self.channels) + 1
        t = self.start
        head = b"".join(
            [
                b"\xffBIOSEMI",
                _field(f"{_edf_text(patient or 'X')} X X X", 80),
                _field(
                    f"Startdate {t.strftime('%d-%b-%Y').upper()} X X {_edf_text(recording)}"[:80],
                    80,
                ),
                _field(t.strftime("%d.%m.%y"), 8),
                _field(t.strftime("%H.%M.%S"), 8),
                _field(256 * (ns + 1), 8),
                _field("BDF+C", 44),
                _field(-1, 8),
                _number(self.record_s),
                _field(ns, 4),
            ]
        )
        trans = list(transducers or [""] * len(self.channels))
        labels = [*self.channels, "BDF Annotations"]
        fields = [
            [_field(_edf_text(x)[:16] if x != "BDF Annotations" else x, 16) for x in labels],
            [_field(_edf_text(x)[:80] if x else "", 80) for x in trans] + [_field("", 80)],
            [_field(u, 8) for u in self.units] + [_field("", 8)],
            [_number(-r) for r in self._scale] + [_field(-1, 8)],
            [_number(r) for r in self._scale] + [_field(1, 8)],
            [_field(-DIGITAL_MAX, 8) for _ in self.channels] + [_field(DIGITAL_MIN, 8)],
            [_field(DIGITAL_MAX, 8) for _ in self.channels] + [_field(DIGITAL_MAX, 8)],
            [_field("", 80) for _ in labels],
            [_field(self.per_record, 8) for _ in self.channels]
            + [_field(ANNOTATION_BYTES // 3, 8)],
            [_field("", 32) for _ in labels],
        ]
        return head + b"".join(b"".join(f) for f in fields)

    def annotate(self, onset_s: float, duration_s: float | None, text: str) -> None:
        """Queue an annotation (onset in seconds from sample 0; it may lie in the past)."""
        # Microseconds: a sample's place at any rate spasmwatch reads (up to 20 kHz).
        onset = f"{self._frac + onset_s:+.6f}".encode()
        dur = b"" if duration_s is None else b"\x15" + f"{duration_s:.6f}".encode()
        clean = text.replace("\x14", " ").replace("\x15", " ").replace("\x00", " ").encode("utf-8")
        tal = onset + dur + b"\x14" + clean[: ANNOTATION_BYTES - 40] + b"\x14\x00"
        self._pending.append(tal)

    def write(self, block: Block) -> None:
        """Add samples; every complete record goes to disk at once.

        Lost samples are written as 0 and each run of them as a ``signal lost`` annotation
        (onset and duration), which :class:`EdfRecording` reads back as lost samples.
        """
        if block.n_samples == 0:
            return
        if self._lost_from is not None or block.lost.any():
            edges = np.flatnonzero(np.diff(np.r_[self._lost_from is not None, block.lost]))
            for i in edges + self._n:
                if self._lost_from is None:
                    self._lost_from = int(i)
                else:
                    self._annotate_lost(int(i))
        self._n += block.n_samples
        self._buffer = (
            np.concatenate([self._buffer, block.samples])
            if len(self._buffer)
            else np.array(block.samples)
        )
        while len(self._buffer) >= self.per_record:
            self._write_record(self._buffer[: self.per_record])
            self._buffer = self._buffer[self.per_record :]

    def _annotate_lost(self, stop: int) -> None:
        assert self._lost_from is not None
        a = self._lost_from
        self.annotate(a / self.fs, (stop - a) / self.fs, LOST)
        self._lost_from = None

    def _annotation_bytes(self) -> bytes:
        keep = (
            f"{self._frac + self.records * self.record_s:+.6f}".rstrip("0").rstrip(".").encode()
            + b"\x14\x14\x00"
        )
        out = bytearray(keep)
        while self._pending and len(out) + len(self._pending[0]) <= ANNOTATION_BYTES:
            out += self._pending.pop(0)
        return bytes(out.ljust(ANNOTATION_BYTES, b"\x00"))

    def _write_record(self, samples: npt.NDArray[np.float32]) -> None:
        digital = np.clip(
            np.round(samples.astype(np.float64) * self._gain), -DIGITAL_MAX, DIGITAL_MAX
        )
        as32 = digital.astype("<i4").T.copy()  # signal-major: all of signal 0, then signal 1...
        three = as32.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        os.write(self._fd, three + self._annotation_bytes())
        self.records += 1
        if self.records % FSYNC_RECORDS == 0:
            os.fsync(self._fd)

    def close(self) -> None:
        """Write what is left (the last record padded with zeros and an end marker), then the count."""
        if self._fd < 0:
            return
        if self._lost_from is not None:
            self._annotate_lost(self._n)
        if len(self._buffer) or self._pending:
            # The last record is padded (and annotations left over get records of their own):
            # a reader stops at this mark.
            end_s = self.records * self.record_s + len(self._buffer) / self.fs
            self.annotate(end_s, None, ENDS)
            pad = np.zeros(
                (self.per_record - len(self._buffer) % self.per_record) % self.per_record,
                np.float32,
            )
            rest = (
                np.concatenate([self._buffer, np.repeat(pad[:, None], len(self.channels), axis=1)])
                if len(self._buffer)
                else np.zeros((self.per_record, len(self.channels)), np.float32)
            )
            self._buffer = self._buffer[:0]
            self._write_record(rest)
            while self._pending:
                self._write_record(np.zeros((self.per_record, len(self.channels)), np.float32))
        os.pwrite(self._fd, _field(self.records, 8), RECORD_COUNT_OFFSET)
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1


@dataclass(frozen=True)
class EdfHeader:
    """What an EDF/BDF header says, and whether the file holds all the records it claims."""

    header_bytes: int
    width: int  # bytes per sample: 3 for BDF, 2 for EDF
    labels: list[str]
    dims: list[str]
    per_record: list[int]
    records: int  # as the header says; -1 while a writer is still (or was last) writing
    whole_records: int  # as the file's size says
    fraction: float  # sub-second start, from the first time-keeping annotation
    transducers: list[str]  # per signal; spasmwatch writes the body location there
    recording: str  # the recording identification field
    record_s: float  # the duration of a data record, s (0 in a file of annotations only)
    discontinuous: bool  # EDF+D / BDF+D: each record says when it starts, gaps between them

    def rate(self, i: int) -> float:
        """Signal ``i``'s sampling rate, Hz (its samples per record over the record's length)."""
        return self.per_record[i] / self.record_s if self.record_s > 0 else 0.0

    @property
    def record_bytes(self) -> int:
        """Bytes in one data record."""
        return self.width * sum(self.per_record)

    @property
    def cut_short(self) -> bool:
        """True when the writer stopped before finishing the file."""
        return self.records == -1 or self.whole_records < self.records


def read_header(path: str | Path) -> EdfHeader:
    """Read an EDF/EDF+/BDF/BDF+ header.

    Raises
    ------
    ReplayError
        Naming the byte where the header is not what the specification says.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(256)
            if len(head) < 256 or head[:8] not in (b"\xffBIOSEMI", b"0       "):
                raise ReplayError(p, "not an EDF or BDF file (byte 0)")
            try:
                header_bytes, ns = int(head[184:192]), int(head[252:256])
                records = int(head[236:244])
                record_s = float(head[244:252])
            except ValueError as exc:
                raise ReplayError(
                    p, "damaged header (bytes 184-192, 236-244, 244-252 or 252-256)"
                ) from exc
            rest = fh.read(header_bytes - 256)
            if len(rest) != header_bytes - 256 or header_bytes != 256 * (ns + 1):
                raise ReplayError(p, f"header cut short at byte {256 + len(rest)}")
            # Latin-1, as MNE reads them: a label chosen here is the one MNE finds.
            labels = [rest[16 * i : 16 * i + 16].decode("latin-1").strip() for i in range(ns)]
            # The header should be ASCII, but "µV" in Latin-1 (and other mus) occur.
            dims = [
                normal_unit(rest[ns * 96 + 8 * i : ns * 96 + 8 * i + 8].decode("latin-1"))
                for i in range(ns)
            ]
            transducers = [
                rest[ns * 16 + 80 * i : ns * 16 + 80 * i + 80].decode("latin-1").strip()
                for i in range(ns)
            ]
            o = ns * (16 + 80 + 8 * 5 + 80)
            try:
                per = [int(rest[o + 8 * i : o + 8 * i + 8]) for i in range(ns)]
            except ValueError as exc:
                raise ReplayError(p, f"damaged samples-per-record field at byte {256 + o}") from exc
            width = 3 if head[:8] == b"\xffBIOSEMI" else 2
            size = fh.seek(0, os.SEEK_END)
            whole = max(0, (size - header_bytes) // max(1, width * sum(per)))
            fraction = 0.0
            ai = next((i for i, lab in enumerate(labels) if lab.endswith("Annotations")), None)
            if ai is not None and whole > 0:
                fh.seek(header_bytes + width * sum(per[:ai]))
                tal = fh.read(width * per[ai]).split(b"\x14", 1)[0]
                try:
                    fraction = float(tal) if tal else 0.0
                except ValueError:
                    fraction = 0.0  # not a time-keeping entry: start on the whole second
    except OSError as exc:
        raise ReplayError(p, f"cannot read: {exc.strerror}") from exc
    recording = head[88:168].decode("latin-1").strip()
    return EdfHeader(
        header_bytes,
        width,
        labels,
        dims,
        per,
        records,
        whole,
        fraction,
        transducers,
        recording,
        record_s,
        head[192:197] in (b"EDF+D", b"BDF+D"),
    )


def repair(path: str | Path) -> int:
    """Make an unfinished EDF/BDF file whole: cut a partial last record, write the record count.

    Returns the number of complete records. Raises ReplayError for a file that is not EDF/BDF.
    """
    p = Path(path)
    h = read_header(p)
    try:
        with open(p, "r+b") as fh:
            fh.truncate(h.header_bytes + h.whole_records * h.record_bytes)
            fh.seek(RECORD_COUNT_OFFSET)
            fh.write(_field(h.whole_records, 8))
    except OSError as exc:
        raise ReplayError(p, f"cannot repair: {exc.strerror}") from exc
    return h.whole_records


def _unique(labels: list[str]) -> list[str]:
    """Labels made unique as MNE makes them: each of a repeated label gets ``-0``, ``-1``..."""
    seen = {lab: labels.count(lab) for lab in labels}
    count: dict[str, int] = {}
    out = []
    for lab in labels:
        if seen[lab] > 1:
            count[lab] = count.get(lab, -1) + 1
            out.append(f"{lab}-{count[lab]}")
        else:
            out.append(lab)
    return out


def _locations(head: EdfHeader, names: dict[int, str]) -> dict[str, str]:
    """The body locations a file spasmwatch wrote gives its signals (index: name), by name.

    spasmwatch writes each signal's location as its transducer (spaces as ``_``, as header
    text is written); other tools write the electrode's type there, so only a file whose
    recording field names spasmwatch as its equipment is read this way.
    """
    fields = head.recording.split()
    if len(fields) < 5 or fields[0] != "Startdate" or not fields[4].startswith("spasmwatch"):
        return {}
    return {
        name: head.transducers[i].replace("_", " ")
        for i, name in names.items()
        if head.transducers[i]
    }


def _onset(tal: bytes) -> float | None:
    """The onset of a data record's time-keeping annotation (``+12.5\x14\x14``), s."""
    text = tal.split(b"\x14", 1)[0]
    try:
        return float(text) if text[:1] in (b"+", b"-") else None
    except ValueError:
        return None


def _segments(path: Path, head: EdfHeader, per_signal: int) -> npt.NDArray[np.int64]:
    """An EDF+D / BDF+D file's stretches of records that follow one another without a gap.

    Each record's time-keeping annotation says when it starts; a record that starts later
    than where the one before ended leaves a gap. Returns rows of (first sample in the
    stream, first sample in the file, samples), the stream counting the gaps' samples, so
    that times stay true and a gap is seen as lost samples, never joined over.

    Raises
    ------
    ReplayError
        Naming the byte of a record whose start is missing or before the previous one's end.
    """
    ai = next((i for i, lab in enumerate(head.labels) if lab.endswith("Annotations")), None)
    if ai is None or head.record_s <= 0:
        raise ReplayError(path, "a discontinuous file (+D) without record times (byte 192)")
    start = head.width * sum(head.per_record[:ai])
    size = head.width * head.per_record[ai]
    sample_s = head.record_s / per_signal
    rows: list[list[int]] = []
    first = prev_end = 0.0
    with open(path, "rb") as fh:
        for k in range(head.whole_records):
            at = head.header_bytes + k * head.record_bytes + start
            fh.seek(at)
            onset = _onset(fh.read(size))
            if onset is None:
                raise ReplayError(path, f"record {k} says nothing of when it starts (byte {at})")
            if k == 0:
                first = prev_end = onset
            if onset < prev_end - sample_s / 2:
                raise ReplayError(
                    path,
                    f"record {k} starts at {onset - first:g} s, before the one before it ends "
                    f"(byte {at})",
                )
            stream = round((onset - first) / sample_s)
            if rows and stream == rows[-1][0] + rows[-1][2]:
                rows[-1][2] += per_signal
            else:
                rows.append([stream, k * per_signal, per_signal])
            prev_end = onset + head.record_s
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


#: The signal types of EDF+ labels: a label's first word in the specification's standard
#: texts ("EMG RAT", "EEG Fpz-Cz", "Resp oro-nasal"; Kemp and Olivan 2003), and the ones
#: MNE also reads there.
EDF_TYPES = frozenset(
    {
        *("EEG", "ECG", "EOG", "ERG", "EMG", "MEG", "MCG", "EP"),
        *("TEMP", "RESP", "SAO2", "LIGHT", "SOUND", "EVENT"),
        *("SEEG", "ECOG", "DBS", "BIO", "MISC", "STIM"),
    }
)
#: Physical dimensions of a voltage.
VOLTS = frozenset({"V", "mV", "uV", "nV"})


def edf_type(label: str) -> str | None:
    """The EDF+ signal type a label names (``"EMG"`` for ``"EMG LAT"``), else None."""
    parts = label.split(maxsplit=1)
    kind = parts[0].upper() if len(parts) == 2 else ""
    return kind if kind in EDF_TYPES else None


def semg_signals(labels: dict[int, str], dims: dict[int, str]) -> list[int]:
    """The signals (index: label, index: dimension) an sEMG replay takes when none are chosen.

    A sleep study or any polygraph holds EEG, EOG, ECG, breathing and oxygen beside its
    sEMG, and every one of them read as sEMG would be a stream of false spasms. So: the
    signals whose EDF+ label says EMG, when there are any; else those whose label names no
    other type, and of those, when some are in volts, only those (breathing belts, oxygen
    saturation and temperature are not); a file that says nothing replays whole.
    """
    types = {i: edf_type(lab) for i, lab in labels.items()}
    emg = [i for i, t in types.items() if t == "EMG"]
    if emg:
        return emg
    untyped = [i for i, t in types.items() if t is None]
    volts = [i for i in untyped if dims[i] in VOLTS]
    return volts or untyped


#: Body sites the sEMG labels of sleep studies name (the EDF+ standard texts, Kemp and
#: Olivan 2003: "EMG LAT", "EMG RAT"; the AASM's montage: "Chin1-Chin2", "Leg L"), by a
#: word of the label (its letters, upper case): the tibialis anterior that periodic leg
#: movements are scored on, and the chin (submental) muscles.
LABEL_SITES = {
    "LAT": "left tibialis anterior",
    "RAT": "right tibialis anterior",
    "CHIN": "chin",
    "SUBMENTAL": "chin",
}
#: The side words of a leg's label ("Leg L", "L Leg", "LLeg", "Left leg").
_LEFT, _RIGHT = ("L", "LEFT"), ("R", "RIGHT")


def label_site(label: str) -> str | None:
    """The body site an sEMG signal's label names, if it is one a sleep study names so."""
    words = ["".join(c for c in w if c.isalpha()) for w in re.split(r"[\s_\-./]+", label.upper())]
    words = [w for w in words if w and w != "EMG"]
    for w in words:
        if w in LABEL_SITES:
            return LABEL_SITES[w]
    for w in words:
        if w in ("LLEG", "RLEG"):
            return ("left" if w[0] == "L" else "right") + " leg"
    if "LEG" in words:
        side = [w for w in words if w in _LEFT + _RIGHT]
        if len(side) == 1:
            return ("left" if side[0] in _LEFT else "right") + " leg"
        return "leg"
    return None


class EdfRecording:
    """An EDF, EDF+, BDF or BDF+ file read in chunks through MNE (never whole).

    A file whose writer was killed (record count -1, a partial last record) is read up to the
    last whole record, with a warning. Annotations that start with ``spasm`` (as spasmwatch
    writes them: ``spasm <channel> <type>``) are the recording's episodes. In a
    discontinuous file (EDF+D, BDF+D: a recorder paused), the time between records is lost
    samples, as a dropped link is; MNE alone would join the records end to end and shift
    every later time. With no ``channels`` chosen, an sEMG replay takes the file's sEMG
    signals (:func:`semg_signals`) and names the others in ``left_out``.
    """

    CHUNK_S = 10.0

    def __init__(
        self, path: str | Path, signal: str, channels: Sequence[str] | None = None
    ) -> None:
        import mne

        self.path = Path(path)
        self.signal = signal
        suffix = self.path.suffix.lower()
        reader = {".bdf": mne.io.read_raw_bdf, ".edf": mne.io.read_raw_edf}.get(suffix)
        if reader is None:
            raise ReplayError(self.path, f"unknown recording type {suffix!r}")
        head = read_header(self.path)
        self.damaged = head.cut_short
        labels, dims, per = head.labels, head.dims, head.per_record
        signals = [i for i, lab in enumerate(labels) if not lab.endswith("Annotations")]
        if not signals:
            raise ReplayError(self.path, "no signals, only annotations")
        # Each signal's name, made unique as MNE makes it (two signals labelled "EMG" are
        # "EMG-0" and "EMG-1"), so each channel can be chosen and is named once.
        names = dict(zip(signals, _unique([labels[i] for i in signals]), strict=True))
        data = signals
        if channels is None and signal == "emg":
            data = semg_signals({i: labels[i] for i in signals}, {i: dims[i] for i in signals})
            if not data:
                kinds = ", ".join(names[i] for i in signals)
                raise ReplayError(
                    self.path,
                    f"no sEMG signal: its labels say {kinds}; choose signals with --channels",
                )
        elif channels is not None:
            by_name = {name: i for i, name in names.items()}
            missing = [n for n in channels if n not in by_name]
            if missing:
                raise ReplayError(self.path, no_such_signals(missing, list(names.values())))
            data = [by_name[n] for n in channels]
        # MNE reads the signals it includes (by label: a chosen label's namesakes come too)
        # at the fastest rate among them, so only those are included, at one rate: none is
        # resampled. A sleep study's leg sEMG often runs slower than its EEG or ECG; chosen
        # alone, it replays at its own rate.
        chosen = {labels[i] for i in data}
        included = [i for i in signals if labels[i] in chosen]
        if len({per[i] for i in included}) > 1:
            rates = "; ".join(f"{names[i]} {head.rate(i):g} Hz" for i in included)
            raise ReplayError(
                self.path,
                f"signals at different rates ({rates}): choose signals of one rate with --channels",
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MNE's notes on a cut-short file: said once, below
            try:
                self.raw = reader(self.path, preload=False, verbose="error", include=list(chosen))
            except (ValueError, OSError, RuntimeError) as exc:
                raise ReplayError(self.path, f"cannot read: {exc}") from exc
        self.fs = float(self.raw.info["sfreq"])
        self.channels = tuple(names[i] for i in data)
        #: Signals of the file not replayed, none being chosen: not sEMG by label or unit.
        self.left_out = () if channels else tuple(names[i] for i in signals if i not in data)
        self._picks = [included.index(i) for i in data]  # MNE keeps the file's order
        self.units = tuple(dims[i] or "au" for i in data)
        self._scale = np.asarray(self.raw._raw_extras[0]["units"], dtype=np.float64)[self._picks]
        meas = self.raw.info["meas_date"]
        self.start = None if meas is None else meas + timedelta(seconds=head.fraction)
        self.info = RecordingInfo(
            self.path,
            self.channels,
            self.units,
            self.fs,
            self.start,
            {},
            _locations(head, {i: names[i] for i in data})
            or {names[i]: site for i in data if (site := label_site(names[i])) is not None},
        )
        self.truth = []
        lost: list[tuple[int, int]] = []
        #: Samples in the recording (the last record's padding left out; gaps counted).
        self.n = self.raw.n_times
        #: Rows of (first stream sample, first file sample, samples); None: one stretch.
        self._segments: npt.NDArray[np.int64] | None = None
        if head.discontinuous:
            self._segments = _segments(self.path, head, per[data[0]])
            if len(self._segments):
                ends = self._segments[:, 0] + self._segments[:, 2]
                lost += [
                    (int(a), int(b)) for a, b in zip(ends[:-1], self._segments[1:, 0], strict=True)
                ]
                self.n = int(ends[-1])
        for a in self.raw.annotations:
            if a["description"] == ENDS:
                self.n = min(self.n, round(float(a["onset"]) * self.fs))
            elif a["description"] == LOST:
                first = round(float(a["onset"]) * self.fs)
                lost.append((first, first + round(float(a["duration"]) * self.fs)))
                continue
            words = str(a["description"]).split()
            if len(words) >= 3 and words[0] == "spasm":
                self.truth.append(
                    {
                        "start": float(a["onset"]),
                        "end": float(a["onset"]) + float(a["duration"]),
                        "channel": words[1],
                        "type": words[2].rstrip(","),
                    }
                )
        #: Runs of lost samples ([first, stop) sample indices), from ``signal lost`` annotations
        #: and the gaps of a discontinuous file, joined where they touch.
        self.lost: list[tuple[int, int]] = []
        for first, stop in sorted(lost):
            if self.lost and first <= self.lost[-1][1]:
                self.lost[-1] = (self.lost[-1][0], max(stop, self.lost[-1][1]))
            else:
                self.lost.append((first, stop))
        self._lost_first = np.array([r[0] for r in self.lost], dtype=np.int64)
        self._lost_stop = np.array([r[1] for r in self.lost], dtype=np.int64)

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks of CHUNK_S seconds, lost samples marked."""
        n = self.n
        step = max(1, int(self.CHUNK_S * self.fs))
        for a in range(0, n, step):
            b = min(n, a + step)
            x = self._read(self._picks, a, b)
            lost = np.zeros(b - a, dtype=bool)
            # The runs that reach into [a, b): they neither overlap nor touch, so both ends sort.
            lo = int(np.searchsorted(self._lost_stop, a, side="right"))
            hi = int(np.searchsorted(self._lost_first, b, side="left"))
            for first, stop in self.lost[lo:hi]:
                lost[max(first, a) - a : min(stop, b) - a] = True
            yield Block(
                (x / self._scale[:, None]).T.astype(np.float32),
                self.fs,
                a,
                self.channels,
                self.units,
                lost,
            )

    def window(self, channel: str, start: int, stop: int) -> npt.NDArray[np.float64]:
        """One channel's samples ``[start, stop)`` (clipped to the file), in its units."""
        i = self.channels.index(channel)
        a, b = max(0, start), min(self.n, stop)
        if b <= a:
            return np.zeros(0)
        x = self._read([self._picks[i]], a, b)[0]
        return np.asarray(x / self._scale[i], dtype=np.float64)

    def _read(self, picks: list[int], a: int, b: int) -> npt.NDArray[np.float64]:
        """Samples ``[a, b)`` of the stream (signals x samples, in MNE's units); a
        discontinuous file's gaps hold 0."""
        if self._segments is None:
            x: npt.NDArray[np.float64] = self.raw.get_data(picks=picks, start=a, stop=b)
            return x
        x = np.zeros((len(picks), b - a))
        seg = self._segments
        for stream, file, count in seg[(seg[:, 0] < b) & (seg[:, 0] + seg[:, 2] > a)]:
            lo, hi = max(a, int(stream)), min(b, int(stream + count))
            off = int(file - stream)
            x[:, lo - a : hi - a] = self.raw.get_data(picks=picks, start=lo + off, stop=hi + off)
        return x

    def close(self) -> None:
        """Nothing to close (MNE opens the file per read)."""


def _wfdb_label(name: str) -> str:
    """A WFDB signal name as an EDF+ label (``"EMG"``: ``"EMG -"``; ``"chin EMG"``: ``"EMG
    chin"``): the first word naming a type, first."""
    words = re.split(r"[\s()\[\]_,:;/-]+", name)
    kind = next((w for w in words if w.upper() in EDF_TYPES), None)
    return f"{kind} {name}" if kind else name


#: Factors from a WFDB record's units to the ones spasmwatch uses.
_TO_UV = {"uV": 1.0, "mV": 1e3, "V": 1e6}


class WfdbRecording:
    """A PhysioNet WFDB record (``.hea`` plus signal files), read in chunks.

    Needs the optional ``wfdb`` package (``pip install -e ".[wfdb]"``). Voltages come out in uV.
    """

    CHUNK_S = 10.0

    def __init__(self, path: str | Path, signal: str, every: bool = False) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas 3)
                import wfdb
        except ImportError as exc:
            raise ReplayError(path, "reading WFDB records needs: pip install -e '.[wfdb]'") from exc
        self.path = Path(path)
        self._record = str(self.path.with_suffix(""))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas)
                head = wfdb.rdheader(self._record)
        except (OSError, ValueError) as exc:
            raise ReplayError(self.path, f"cannot read the WFDB header: {exc}") from exc
        self._wfdb = wfdb
        self.fs = float(head.fs)
        self.n = int(head.sig_len or 0)
        names = list(head.sig_name)
        units = list(head.units or [""] * len(names))
        # With no signals chosen (``every`` False), the sEMG ones as an EDF's are chosen:
        # PhysioNet's names are types ("EMG", "ECG") or types with a site ("EEG (C4-A1)").
        self._picks = (
            list(range(len(names)))
            if every
            else semg_signals(
                {i: _wfdb_label(n) for i, n in enumerate(names)},
                {i: u if u in VOLTS else "" for i, u in enumerate(units)},
            )
        )
        if not self._picks:
            raise ReplayError(
                self.path,
                f"no sEMG signal: its names say {', '.join(names)}; choose signals with --channels",
            )
        self.left_out = tuple(n for i, n in enumerate(names) if i not in self._picks)
        units = [units[i] for i in self._picks]
        self._factor = np.array([_TO_UV.get(u, 1.0) for u in units], dtype=np.float64)
        self.channels = tuple(names[i] for i in self._picks)
        self.units = tuple("uV" if u in _TO_UV else (u or "au") for u in units)
        start = None
        if head.base_date is not None and head.base_time is not None:
            start = datetime.combine(head.base_date, head.base_time).astimezone(UTC)
        self.damaged = False
        self.truth: list[dict[str, object]] = []
        self.info = RecordingInfo(self.path, self.channels, self.units, self.fs, start, {})

    def blocks(self) -> Iterator[Block]:
        """The record as consecutive blocks of CHUNK_S seconds."""
        step = max(1, int(self.CHUNK_S * self.fs))
        for a in range(0, self.n, step):
            b = min(self.n, a + step)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas)
                rec = self._wfdb.rdrecord(
                    self._record, sampfrom=a, sampto=b, physical=True, channels=self._picks
                )
            x = np.asarray(rec.p_signal, dtype=np.float64) * self._factor[None, :]
            yield Block(x.astype(np.float32), self.fs, a, self.channels, self.units)

    def close(self) -> None:
        """Nothing to close."""


__all__ = [
    "BdfWriter",
    "EdfHeader",
    "EdfRecording",
    "WfdbRecording",
    "edf_type",
    "label_site",
    "read_header",
    "record_seconds",
    "repair",
    "semg_signals",
]
