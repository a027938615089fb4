"""The Myo armband's raw EMG: 8 channels at 200 Hz, int8 counts.

Base UUID ``d506XXXX-a904-deb9-4748-2c7f4a124842``. The command characteristic (0x0401) takes
``01 03 03 00 00`` (raw EMG on, IMU and classifier off) and ``09 01 01`` (never sleep); four
EMG characteristics (0x0105, 0x0205, 0x0305, 0x0405) each notify 16 bytes: two samples of
the eight channels, int8. The armband sends them in turn, so the characteristic a
notification comes on is a sequence number modulo 4; it has no clock, so longer losses are
sized from arrival times.
"""

from __future__ import annotations

import math

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
#: After a silence longer than the order can size, the notifications are held at most this
#: long (s) before the silence is sized: the live latency the detector may add beyond its
#: minimum duration (the detection core's target).
HOLD_S = 0.25


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
    """Myo EMG notifications -> blocks of counts; losses from characteristic order and time.

    A silence of ``ORDER_LIMIT`` notifications or more between arrivals is a loss, or a delay:
    the host busy for a moment (a phone, a loaded computer) takes the queued notifications
    late, then all at once. Sized by the silence alone, a 100 ms stall put 16 samples that
    were never lost into the stream, and everything after it 80 ms late. So the
    notifications from the silence on are held, and each is placed where the clock of the
    fastest arrivals so far (``ClockMap``, the sample count as the device's clock) expects it
    if only the order's losses happened. When one of them arrives within ``ORDER_LIMIT``
    notifications of that, the host caught up: nothing more was lost. Otherwise, after
    ``HOLD_S``, the least-delayed of them sizes the loss (a multiple of 4 over the order's).
    """

    profile = "myo-emg"

    def __init__(self) -> None:
        super().__init__()
        self.fs = FS
        self.channels = CHANNELS
        self.units = ("counts",) * 8
        self._next_char: int | None = None
        #: Held notifications: counts, arrival (ns) and notifications skipped before each by
        #: the characteristic order.
        self._held: list[tuple[npt.NDArray[np.float32], int, int]] = []

    def push(self, payload: bytes, arrival_ns: int, source: str = "") -> list[Block]:
        counts = decode(payload)
        try:
            k = EMG_CHARS.index(source.lower())
        except ValueError:
            raise DecodeError(payload, f"not an EMG characteristic: {source!r}") from None
        x = counts.astype(np.float32)
        blocks: list[Block] = []
        by_order = 0 if self._next_char is None else (k - self._next_char) % 4
        if self.reconnecting:
            skipped = by_order
            if self._next_char is not None:
                by_time = self.host_gap(arrival_ns, SAMPLES_PER_NOTIFICATION) // 2
                if by_time >= ORDER_LIMIT:
                    # The multiple of 4 (plus the order's remainder) nearest the arrival time.
                    skipped = by_order + 4 * max(0, round((by_time - by_order) / 4))
            blocks += self._after_link(skipped * SAMPLES_PER_NOTIFICATION)
            blocks.append(self._place(x, arrival_ns))
        elif self._held or (
            self._next_char is not None
            and self.host_gap(arrival_ns, SAMPLES_PER_NOTIFICATION) // 2 >= ORDER_LIMIT
        ):
            self._held.append((x, arrival_ns, by_order))
            blocks += self._judge(arrival_ns)
        else:
            blocks += self._lost(by_order)
            blocks.append(self._place(x, arrival_ns))
        self._next_char = (k + 1) % 4
        self.frames += 1
        self._last_arrival_ns = arrival_ns
        return blocks

    def link_lost(self, at_ns: int) -> list[Block]:
        """The link dropped: the held notifications placed (sized as they stand), then the
        short gap."""
        return self._judge(at_ns, final=True) + super().link_lost(at_ns)

    def flush(self) -> list[Block]:
        """The stream ended: the held notifications, placed as they stand."""
        return self._judge(0, final=True)

    def _place(self, x: npt.NDArray[np.float32], arrival_ns: int) -> Block:
        block = Block(x, self.fs, self.index, self.channels, self.units)
        self.index += len(x)
        self.clock.update(self.index / self.fs, arrival_ns)
        return block

    def _lost(self, skipped: int) -> list[Block]:
        if not skipped:
            return []
        self.lost_frames += skipped
        return self._gap(skipped * SAMPLES_PER_NOTIFICATION)

    def _judge(self, now_ns: int, *, final: bool = False) -> list[Block]:
        """Place the held notifications once their arrivals size the silence (at once if
        ``final``); [] while it is still open."""
        if not self._held:
            return []
        period_ns = SAMPLES_PER_NOTIFICATION / self.fs * 1e9
        end = self.index
        least = math.inf
        for x, arrival, by_order in self._held:
            end += (by_order + 1) * len(x)
            expected = self.clock.host_ns(end / self.fs)
            if expected is not None:
                least = min(least, (arrival - expected) / period_ns)
        if least >= ORDER_LIMIT and not final and now_ns - self._held[0][1] < HOLD_S * 1e9:
            return []
        extra = 4 * round(least / 4) if ORDER_LIMIT <= least < math.inf else 0
        blocks: list[Block] = []
        for i, (x, arrival, by_order) in enumerate(self._held):
            blocks += self._lost(by_order + (extra if i == 0 else 0))
            blocks.append(self._place(x, arrival))
        self._held = []
        return blocks
