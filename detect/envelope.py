"""Frame powers and the RMS envelope, computed causally and identically for any chunking."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class Framer:
    """Average per-sample values over consecutive frames of ``hop`` samples.

    Frame ``k`` covers samples ``[k*hop, (k+1)*hop)`` of the stream. Samples left over at the
    end of a call wait for the next. A frame holding any lost sample is flagged lost.

    Parameters
    ----------
    hop : int
        Samples per frame.
    n_columns : int
        Columns of the values.
    """

    def __init__(self, hop: int, n_columns: int) -> None:
        self.hop = hop
        self.n_columns = n_columns
        self.reset()

    def reset(self) -> None:
        """Start again at frame 0."""
        self._rest = np.zeros((0, self.n_columns))
        self._rest_lost = np.zeros(0, dtype=bool)
        self.next_frame = 0

    def process(
        self, values: Array, lost: npt.NDArray[np.bool_]
    ) -> tuple[Array, npt.NDArray[np.bool_]]:
        """Return (frame means (n_frames, n_columns), frame lost flags (n_frames,)).

        The sum runs sample by sample in a fixed order, so the result never depends on how the
        stream was cut into blocks.
        """
        if len(self._rest):
            values = np.concatenate([self._rest, values])
            lost = np.concatenate([self._rest_lost, lost])
        n_frames = len(values) // self.hop
        used = n_frames * self.hop
        self._rest = values[used:].copy()
        self._rest_lost = lost[used:].copy()
        framed = values[:used].reshape(n_frames, self.hop, self.n_columns)
        total = framed[:, 0, :].copy()
        for j in range(1, self.hop):
            total += framed[:, j, :]
        frame_lost: npt.NDArray[np.bool_] = np.asarray(
            lost[:used].reshape(n_frames, self.hop).any(axis=1), dtype=bool
        )
        self.next_frame += n_frames
        return total / self.hop, frame_lost


class MovingQuantile:
    """An order statistic of the last ``length`` frames of each column.

    It ignores anything that fills less than ``1 - quantile`` of the window (a QRS complex
    leaking into trunk sEMG, a spike) and follows a contraction that fills more. Being a
    selection, not a sum, it is exact whatever the chunking.
    """

    def __init__(self, length: int, n_columns: int, quantile: float) -> None:
        self.length = length
        self.n_columns = n_columns
        self.rank = min(length - 1, max(0, int(np.ceil(quantile * length)) - 1))
        self.reset()

    def reset(self) -> None:
        """Forget the history."""
        self._history = np.zeros((self.length - 1, self.n_columns))

    def process(self, frames: Array) -> Array:
        """Moving order statistic, shape like ``frames``."""
        x = np.concatenate([self._history, frames])
        if self.length > 1:
            self._history = x[len(x) - (self.length - 1) :].copy()
        if len(frames) == 0:
            return np.zeros((0, self.n_columns))
        windows = np.lib.stride_tricks.sliding_window_view(x, self.length, axis=0)
        out: Array = np.partition(windows, self.rank, axis=-1)[..., self.rank]
        return out
