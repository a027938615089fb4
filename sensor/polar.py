"""Polar PMD (Polar Measurement Data): the accelerometer of the H10 and the Verity Sense.

Service ``FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8``; the control point ``FB005C81`` takes
commands and answers with indications, the data characteristic ``FB005C82`` notifies frames.

Control point::

    request   [op u8][measurement type u8][settings...]      op 2 = start, 3 = stop
    settings  [setting type u8][count u8][value x count]     0 rate u16, 1 resolution u16,
                                                             2 range u16, 5 factor f32
    response  F0 [op u8][measurement type u8][status u8][more u8][settings...]

Data frame::

    [0]     measurement type (& 0x3F); 2 = ACC
    [1..8]  uint64 LE, ns since 2000-01-01 of the frame's LAST sample
    [9]     frame type: bit 7 = delta compressed; raw types 0/1/2 = int8/int16/int24 per axis
    [10..]  raw: x, y, z per sample, little-endian, in mG (times the factor)
            delta: a reference sample (x, y, z at the stream's resolution), then blocks of
            [bit width u8][sample count u8][deltas, bit width x 3 x count bits, LSB first,
            two's complement], each delta added to the previous sample

Values are acceleration in mG times the factor the start response gives (1.0 when absent).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sensor.block import Block
from sensor.errors import DecodeError
from sensor.stream import StreamDecoder

SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
ACC = 0x02
OP_START, OP_STOP = 0x02, 0x03
RESPONSE = 0xF0
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_FACTOR = 0, 1, 2, 5
_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}
DELTA_BIT = 0x80
#: Raw frame types and their bytes per axis.
RAW_BYTES = {0: 1, 1: 2, 2: 3}
HEADER = 10
CHANNELS = ("acc_x", "acc_y", "acc_z")


def start_command(rate_hz: int = 200, resolution: int = 16, range_g: int = 8) -> bytes:
    """Start ACC: ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00`` for 200 Hz, 16 bit, 8 G."""
    return bytes([OP_START, ACC]) + b"".join(
        bytes([kind, 1]) + struct.pack("<H", value)
        for kind, value in ((SET_RATE, rate_hz), (SET_RESOLUTION, resolution), (SET_RANGE, range_g))
    )


def stop_command() -> bytes:
    """Stop ACC: ``03 02``."""
    return bytes([OP_STOP, ACC])


def parse_settings(data: bytes, offset: int = 0) -> dict[int, float]:
    """``[type][count][values]...`` -> {type: first value}; raises DecodeError on bad bytes."""
    out: dict[int, float] = {}
    i = offset
    while i < len(data):
        if i + 2 > len(data):
            raise DecodeError(data, f"setting at byte {i} is cut short")
        kind, count = data[i], data[i + 1]
        size = _SIZES.get(kind)
        if size is None:
            raise DecodeError(data, f"unknown setting type {kind} at byte {i}")
        end = i + 2 + size * count
        if count < 1 or end > len(data):
            raise DecodeError(data, f"setting {kind} at byte {i} announces {count} values")
        raw = data[i + 2 : i + 2 + size]
        if kind == SET_FACTOR:
            value = struct.unpack("<f", raw)[0]
        elif size == 4:
            value = struct.unpack("<I", raw)[0]
        else:
            value = int.from_bytes(raw, "little")
        out[kind] = float(value)
        i = end
    return out


def encode_settings(settings: dict[int, float]) -> bytes:
    """The inverse of :func:`parse_settings` (one value per setting)."""
    out = b""
    for kind, value in settings.items():
        if kind == SET_FACTOR:
            out += bytes([kind, 1]) + struct.pack("<f", value)
        else:
            out += bytes([kind, 1]) + int(value).to_bytes(_SIZES[kind], "little")
    return out


def response(op: int, status: int = 0, settings: dict[int, float] | None = None) -> bytes:
    """A control point response (what the device indicates)."""
    return bytes([RESPONSE, op, ACC, status, 0]) + encode_settings(settings or {})


def parse_response(data: bytes) -> tuple[int, int, dict[int, float]]:
    """A control point response -> (op, status, settings)."""
    if len(data) < 5 or data[0] != RESPONSE:
        raise DecodeError(data, "not a control point response (byte 0 must be F0, 5+ bytes)")
    return data[1], data[3], parse_settings(data, 5)


# -- data frames ---------------------------------------------------------------------------------


def _signed(values: npt.NDArray[np.int64], bits: int) -> npt.NDArray[np.int64]:
    sign = np.int64(1) << (bits - 1)
    return (values ^ sign) - sign


def _unpack_bits(data: bytes, width: int, count: int) -> npt.NDArray[np.int64]:
    """``count`` two's-complement integers of ``width`` bits, LSB first."""
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    bits = flat[: width * count].reshape(count, width).astype(np.int64)
    values = (bits << np.arange(width, dtype=np.int64)).sum(axis=1)
    return _signed(values, width)


def _pack_bits(values: npt.NDArray[np.int64], width: int) -> bytes:
    v = values.astype(np.int64) & ((1 << width) - 1)
    bits = ((v[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes()


def encode_raw(timestamp_ns: int, counts: npt.NDArray[np.int64], frame_type: int = 1) -> bytes:
    """A raw ACC frame: ``counts`` (n, 3) in mG, the last sample at ``timestamp_ns``."""
    size = RAW_BYTES[frame_type]
    c = np.asarray(counts, dtype=np.int64)
    lo, hi = -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
    if c.ndim != 2 or c.shape[1] != 3 or c.size == 0 or c.min() < lo or c.max() > hi:
        raise ValueError(f"raw type {frame_type} holds (n, 3) values in [{lo}, {hi}]")
    body = b"".join(int(v).to_bytes(size, "little", signed=True) for v in c.ravel())
    return bytes([ACC]) + struct.pack("<Q", timestamp_ns) + bytes([frame_type]) + body


def encode_delta(
    timestamp_ns: int, counts: npt.NDArray[np.int64], resolution: int = 16, block: int = 16
) -> bytes:
    """A delta-compressed ACC frame (frame type 0x80), blocks of up to ``block`` deltas."""
    c = np.asarray(counts, dtype=np.int64)
    if c.ndim != 2 or c.shape[1] != 3 or len(c) == 0:
        raise ValueError("delta frames hold (n, 3) values")
    size = resolution // 8
    out = bytes([ACC]) + struct.pack("<Q", timestamp_ns) + bytes([DELTA_BIT])
    out += b"".join(int(v).to_bytes(size, "little", signed=True) for v in c[0])
    deltas = np.diff(c, axis=0)
    for a in range(0, len(deltas), block):
        d = deltas[a : a + block]
        width = 1
        while not (-(1 << (width - 1)) <= d.min() and d.max() <= (1 << (width - 1)) - 1):
            width += 1
        out += bytes([width, len(d)]) + _pack_bits(d.ravel(), width)
    return out


def decode_frame(payload: bytes, resolution: int = 16) -> tuple[int, npt.NDArray[np.int64]]:
    """An ACC data frame -> (timestamp ns of its last sample, counts (n, 3) in mG x factor).

    Raises
    ------
    DecodeError
        Naming the byte where the frame is wrong.
    """
    if len(payload) < HEADER + 1:
        raise DecodeError(payload, f"{len(payload)} bytes is shorter than a PMD frame (11+)")
    if payload[0] & 0x3F != ACC:
        raise DecodeError(
            payload, f"measurement type at byte 0 is {payload[0] & 0x3F}, not ACC (2)"
        )
    (ts,) = struct.unpack_from("<Q", payload, 1)
    ftype = payload[9]
    body = payload[HEADER:]
    if not ftype & DELTA_BIT:
        size = RAW_BYTES.get(ftype)
        if size is None:
            raise DecodeError(payload, f"frame type at byte 9 is {ftype:#04x}, unknown")
        if len(body) % (3 * size):
            raise DecodeError(
                payload,
                f"{len(body)} data bytes from byte 10 are not whole {3 * size}-byte samples",
            )
        raw = np.frombuffer(body, dtype=np.uint8).reshape(-1, size).astype(np.int64)
        values = (raw << (8 * np.arange(size, dtype=np.int64))).sum(axis=1)
        return ts, _signed(values, 8 * size).reshape(-1, 3)
    if ftype & 0x7F != 0:
        raise DecodeError(payload, f"compressed frame type at byte 9 is {ftype:#04x}, unknown")
    size = resolution // 8
    if len(body) < 3 * size:
        raise DecodeError(payload, "reference sample from byte 10 is cut short")
    ref = np.array(
        [int.from_bytes(body[i * size : (i + 1) * size], "little", signed=True) for i in range(3)],
        dtype=np.int64,
    )
    samples = [ref]
    i = 3 * size
    while i < len(body):
        if i + 2 > len(body):
            raise DecodeError(payload, f"delta block header at byte {HEADER + i} is cut short")
        width, count = body[i], body[i + 1]
        if not 1 <= width <= 32 or count == 0:
            raise DecodeError(
                payload, f"delta block at byte {HEADER + i}: bit width {width}, count {count}"
            )
        nbytes = (width * 3 * count + 7) // 8
        chunk = body[i + 2 : i + 2 + nbytes]
        if len(chunk) < nbytes:
            raise DecodeError(
                payload, f"delta block at byte {HEADER + i} needs {nbytes} bytes, has {len(chunk)}"
            )
        d = _unpack_bits(chunk, width, 3 * count).reshape(count, 3)
        samples.extend(samples[-1] + np.cumsum(d, axis=0))
        i += 2 + nbytes
    return ts, np.vstack(samples)


class PolarAccDecoder(StreamDecoder):
    """Polar PMD ACC frames -> blocks in g; losses sized from the frames' timestamps.

    Parameters
    ----------
    fs : float
        The rate the stream was started at, Hz.
    factor : float
        From the start response (values x factor are mG).
    resolution : int
        Bits of a compressed frame's reference sample.
    """

    profile = "polar-acc"

    def __init__(self, fs: float, factor: float = 1.0, resolution: int = 16) -> None:
        super().__init__()
        self.fs = float(fs)
        self.factor = float(factor)
        self.resolution = resolution
        self.channels = CHANNELS
        self.units = ("g",) * 3
        self._next_ns: int | None = None  # device time of the next expected sample

    def push(self, payload: bytes, arrival_ns: int, source: str = "") -> list[Block]:
        ts, counts = decode_frame(payload, self.resolution)
        n = len(counts)
        period = 1e9 / self.fs
        first_ns = ts - round((n - 1) * period)
        blocks: list[Block] = []
        if self._next_ns is not None:
            missing = round((first_ns - self._next_ns) / period)
            if missing <= -n:
                self.duplicates += 1
                return []
            if self.reconnecting:
                blocks += self._after_link(max(0, missing))
            elif missing > 0:
                self.lost_frames += 1
                blocks += self._gap(missing)
            if missing < 0:  # overlapping samples (clock jitter): keep only the new ones
                counts = counts[-missing:]
        x = (counts * (self.factor / 1000.0)).astype(np.float32)
        blocks.append(Block(x, self.fs, self.index, self.channels, self.units))
        self.index += len(x)
        self._next_ns = ts + round(period)
        self.frames += 1
        self.clock.update(ts / 1e9, arrival_ns)
        self._last_arrival_ns = arrival_ns
        return blocks


def counts_from_g(
    values: Sequence[Sequence[float]] | npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Acceleration in g -> mG counts (what the sensor sends with factor 1)."""
    return np.round(np.asarray(values, dtype=np.float64) * 1000.0).astype(np.int64)
