"""The spasmwatch open frame: a small binary packet for DIY sEMG and accelerometer wearables.

The layout is documented for firmware authors in ``docs/ble-frame.md``. All fields are
little-endian::

    offset  size  field
    0       2     magic, the ASCII bytes "SW"
    2       1     version, 1
    3       1     flags, 0 (reserved)
    4       2     sequence number, uint16, +1 per frame, wraps at 65536
    6       4     device time of the first sample, uint32 microseconds, wraps
    10      4     sampling rate, float32 Hz
    14      1     channel count, 1-16
    15      1     sample count per channel, 1-255
    16      4     scale, float32 units per count (> 0)
    20      1     unit: 0 = uV, 1 = g, 2 = device counts
    21      1     battery, percent 0-100; 255 = unknown
    22      2*n   samples, int16, time-major (sample 0 of every channel, then sample 1, ...)
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sensor.block import Block
from sensor.errors import DecodeError

log = logging.getLogger(__name__)

MAGIC = b"SW"
VERSION = 1
HEADER = struct.Struct("<2sBBHIfBBfBB")
HEADER_SIZE = HEADER.size  # 22 bytes
MAX_CHANNELS = 16
UNIT_CODES = {0: "uV", 1: "g", 2: "counts"}
UNIT_NUMBERS = {v: k for k, v in UNIT_CODES.items()}
BATTERY_UNKNOWN = 255
#: A notification payload that fits a BLE 4.2+ link with data length extension (MTU 247).
MAX_PAYLOAD = 244


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    seq : int
        Sequence number, 0-65535.
    device_time_us : int
        Device clock at the first sample, microseconds, modulo 2**32.
    fs : float
        Sampling rate in Hz.
    scale : float
        Units per count.
    unit : str
        ``"uV"``, ``"g"`` or ``"counts"``.
    battery : int or None
        Battery level in percent, None when the device does not say.
    counts : ndarray, shape (n_samples, n_channels), int16
        The raw samples.
    """

    seq: int
    device_time_us: int
    fs: float
    scale: float
    unit: str
    battery: int | None
    counts: npt.NDArray[np.int16]

    @property
    def values(self) -> npt.NDArray[np.float32]:
        """Samples in ``unit``, shape (n_samples, n_channels), float32."""
        return self.counts.astype(np.float32) * np.float32(self.scale)


def encode_frame(
    seq: int,
    device_time_us: int,
    fs: float,
    scale: float,
    unit: str,
    counts: npt.NDArray[np.int16],
    battery: int | None = None,
) -> bytes:
    """Build the bytes of one frame; the inverse of :func:`decode_frame`.

    Parameters
    ----------
    counts : ndarray, shape (n_samples, n_channels), int16
        Raw samples, time-major.
    """
    counts = np.ascontiguousarray(counts, dtype="<i2")
    n_samples, n_channels = counts.shape
    if not 1 <= n_channels <= MAX_CHANNELS or not 1 <= n_samples <= 255:
        raise ValueError(f"frame holds 1-255 samples of 1-{MAX_CHANNELS} channels")
    head = HEADER.pack(
        MAGIC,
        VERSION,
        0,
        seq & 0xFFFF,
        device_time_us & 0xFFFFFFFF,
        fs,
        n_channels,
        n_samples,
        scale,
        UNIT_NUMBERS[unit],
        BATTERY_UNKNOWN if battery is None else battery,
    )
    return head + counts.tobytes()


def decode_frame(payload: bytes) -> Frame:
    """Parse one frame.

    Raises
    ------
    DecodeError
        If the bytes are not a valid frame; the error names the field and its byte offset.
    """
    if len(payload) < HEADER_SIZE:
        raise DecodeError(
            payload, f"{len(payload)} bytes is shorter than the {HEADER_SIZE}-byte header"
        )
    magic, version, flags, seq, t_us, fs, n_ch, n_s, scale, unit, battery = HEADER.unpack_from(
        payload
    )
    if magic != MAGIC:
        raise DecodeError(payload, f"magic at byte 0 is {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise DecodeError(payload, f"version at byte 2 is {version}, this decoder reads {VERSION}")
    if flags != 0:
        raise DecodeError(payload, f"flags at byte 3 are {flags:#04x}, expected 0")
    if not (np.isfinite(fs) and 0 < fs <= 100_000):
        raise DecodeError(payload, f"sampling rate at byte 10 is {fs!r} Hz")
    if not 1 <= n_ch <= MAX_CHANNELS:
        raise DecodeError(payload, f"channel count at byte 14 is {n_ch}, expected 1-{MAX_CHANNELS}")
    if n_s < 1:
        raise DecodeError(payload, "sample count at byte 15 is 0")
    if not (np.isfinite(scale) and scale > 0):
        raise DecodeError(payload, f"scale at byte 16 is {scale!r}, expected a positive number")
    if unit not in UNIT_CODES:
        raise DecodeError(payload, f"unit at byte 20 is {unit}, expected 0, 1 or 2")
    if battery > 100 and battery != BATTERY_UNKNOWN:
        raise DecodeError(payload, f"battery at byte 21 is {battery}, expected 0-100 or 255")
    expected = HEADER_SIZE + 2 * n_ch * n_s
    if len(payload) != expected:
        raise DecodeError(
            payload,
            f"length is {len(payload)} bytes, the header (bytes 14-15) announces {expected}",
        )
    counts = np.frombuffer(payload, dtype="<i2", offset=HEADER_SIZE).reshape(n_s, n_ch)
    return Frame(
        seq=seq,
        device_time_us=t_us,
        fs=float(fs),
        scale=float(scale),
        unit=UNIT_CODES[unit],
        battery=None if battery == BATTERY_UNKNOWN else battery,
        counts=counts.astype(np.int16),
    )


class FrameAssembler:
    """Turn a sequence of frames into consecutive blocks, with lost frames as explicit gaps.

    A sequence-number jump means frames were lost. The number of lost samples comes from the
    device clock where it is consistent with the jump, otherwise from the frame size. The lost
    samples are emitted as a gap block (``Block.lost`` all True), so the stream's sample index
    stays true and the detector sees the gap instead of stitching across it.

    Parameters
    ----------
    channels : sequence of str
        Names for the frame's columns, in order.
    """

    #: A gap block is split into pieces of at most this many seconds, so a long link loss
    #: never allocates one huge array.
    GAP_PIECE_S = 1.0

    def __init__(self, channels: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next frame starts at sample 0."""
        self._next_seq: int | None = None
        self._next_time_us: int | None = None
        self._index = 0
        self._fs: float | None = None
        self.frames = 0
        self.lost_frames = 0
        self.lost_samples = 0
        self.duplicates = 0
        self.battery: int | None = None

    @property
    def index(self) -> int:
        """Absolute index of the next sample."""
        return self._index

    @property
    def expected_time_us(self) -> int | None:
        """Device time of the next sample, if a frame has been seen (wraps at 2**32 us)."""
        return self._next_time_us

    def resume_at(self, index: int) -> None:
        """After a link loss: the next frame is sample ``index``, whatever its sequence number
        (the gap was already accounted for by the caller)."""
        self._next_seq = None
        self._index = index

    def push(self, frame: Frame) -> list[Block]:
        """Add one frame; return the blocks it completes (a gap block first where frames were lost)."""
        n_s, n_ch = frame.counts.shape
        if n_ch != len(self.channels):
            raise DecodeError(
                b"", f"frame has {n_ch} channels, the stream was set up with {len(self.channels)}"
            )
        if self._fs is not None and frame.fs != self._fs:
            raise DecodeError(b"", f"sampling rate changed from {self._fs} to {frame.fs} Hz")
        self._fs = frame.fs
        units = (frame.unit,) * n_ch
        blocks: list[Block] = []
        if self._next_seq is not None and frame.seq != self._next_seq:
            missing_frames = (frame.seq - self._next_seq) & 0xFFFF
            if missing_frames > 0x8000:  # an old or repeated frame, not a jump forward
                self.duplicates += 1
                log.debug("dropped out-of-order frame %d (expected %d)", frame.seq, self._next_seq)
                return []
            missing = missing_frames * n_s
            if self._next_time_us is not None:
                dt_us = (frame.device_time_us - self._next_time_us) & 0xFFFFFFFF
                by_clock = round(dt_us * frame.fs / 1e6)
                # Trust the clock when it agrees with the jump to within one frame size.
                if abs(by_clock - missing) <= n_s:
                    missing = by_clock
            self.lost_frames += missing_frames
            self.lost_samples += missing
            log.info(
                "lost %d frame(s), %d samples at sample %d", missing_frames, missing, self._index
            )
            piece = max(1, int(self.GAP_PIECE_S * frame.fs))
            while missing > 0:
                n = min(piece, missing)
                blocks.append(Block.gap(n, frame.fs, self._index, self.channels, units))
                self._index += n
                missing -= n
        blocks.append(
            Block(
                samples=frame.values,
                fs=frame.fs,
                start_index=self._index,
                channels=self.channels,
                units=units,
            )
        )
        self._index += n_s
        self._next_seq = (frame.seq + 1) & 0xFFFF
        self._next_time_us = (frame.device_time_us + round(n_s * 1e6 / frame.fs)) & 0xFFFFFFFF
        self.frames += 1
        if frame.battery is not None:
            self.battery = frame.battery
        return blocks
