"""The Myo armband's raw EMG: 8 channels at 200 Hz, int8 counts.

Base UUID ``d506XXXX-a904-deb9-4748-2c7f4a124842``. The command characteristic (0x0401) takes
``01 03 03 00 00`` (raw EMG on, IMU and classifier off) and ``09 01 01`` (never sleep); four
EMG characteristics (0x0105, 0x0205, 0x0305, 0x0405) each notify 16 bytes: two samples of
the eight channels, int8. The armband sends them in turn, so the characteristic a
notification comes on is a sequence number modulo 4; it has no clock, so longer losses are
sized from arrival times.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sensor.block import Block
from sensor.errors import DecodeError
from sensor.stream import StreamDecoder


def uuid(short: int) -> str:
    """A Myo UUID from its 16-bit part."""
    return f"d506{short:04x}-a904-deb9-4748-2c7f4a124842"


CONTROL_SERVICE = uuid(0x0001)
COMMAND = uuid(0x0401)
EMG_SERVICE = uuid(0x0005)
EMG_CHARS = tuple(uuid(0x0105 + 0x100 * i) for i in range(4))
FS = 200.0
CHANNELS = tuple(f"emg{i + 1}" for i in range(8))
SAMPLES_PER_NOTIFICATION = 2
START_RAW_EMG = bytes([0x01, 0x03, 0x03, 0x00, 0x00])
STOP_EMG = bytes([0x01, 0x03, 0x00, 0x00, 0x00])
NEVER_SLEEP = bytes([0x09, 0x01, 0x01])
#: Below this many notifications' worth of time, the characteristic order sizes a loss;
#: above it, arrival time does (order repeats every 4, BLE connection events add jitter).
ORDER_LIMIT = 4


def encode(counts: npt.NDArray[np.int8]) -> bytes:
    """Two samples x 8 channels of int8 counts -> the 16 bytes of one notification."""
    c = np.asarray(counts)
    if c.shape != (SAMPLES_PER_NOTIFICATION, 8):
        raise ValueError("a Myo EMG notification holds (2, 8) samples")
    return c.astype(np.int8).tobytes()


def decode(payload: bytes) -> npt.NDArray[np.int8]:
    """16 bytes -> (2, 8) int8 counts."""
    if len(payload) != 16:
        raise DecodeError(payload, f"a Myo EMG notification is 16 bytes, got {len(payload)}")
    return np.frombuffer(payload, dtype=np.int8).reshape(SAMPLES_PER_NOTIFICATION, 8)


class MyoEmgDecoder(StreamDecoder):
    """Myo EMG notifications -> blocks of counts; losses from characteristic order and time."""

    profile = "myo-emg"

    def __init__(self) -> None:
        super().__init__()
        self.fs = FS
        self.channels = CHANNELS
        self.units = ("counts",) * 8
        self._next_char: int | None = None

    def push(self, payload: bytes, arrival_ns: int, source: str = "") -> list[Block]:
        counts = decode(payload)
        try:
            k = EMG_CHARS.index(source.lower())
        except ValueError:
            raise DecodeError(payload, f"not an EMG characteristic: {source!r}") from None
        blocks: list[Block] = []
        if self._next_char is not None:
            by_order = (k - self._next_char) % 4  # notifications skipped, modulo 4
            by_time = self.host_gap(arrival_ns, SAMPLES_PER_NOTIFICATION) // 2
            skipped = by_order
            if by_time >= ORDER_LIMIT:
                # The multiple of 4 (plus the order's remainder) nearest the arrival time.
                skipped = by_order + 4 * max(0, round((by_time - by_order) / 4))
            missing = skipped * SAMPLES_PER_NOTIFICATION
            if self.reconnecting:
                blocks += self._after_link(missing)
            elif missing:
                self.lost_frames += skipped
                blocks += self._gap(missing)
        elif self.reconnecting:
            self._after_link(0)
        x = counts.astype(np.float32)
        blocks.append(Block(x, self.fs, self.index, self.channels, self.units))
        self.index += len(x)
        self._next_char = (k + 1) % 4
        self.frames += 1
        self._last_arrival_ns = arrival_ns
        return blocks
