"""From a device's notifications to consecutive blocks, with every loss an explicit gap.

A :class:`StreamDecoder` is what a BLE profile hands the monitor: it takes each notification's
bytes (and when they arrived), returns the blocks they complete, and keeps the stream's
sample index true. Where samples were lost (a notification that never came, the link down
for a while) it returns a gap block of the right length first, so the detector sees the gap
and never stitches the signal across it. Decoders are pure: no radio, no asyncio.

How a loss is sized depends on what the device sends:

- a sequence number and a device clock (the open frame): exact;
- a device clock only (Polar PMD): from the timestamps;
- neither (the Myo armband): from the order of its four EMG characteristics for short losses,
  and from the arrival times for long ones, once the arrivals after the silence show a loss
  rather than a host that was busy (``sensor.myo.MyoEmgDecoder``).

After a link loss (:meth:`StreamDecoder.link_lost`) a short gap is emitted at once, so an
episode in progress is closed as interrupted without waiting for the link to come back;
the rest of the gap follows with the first notification after reconnecting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from sensor.block import Block
from sensor.errors import DecodeError
from sensor.frame import FrameAssembler, decode_frame

log = logging.getLogger(__name__)

#: Samples emitted as a gap the moment the link is lost, in seconds of signal: longer than
#: any gap the detector fills (``detect.filters.FILL_MAX_S``, 0.5 s), so an episode in
#: progress ends at once as interrupted instead of waiting for the link to come back; and
#: shorter than a real loss lasts (BlueZ declares a link lost after its supervision timeout,
#: 420 ms by default, and a new connection takes longer still).
LINK_GAP_NOW_S = 0.6
#: A gap block is split into pieces of at most this many seconds.
GAP_PIECE_S = 1.0


def gap_blocks(
    n: int, fs: float, start: int, channels: Sequence[str], units: Sequence[str]
) -> list[Block]:
    """``n`` lost samples from ``start``, in pieces of at most :data:`GAP_PIECE_S`."""
    out = []
    piece = max(1, int(GAP_PIECE_S * fs))
    while n > 0:
        k = min(piece, n)
        out.append(Block.gap(k, fs, start, tuple(channels), tuple(units)))
        start += k
        n -= k
    return out


class ClockMap:
    """Device time to host time: the offset from the fastest arrivals, and the drift.

    A notification arrives some time after its last sample was measured, never before, so
    ``arrival - device_time`` is smallest for the least-delayed arrivals. Each window keeps its
    fastest arrival; a line through the last windows' fastest arrivals gives the offset and
    the drift (crystals drift 20-50 ppm).
    """

    WINDOW_S = 10.0
    WINDOWS = 30

    def __init__(self) -> None:
        self.drift_ppm = 0.0
        self._window_start: float | None = None
        self._best: tuple[float, int] | None = None  # fastest arrival of the open window
        self._points: list[tuple[float, int]] = []  # (device s, offset ns) of past windows
        self._anchor: tuple[float, int] | None = None

    def update(self, device_s: float, arrival_ns: int) -> None:
        """One arrival of a sample measured at ``device_s`` (device clock, s)."""
        off = arrival_ns - round(device_s * 1e9)
        if self._window_start is None:
            self._window_start = device_s
        if self._best is None or off < self._best[1]:
            self._best = (device_s, off)
        if not self._points and (self._anchor is None or off < self._anchor[1]):
            self._anchor = (device_s, off)  # before the first window closes: the fastest so far
        if device_s - self._window_start >= self.WINDOW_S:
            assert self._best is not None
            self._points = [*self._points, self._best][-self.WINDOWS :]
            self._window_start, self._best = device_s, None
            if len(self._points) >= 2:
                t = np.array([p[0] for p in self._points])
                o = np.array([p[1] for p in self._points], dtype=np.float64)
                slope, intercept = np.polyfit(t - t[0], o, 1)
                self.drift_ppm = float(slope) / 1e9 * 1e6
                self._anchor = (float(t[0]), round(intercept))
            else:
                self._anchor = self._points[0]

    def host_ns(self, device_s: float) -> int | None:
        """When a device time happened on the host's monotonic clock (None before any data)."""
        if self._anchor is None:
            return None
        t0, off0 = self._anchor
        return round(device_s * 1e9) + off0 + round((device_s - t0) * self.drift_ppm * 1e3)


class StreamDecoder:
    """Base of the profiles' decoders: counters and the link-loss bookkeeping.

    Attributes
    ----------
    channels, units : tuple of str
        Column names and units (empty until the first notification for some profiles).
    fs : float
        Sampling rate, Hz (0 until known).
    frames, lost_frames, lost_samples, duplicates : int
        Notifications decoded, lost (where countable), samples lost, repeats dropped.
    battery : int or None
        Battery level, percent, where the device reports it in its frames.
    """

    profile = "?"

    def __init__(self) -> None:
        self.channels: tuple[str, ...] = ()
        self.units: tuple[str, ...] = ()
        self.fs = 0.0
        self.index = 0
        self.frames = 0
        self.lost_frames = 0
        self.lost_samples = 0
        self.duplicates = 0
        self.battery: int | None = None
        self.clock = ClockMap()
        self._link_gap = 0  # samples already emitted as a gap since the link was lost
        self._link_down_ns: int | None = None
        self._last_arrival_ns: int | None = None

    def push(self, payload: bytes, arrival_ns: int, source: str = "") -> list[Block]:
        """Decode one notification (from characteristic ``source``); return its blocks."""
        raise NotImplementedError

    def flush(self) -> list[Block]:
        """The stream ended: whatever the decoder still holds (most hold nothing)."""
        return []

    def link_lost(self, at_ns: int) -> list[Block]:
        """The link dropped: a short gap now (closing any episode in progress)."""
        if self._link_down_ns is not None or not self.fs or not self.channels:
            return []
        self._link_down_ns = at_ns
        n = max(1, round(LINK_GAP_NOW_S * self.fs))
        return self._gap(n, link=True)

    def _gap(self, n: int, *, link: bool = False) -> list[Block]:
        blocks = gap_blocks(n, self.fs, self.index, self.channels, self.units)
        self.index += n
        self.lost_samples += n
        if link:
            self._link_gap += n
        return blocks

    def _after_link(self, missing: int) -> list[Block]:
        """The first notification after a reconnect: the rest of the gap, ``missing`` in all."""
        rest = max(0, missing - self._link_gap)
        self._link_gap = 0
        self._link_down_ns = None
        return self._gap(rest) if rest else []

    @property
    def reconnecting(self) -> bool:
        """True between a link loss and the first notification after it."""
        return self._link_down_ns is not None

    def host_gap(self, arrival_ns: int, n_new: int) -> int:
        """Samples missing before a notification of ``n_new`` samples, by host arrival time."""
        if self._last_arrival_ns is None or not self.fs:
            return 0
        elapsed = (arrival_ns - self._last_arrival_ns) / 1e9
        return max(0, round(elapsed * self.fs) - n_new)


class OpenFrameDecoder(StreamDecoder):
    """The spasmwatch open frame (``docs/ble-frame.md``): sequence numbers and device time."""

    profile = "open-frame"

    def __init__(self) -> None:
        super().__init__()
        self._asm: FrameAssembler | None = None
        self._wraps = 0
        self._last_us: int | None = None

    def push(self, payload: bytes, arrival_ns: int, source: str = "") -> list[Block]:
        frame = decode_frame(payload)
        n_s, n_ch = frame.counts.shape
        if self._asm is None:
            if frame.unit == "g" and n_ch % 3 == 0:
                names = tuple(
                    f"acc{i // 3 + 1}_{'xyz'[i % 3]}" if n_ch > 3 else f"acc_{'xyz'[i % 3]}"
                    for i in range(n_ch)
                )
            else:
                names = tuple(f"ch{i + 1}" for i in range(n_ch))
            self._asm = FrameAssembler(names)
            self.channels, self.units, self.fs = names, (frame.unit,) * n_ch, frame.fs
        asm = self._asm
        if n_ch != len(self.channels):
            raise DecodeError(
                payload, f"channel count at byte 14 is {n_ch}, the stream has {len(self.channels)}"
            )
        if frame.fs != self.fs:
            raise DecodeError(payload, f"sampling rate at byte 10 changed to {frame.fs} Hz")
        blocks: list[Block] = []
        expected_us = asm.expected_time_us
        if self.reconnecting and expected_us is not None:
            # After a reconnect, size the gap by the device clock (the sequence number may
            # have wrapped many times); a clock that went back means the device restarted.
            dt_us = (frame.device_time_us - expected_us) & 0xFFFFFFFF
            by_clock = round(dt_us * self.fs / 1e6) if dt_us < 2**31 else None
            missing = by_clock if by_clock is not None else self.host_gap(arrival_ns, n_s)
            blocks += self._after_link(missing)
            asm.resume_at(self.index)
        before = asm.lost_samples
        got = asm.push(frame)
        self.lost_samples += asm.lost_samples - before
        self.lost_frames, self.duplicates = asm.lost_frames, asm.duplicates
        self.index = asm.index
        self.frames += 1 if got else 0
        if frame.battery is not None:
            self.battery = frame.battery
        if self._last_us is not None and frame.device_time_us < self._last_us:
            self._wraps += 1
        self._last_us = frame.device_time_us
        self.clock.update(
            (self._wraps * 2**32 + frame.device_time_us) / 1e6 + (n_s - 1) / self.fs, arrival_ns
        )
        self._last_arrival_ns = arrival_ns
        return blocks + got
