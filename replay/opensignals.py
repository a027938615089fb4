"""OpenSignals text recordings: what PLUX devices (BITalino, biosignalsplux, RespiBAN) save.

OpenSignals (r)evolution writes a recording as text:

- ``# OpenSignals Text File Format`` (sometimes with ``. Version 1``);
- ``# {"<device>": {...}}``: one JSON object per device, with ``sampling rate`` (Hz),
  ``column`` (every column's name: the sequence number ``nSeq``, the digital lines, then
  the analog channels), ``label`` (the analog channels' names), ``sensor`` (what each analog
  channel measures: ``EMG``, ``ECG``, ``XYZ``...), ``date`` and ``time`` (local);
- ``# EndOfHeader``;
- one row a sample, tab-separated integers in that column order: the analog channels are
  the device's ADC counts. A channel whose sensor is EMG, on a device whose supply and
  sensor gain are known (``EMG_VCC_GAIN``), is read in uV; the others stay in counts.

``nSeq`` counts samples, modulo 16 on the devices whose counter has 4 bits (BITalino): a
step other than one is samples that never reached the computer, replayed as lost samples
(a counter modulo 16 cannot show how many times it went round, so the number is the least
that fits). A wider counter (bioplux) goes round at the power of two over the largest
value it reached. Older files list no ``column``: the sequence number comes first, the
analog channels last, digital lines between them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from replay.csvio import DeviceRecording, RecordingInfo, read_end, with_gaps
from replay.errors import ReplayError
from replay.timefmt import parse_time
from sensor.block import ACC, Block, sensor_groups
from sensor.errors import SensorError

#: The first line of every OpenSignals text file.
MAGIC = "# OpenSignals Text File Format"
#: Sensors an sEMG or accelerometer replay takes by default (names as OpenSignals writes
#: them contain these: "EMG", "EMGBITREV"; "XYZ", "ACC", "ACCBITREV").
SENSOR_WORDS = {"emg": ("EMG",), "acc": ("XYZ", "ACC")}
#: A sequence counter whose values all stay under this wraps round at it (4 bits).
SEQ_MODULUS = 16
#: PLUX's EMG sensors' transfer function, (ADC / 2^bits - 1/2) x VCC / gain, in volts: the
#: supply VCC and the sensor's gain by device (BITalino: 3.3 V, 1009; biosignalsplux and
#: bioplux: 3 V, 1000), so an EMG channel reads in uV.
EMG_VCC_GAIN = {
    "bitalino": (3.3, 1009.0),
    "biosignalsplux": (3.0, 1000.0),
    "bioplux": (3.0, 1000.0),
}


def is_opensignals(head: bytes) -> bool:
    """Whether a file that starts with ``head`` is an OpenSignals text file."""
    return head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC.encode())


def _bits(resolution: object, name: str, index: int, columns: Sequence[str] | None) -> int | None:
    """An analog channel's ADC resolution from the header's ``resolution``: one number for
    all, one per column (BITalino) or one per analog channel (biosignalsplux)."""
    if isinstance(resolution, int | float):
        return int(resolution)
    if not isinstance(resolution, list):
        return None
    if columns is not None and len(resolution) == len(columns) and name in columns:
        return int(resolution[columns.index(name)])
    if index < len(resolution):
        return int(resolution[index])
    return None


class OpenSignalsRecording(DeviceRecording):
    """An OpenSignals text recording read in chunks of rows, never whole.

    Parameters
    ----------
    path : path
    signal : {"emg", "acc"}
        Which sensors to replay when ``channels`` is None: those the header names as sEMG
        (or accelerometers, in threes); every analog channel when it names none.
    channels : sequence of str, optional
        Analog channels to replay, by label, whatever their sensor.

    Raises
    ------
    ReplayError
        If the file cannot be read, naming the file and line.
    """

    def _read_head(self, signal: str, wanted: Sequence[str] | None) -> None:
        header: dict[str, object] | None = None
        for raw in self._fh:
            self._line += 1
            line = raw.strip()  # a byte-order mark: skipped by the utf-8-sig reading
            if line.startswith("# EndOfHeader"):
                break
            if line.startswith("# {"):
                try:
                    header = json.loads(line[2:])
                except json.JSONDecodeError as exc:
                    raise ReplayError(
                        self.path, f"the header's JSON is unreadable ({exc.msg})", self._line
                    ) from exc
        else:
            raise ReplayError(self.path, "no '# EndOfHeader' line", self._line)
        if not isinstance(header, dict) or not header:
            raise ReplayError(self.path, "no '# {...}' header line describing the device")
        if len(header) > 1:
            raise ReplayError(
                self.path,
                f"holds {len(header)} devices ({', '.join(header)}); spasmwatch replays one "
                "device a file: save each device on its own in OpenSignals",
            )
        device = next(iter(header.values()))
        if not isinstance(device, dict):
            raise ReplayError(self.path, "the header does not describe a device")
        try:
            fs = float(device["sampling rate"])
            labels = [str(c) for c in device["label"]]
            # Files of older OpenSignals versions list no columns: the sequence number, the
            # digital lines, then the analog channels (counted from the first row).
            columns = [str(c) for c in device["column"]] if "column" in device else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ReplayError(
                self.path, f"the header lacks 'sampling rate' or 'label' ({exc})"
            ) from exc
        sensors = [str(s) for s in device.get("sensor", [])]
        if not (fs > 0 and np.isfinite(fs)):
            raise ReplayError(self.path, f"sampling rate {fs:g} Hz is not a positive rate")
        if columns is not None and (
            any(label not in columns for label in labels) or "nSeq" not in columns
        ):
            raise ReplayError(
                self.path, "the header's 'label' names columns its 'column' does not list"
            )
        if wanted is not None:
            names = self._asked(wanted, labels)
        else:
            words = SENSOR_WORDS.get(signal, ())
            names = [
                label
                for label, sensor in zip(labels, sensors, strict=False)
                if any(w in sensor.upper() for w in words)
            ] or labels
            if signal == ACC:
                try:
                    sensor_groups(names)
                except SensorError as exc:
                    raise ReplayError(self.path, str(exc)) from exc
        self._labels = labels
        self._names = names
        self._columns = columns
        self._width = len(columns) if columns is not None else 0  # 0: from the first row
        start = None
        if "date" in device and "time" in device:
            # "2017-1-23" and "10:28:51.69", local time, as the computer that recorded it had.
            try:
                y, mo, d = (int(v) for v in str(device["date"]).split("-"))
                clock = str(device["time"]).split(":")
                h, mi, sec = int(clock[0]), int(clock[1]), float(clock[2])
                start = parse_time(f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:09.6f}")
            except (ValueError, IndexError):
                start = None  # the log then needs --start, as for any file without one
        # EMG channels of a device whose sensor is known read in uV; the rest stay in counts.
        kind = str(device.get("device", "")).lower()
        vcc_gain = next((v for k, v in EMG_VCC_GAIN.items() if kind.startswith(k)), None)
        resolution = device.get("resolution")
        self._scale: list[tuple[float, float] | None] = []
        for name in names:
            i = labels.index(name)
            sensor = sensors[i].upper() if i < len(sensors) else ""
            bits = _bits(resolution, name, i, columns)
            if vcc_gain is None or "EMG" not in sensor or bits is None:
                self._scale.append(None)
                continue
            vcc, gain = vcc_gain
            # uV = (ADC / 2^bits - 1/2) x VCC / gain x 1e6 = ADC x a + b
            a = vcc / gain * 1e6 / 2**bits
            self._scale.append((a, -0.5 * vcc / gain * 1e6))
        units = tuple("counts" if sc is None else "uV" for sc in self._scale)
        comments = {"device": str(device.get("device", "")), "format": "OpenSignals"}
        self.info = RecordingInfo(self.path, tuple(names), units, fs, start, comments, {})
        self._index = 0
        self._last_seq: int | None = None
        self._modulus: int | None = None
        self._top = 0  # the largest sequence number seen

    def _read_rows(self) -> npt.NDArray[np.float64] | None:
        got = self._collect()
        if got is None:
            return None
        lines, numbers, cut = got
        if self._columns is None:
            n = len(lines[0].split("\t"))
            if n < len(self._labels) + 1:
                raise ReplayError(
                    self.path,
                    f"{n} fields, fewer than the sequence number and {len(self._labels)} "
                    "channels the header names",
                    numbers[0],
                )
            digital = [f"D{i + 1}" for i in range(n - 1 - len(self._labels))]
            self._columns = ["nSeq", *digital, *self._labels]
            self._width = n
        data, self.cut = read_end(self.path, lines, numbers, "\t", self._width, cut=cut)
        return data if len(data) else None

    def blocks(self) -> Iterator[Block]:
        """The recording as consecutive blocks; samples the sequence numbers show were lost
        are lost samples (read as 0), in their place."""
        try:
            while (data := self._read_rows()) is not None:
                assert self._columns is not None
                seq = data[:, self._columns.index("nSeq")].astype(np.int64)
                if self._modulus is None:
                    # A 4-bit counter is seen going round within its first 16 samples.
                    self._modulus = SEQ_MODULUS if seq.max() < SEQ_MODULUS else 0
                before = seq[0] - 1 if self._last_seq is None else self._last_seq
                steps = np.diff(np.concatenate([[before], seq]))
                if self._modulus:
                    steps %= self._modulus
                    steps[steps == 0] = self._modulus  # a whole turn: 15 lost (at least)
                elif (steps < 1).any():
                    # A wider counter went round: at the power of two over the largest value
                    # it had reached.
                    self._top = max(self._top, int(seq.max()))
                    span = 1 << self._top.bit_length()
                    steps = np.where(steps < 1, steps + span, steps)
                self._top = max(self._top, int(seq.max()))
                self._last_seq = int(seq[-1])
                gaps = steps - 1
                raw = data[:, [self._columns.index(n) for n in self._names]]
                for j, sc in enumerate(self._scale):
                    if sc is not None:
                        raw[:, j] = raw[:, j] * sc[0] + sc[1]
                x, lost = with_gaps(raw.astype(np.float32), gaps)
                yield Block(x, self.info.fs, self._index, self.info.channels, self.info.units, lost)
                self._index += len(x)
        finally:
            self._fh.close()


__all__ = ["OpenSignalsRecording", "is_opensignals"]
