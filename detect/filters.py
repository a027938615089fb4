"""Causal filter stages built on ``scipy.signal.sosfilt`` with its state carried between calls."""

from __future__ import annotations

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

    Raises
    ------
    ConfigError
        If the band does not fit under the Nyquist rate at all.
    """
    high = min(high_hz, nyquist_fraction * fs / 2)
    if low_hz >= high:
        raise ConfigError(
            f"a {low_hz:g}-{high_hz:g} Hz band does not fit a {fs:g} Hz sampling rate"
        )
    sos: Sos = signal.butter(order, [low_hz, high], btype="bandpass", fs=fs, output="sos")
    return sos


def notch_sos(config: NotchConfig, fs: float) -> Sos:
    """Second-order IIR notches at the mains frequencies below Nyquist, stacked as sections."""
    sections = []
    for f in config.frequencies():
        if f < 0.95 * fs / 2:
            b, a = signal.iirnotch(f, config.q, fs=fs)
            sections.append(signal.tf2sos(b, a))
    if not sections:
        return np.zeros((0, 6))
    return np.vstack(sections)


def emg_sos(
    bandpass: BandPassConfig, notch: NotchConfig, fs: float, *, highpass_hz: float | None = None
) -> Sos:
    """The whole sEMG filter chain as one cascade: band-pass then notches.

    ``highpass_hz`` raises the lower edge (ECG suppression on trunk sites).
    """
    low = bandpass.low_hz if highpass_hz is None else max(bandpass.low_hz, highpass_hz)
    return np.vstack(
        [
            bandpass_sos(low, bandpass.high_hz, bandpass.order, fs, bandpass.nyquist_fraction),
            notch_sos(notch, fs),
        ]
    )


def acc_sos(config: AccConfig, fs: float) -> Sos:
    """Band-pass of the accelerometer: removes gravity and posture, keeps spasm movement."""
    return bandpass_sos(config.low_hz, config.high_hz, config.order, fs, 0.9)


class SosFilter:
    """A causal IIR filter over every channel of a block.

    Lost samples come out as 0 and stay flagged; the filter restarts after them from the
    steady state of the first good sample (``sosfilt_zi``), so a DC offset does not ring.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections.
    n_channels : int
        Number of columns the blocks will have.
    """

    def __init__(self, sos: Sos, n_channels: int) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self.n_channels = n_channels
        self._zi_unit = signal.sosfilt_zi(self.sos) if len(self.sos) else np.zeros((0, 2))
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next good sample starts the filter afresh."""
        self._zi: npt.NDArray[np.float64] | None = None

    def filter(
        self, x: npt.NDArray[np.floating], lost: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        """Filter ``x`` (n_samples, n_channels); lost rows give 0 and restart the filter."""
        if len(self.sos) and len(x) and self._zi is not None and not lost.any():
            # The usual case, a block with nothing lost: one call, no bookkeeping.
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
        if len(self.sos) == 0:
            out[~lost] = x[~lost]
            return out
        for start, stop, is_lost in _runs(lost):
            if is_lost:
                self._zi = None
                continue
            seg = np.asarray(x[start:stop], dtype=np.float64)
            if self._zi is None:
                self._zi = self._zi_unit[:, :, None] * seg[0][None, None, :]
            out[start:stop], self._zi = signal.sosfilt(self.sos, seg, axis=0, zi=self._zi)
        return out

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
