"""Causal filter stages built on ``scipy.signal.sosfilt`` with its state carried between calls."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import signal

from detect.config import AccConfig, BandPassConfig, NotchConfig
from detect.errors import ConfigError
from sensor.block import Block

Sos = npt.NDArray[np.float64]

try:
    # scipy's own filter kernel (what ``sosfilt`` calls after checking its arguments and
    # moving axes: for a live block of 50 samples that bookkeeping costs more than the
    # filtering). Same kernel, same float64 arithmetic: the same numbers to the bit.
    from scipy.signal._sosfilt import _sosfilt as _kernel
except ImportError:  # a scipy that moved it: the public call, a little slower
    _kernel = None


def bandpass_sos(
    low_hz: float, high_hz: float, order: int, fs: float, nyquist_fraction: float
) -> Sos:
    """Butterworth band-pass as second-order sections, its upper edge clipped below Nyquist.

    Clipped, the band must still span an octave: sEMG at 50 Hz would keep 20-22 Hz, the
    bottom of the muscle's spectrum (its power peaks at 50-150 Hz), and an accelerometer
    at 10 Hz 3-4.5 Hz of the 3-12 Hz its spasms move in. Such a signal is most likely an
    envelope or a summary the device computed, not the raw signal the chain needs, and it
    gave a stream of spurious episodes (a 50 Hz decimation of a simulated calf: 10 episodes
    for 4 spasms; at 100 Hz, 20-45 Hz, the same 4 as at 200 Hz).

    Raises
    ------
    ConfigError
        If less than an octave of the band fits under the Nyquist rate.
    """
    high = min(high_hz, nyquist_fraction * fs / 2)
    if high < 2 * low_hz:
        raise ConfigError(
            f"a {low_hz:g}-{high_hz:g} Hz band needs a sampling rate of at least "
            f"{math.ceil(4 * low_hz / nyquist_fraction)} Hz (an octave of it under Nyquist), "
            f"not {fs:g} Hz"
        )
    sos: Sos = signal.butter(order, [low_hz, high], btype="bandpass", fs=fs, output="sos")
    return sos


#: ``mains_hz = "auto"`` finds the grid in the first seconds of the stream.
MAINS_DETECT_S = 2.0
#: A mains line is there when its power stands this far over the neighbouring bins (3-8 Hz
#: away). Band-passed white noise (1-8 channels, 2 s, 300 tries at each of 200, 250, 500,
#: 1000 and 2000 Hz) reaches at most 7.9 dB (99th percentiles 4.5-6.1 dB) over both grids'
#: first three harmonics; simulated mains pickup at 6-20 dB SNR stands 22-33 dB over.
MAINS_LINE_DB = 10.0


def notch_frequencies(config: NotchConfig, fs: float, grid: float | None = None) -> list[float]:
    """The notch frequencies below Nyquist (of one grid, or all in grid order)."""
    return [f for f in config.frequencies(grid) if f < 0.95 * fs / 2]


def notch_sos(config: NotchConfig, fs: float) -> Sos:
    """Second-order IIR notches at the mains frequencies below Nyquist, stacked as sections
    (one grid's sections after the other's)."""
    sections = []
    for f in notch_frequencies(config, fs):
        b, a = signal.iirnotch(f, config.q, fs=fs)
        sections.append(signal.tf2sos(b, a))
    if not sections:
        return np.zeros((0, 6))
    return np.vstack(sections)


def mains_line_db(x: npt.NDArray[np.floating], fs: float, grid: float, harmonics: int) -> float:
    """How far the strongest of a grid's lines (fundamental and harmonics below Nyquist)
    stands over its neighbouring bins (3-8 Hz away), dB; ``x`` is (n_samples, n_channels)
    of raw samples, its power summed over channels (Welch, 1 Hz bins)."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=0)
    f, p = signal.welch(x, fs=fs, nperseg=min(len(x), round(fs)), axis=0)
    power = p.sum(axis=1)
    best = -np.inf
    for k in range(1, harmonics + 1):
        fk = k * grid
        if fk >= 0.95 * fs / 2:
            break
        i = int(np.argmin(np.abs(f - fk)))
        near = (np.abs(f - fk) >= 3) & (np.abs(f - fk) <= 8)
        floor = float(np.median(power[near])) if near.any() else 0.0
        if floor > 0 and power[i] > 0:
            best = max(best, 10 * np.log10(power[i] / floor))
    return float(best)


def detect_mains(x: npt.NDArray[np.floating], fs: float, config: NotchConfig) -> float | None:
    """The grid whose mains line stands out in ``x`` (50.0 or 60.0), or None (neither or both)."""
    found = [g for g in (50.0, 60.0) if mains_line_db(x, fs, g, config.harmonics) >= MAINS_LINE_DB]
    return found[0] if len(found) == 1 else None


def emg_sos(
    bandpass: BandPassConfig, notch: NotchConfig, fs: float, *, highpass_hz: float | None = None
) -> Sos:
    """The whole sEMG filter chain as one cascade: band-pass then notches.

    ``highpass_hz`` raises the lower edge (ECG suppression on trunk sites).
    """
    low = bandpass.low_hz if highpass_hz is None else max(bandpass.low_hz, highpass_hz)
    try:
        band = bandpass_sos(low, bandpass.high_hz, bandpass.order, fs, bandpass.nyquist_fraction)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}; a sensor that sends the sEMG's envelope is read with the envelope "
            "preset (--preset envelope)"
        ) from None
    return np.vstack([band, notch_sos(notch, fs)])


def acc_sos(config: AccConfig, fs: float) -> Sos:
    """Band-pass of the accelerometer: removes gravity and posture, keeps spasm movement."""
    return bandpass_sos(config.low_hz, config.high_hz, config.order, fs, 0.9)


#: A short gap is filled, not a restart, with the samples just this long before it repeated:
#: whole periods of both 50 and 60 Hz (5 and 6), so mains hum goes on in phase and the
#: notches do not ring.
FILL_S = 0.1
#: The longest gap that may be filled: the default merge gap. A gap shorter than the merge
#: gap cannot hide the end of an episode (a pause that short is merged whatever the signal
#: did in it), so an episode may go on across it. A lost link is announced as a longer gap
#: at once (``sensor.stream.LINK_GAP_NOW_S``), so it still restarts the filter.
FILL_MAX_S = 0.5


class SosFilter:
    """A causal IIR filter over every channel of a block.

    Lost samples come out as 0 and stay flagged; the filter restarts after them from the
    steady state of the first good sample (``sosfilt_zi``), so a DC offset does not ring.
    With ``fill``, a run of lost samples shorter than ``fill`` seconds (at most
    ``FILL_MAX_S``) is filled instead, by repeating the ``FILL_S`` of samples before it (once
    the filter has seen that much), and the filter goes on: ``unfilled`` then says which lost
    samples of the last block were not filled.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections.
    n_channels : int
        Number of columns the blocks will have.
    fs : float
        Sampling rate, Hz (needed with ``fill``).
    fill : bool or float
        Fill gaps shorter than this many seconds (True: ``FILL_S``; capped at ``FILL_MAX_S``).
    """

    def __init__(
        self, sos: Sos, n_channels: int, fs: float | None = None, fill: bool | float = False
    ) -> None:
        self._cascade = np.asarray(sos, dtype=np.float64)
        self.n_channels = n_channels
        fill_s = min(FILL_S if fill is True else float(fill), FILL_MAX_S)
        self._period = max(1, round(FILL_S * fs)) if fill_s > 0 and fs else 0
        # Runs of lost samples up to this many are filled.
        self._fill_max = max(self._period, round(fill_s * fs)) - 1 if self._period and fs else 0
        self.reset()

    def reset(self) -> None:
        """Forget the past (the whole cascade again): the next good sample starts it afresh."""
        self.sos = self._cascade
        self._zi_unit = signal.sosfilt_zi(self.sos) if len(self.sos) else np.zeros((0, 2))
        self._zi: npt.NDArray[np.float64] | None = None
        # The last ``_period`` input samples (fills included), how many the filter has taken
        # since it (re)started, and how long the current run of lost samples is.
        self._recent = np.zeros((0, self.n_channels))
        self._taken = 0
        self._lost_run = 0
        self.unfilled = np.zeros(0, dtype=bool)

    def _remember(self, x: npt.NDArray[np.floating]) -> None:
        """Keep the last ``_period`` input samples."""
        p = self._period
        if len(x) >= p:
            self._recent = np.array(x[len(x) - p :], dtype=np.float64)
        else:
            self._recent = np.concatenate([self._recent, x])[-p:]
        self._taken += len(x)

    def filter(
        self, x: npt.NDArray[np.floating], lost: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        """Filter ``x`` (n_samples, n_channels); lost rows give 0 and restart the filter (short
        runs of them are filled, with ``fill``)."""
        if len(self.sos) and len(x) and self._zi is not None and not lost.any():
            # The usual case, a block with nothing lost: one call, no bookkeeping.
            self.unfilled = lost
            if self._period:
                self._remember(x)
                self._lost_run = 0
            if _kernel is not None:
                # As sosfilt does it: channels as rows, state (channels, sections, 2).
                rows = np.array(x.T, dtype=np.float64, order="C")
                state = np.ascontiguousarray(self._zi.transpose(2, 0, 1))
                _kernel(self.sos, rows, state)
                self._zi = state.transpose(1, 2, 0)
                out: npt.NDArray[np.float64] = rows.T
                return out
            y, self._zi = signal.sosfilt(self.sos, x, axis=0, zi=self._zi)  # computed in float64
            return np.asarray(y, dtype=np.float64)
        out = np.zeros(x.shape, dtype=np.float64)
        self.unfilled = lost.copy()
        if len(self.sos) == 0:
            out[~lost] = x[~lost]
            return out
        p = self._period
        for start, stop, is_lost in _runs(lost):
            if is_lost:
                n = stop - start
                if p and self._zi is not None and self._taken >= p:
                    # Fill what the run has left before it reaches the limit, a period at a
                    # time (the last FILL_S over again); the rest restarts.
                    k = min(n, self._fill_max - self._lost_run)
                    at = start
                    while at < start + k:
                        seg = self._recent[: min(p, start + k - at)].copy()
                        out[at : at + len(seg)], self._zi = signal.sosfilt(
                            self.sos, seg, axis=0, zi=self._zi
                        )
                        self._remember(seg)
                        at += len(seg)
                    if k > 0:
                        self.unfilled[start : start + k] = False
                    if k < n:
                        self._zi = None
                        self._taken = 0
                else:
                    self._zi = None
                    self._taken = 0
                self._lost_run += n
                continue
            self._lost_run = 0
            seg = np.asarray(x[start:stop], dtype=np.float64)
            if self._zi is None:
                self._zi = self._zi_unit[:, :, None] * seg[0][None, None, :]
            out[start:stop], self._zi = signal.sosfilt(self.sos, seg, axis=0, zi=self._zi)
            if p:
                self._remember(seg)
        return out

    def keep_sections(self, rows: Sequence[int]) -> None:
        """Go on with only these sections of the cascade, their state kept as it is."""
        self.sos = self.sos[list(rows)]
        self._zi_unit = signal.sosfilt_zi(self.sos) if len(self.sos) else np.zeros((0, 2))
        if self._zi is not None:
            self._zi = self._zi[list(rows)]

    def process(self, block: Block) -> Block:
        """Filter a block; returns a new block of the same shape (float32)."""
        y = self.filter(block.samples, block.lost)
        return Block(
            samples=y.astype(np.float32),
            fs=block.fs,
            start_index=block.start_index,
            channels=block.channels,
            units=block.units,
            lost=block.lost,
        )


class BandPass(SosFilter):
    """Band-pass stage (Butterworth, causal)."""

    def __init__(self, config: BandPassConfig, fs: float, n_channels: int) -> None:
        super().__init__(
            bandpass_sos(config.low_hz, config.high_hz, config.order, fs, config.nyquist_fraction),
            n_channels,
        )


class Notch(SosFilter):
    """Mains notch stage at the fundamentals and harmonics below Nyquist."""

    def __init__(self, config: NotchConfig, fs: float, n_channels: int) -> None:
        super().__init__(notch_sos(config, fs), n_channels)


def ring_s(sos: Sos, fs: float) -> float:
    """How long a cascade rings: the time constant of its slowest pole, in seconds (its
    impulse response's amplitude falls by e in that time; a Q-10 notch at 50 Hz, 64 ms)."""
    radius = 0.0
    for section in sos:
        if section[4] or section[5]:
            radius = max(radius, float(np.max(np.abs(np.roots(section[3:])))))
    return -1.0 / (fs * math.log(radius)) if 0.0 < radius < 1.0 else 0.0


def group_delay_s(sos: Sos, fs: float, freq_hz: float) -> float:
    """Group delay of a cascade at ``freq_hz``, in seconds."""
    if len(sos) == 0:
        return 0.0
    total = 0.0
    for section in sos:
        _, gd = signal.group_delay((section[:3], section[3:]), w=[freq_hz], fs=fs)
        total += float(gd[0])
    return total / fs


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int, bool]]:
    """Split a boolean mask into runs: (start, stop, value)."""
    n = len(mask)
    if n == 0:
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds: Sequence[int] = [0, *edges.tolist(), n]
    return [(bounds[i], bounds[i + 1], bool(mask[bounds[i]])) for i in range(len(bounds) - 1)]
