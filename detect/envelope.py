"""Frame powers and the RMS envelope, computed causally and identically for any chunking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: Up to this many frames in one call, the stages take a path that costs less for a live
#: block (25 ms is 2-3 frames); both paths give the same numbers to the bit (a sequential
#: sum, an exact selection), so chunking never changes a result.
FEW_FRAMES = 4


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
        if n_frames <= FEW_FRAMES:
            # A live block's few frames: one call. accumulate adds in order, as the loop does.
            total = np.add.accumulate(framed, axis=1)[:, -1, :]
        else:
            total = framed[:, 0, :].copy()
            for j in range(1, self.hop):
                total += framed[:, j, :]
        frame_lost: npt.NDArray[np.bool_] = np.asarray(
            lost[:used].reshape(n_frames, self.hop).any(axis=1), dtype=bool
        )
        self.next_frame += n_frames
        return total / self.hop, frame_lost


class FlagFramer:
    """Whether most of each frame's samples are flagged (a flat raw signal, say).

    Frames as :class:`Framer` does (frame ``k`` is samples ``[k*hop, (k+1)*hop)``; samples
    left over wait for the next call), counting flags instead of averaging values. When
    nothing is flagged, neither in the call nor among the samples waiting, it does not look.
    """

    def __init__(self, hop: int, n_columns: int, at_least: int | None = None) -> None:
        self.hop = hop
        self.n_columns = n_columns
        #: A frame is flagged when at least this many of its samples are (default: most).
        self.at_least = hop // 2 + 1 if at_least is None else at_least
        self.reset()

    def reset(self) -> None:
        """Start again at frame 0."""
        self._left = 0  # samples waiting for the next call
        self._rest: npt.NDArray[np.bool_] | None = None  # their flags, if any is flagged

    def process(self, flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Per frame and column: True where ``at_least`` of the frame's samples are flagged."""
        waited = self._left
        total = waited + len(flags)
        n_frames = total // self.hop
        self._left = total - n_frames * self.hop
        if self._rest is None and not flags.any():
            return np.zeros((n_frames, self.n_columns), dtype=bool)
        waiting = (
            np.zeros((waited, self.n_columns), dtype=bool) if self._rest is None else self._rest
        )
        both = np.concatenate([waiting, flags]) if waited else flags
        used = n_frames * self.hop
        rest = both[used:]
        self._rest = rest.copy() if rest.any() else None
        counts = both[:used].reshape(n_frames, self.hop, self.n_columns).sum(axis=1)
        out: npt.NDArray[np.bool_] = counts >= self.at_least
        return out

    def skip(self, n: int) -> bool:
        """Take ``n`` samples none of which is flagged, without the frames' flags: True when
        none of them can be flagged (no sample waiting was); False, taking nothing, when
        :meth:`process` must be called instead."""
        if self._rest is not None:
            return False
        self._left = (self._left + n) % self.hop
        return True


class MovingQuantile:
    """An order statistic of the last ``length`` frames of each column.

    It ignores anything that fills less than ``1 - quantile`` of the window (a QRS complex
    leaking into trunk sEMG, a spike) and follows a contraction that fills more. Being a
    selection, not a sum, it is exact whatever the chunking.

    Parameters
    ----------
    length : int
        Window, frames.
    quantiles : sequence of float
        One quantile per column.
    """

    def __init__(self, length: int, quantiles: Sequence[float]) -> None:
        self.length = length
        self.n_columns = len(quantiles)
        self.ranks = np.array(
            [min(length - 1, max(0, int(np.ceil(q * length)) - 1)) for q in quantiles],
            dtype=np.intp,
        )
        self._kth = sorted(set(self.ranks.tolist()))
        self._columns = np.arange(self.n_columns)
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
        if len(frames) <= FEW_FRAMES:
            # A live block's few windows as one strided view: one selection call.
            # (x is a fresh contiguous array: a view on its buffer is the cheapest way there.)
            windows = np.ndarray(
                (len(frames), self.length, self.n_columns),
                dtype=x.dtype,
                buffer=x,
                strides=(x.strides[0], x.strides[0], x.strides[1]),
            )
            if len(self._kth) == 1:
                rank = self._kth[0]
                few: Array = np.partition(windows, rank, axis=1)[:, rank, :]
                return few
            part = np.partition(windows, self._kth, axis=1)
            out_few: Array = part[:, self.ranks, self._columns]
            return out_few
        windows = np.lib.stride_tricks.sliding_window_view(x, self.length, axis=0)
        part = np.partition(windows, self._kth, axis=-1)
        out: Array = np.take_along_axis(part, self.ranks[None, :, None], axis=-1)[..., 0]
        return out


class RunLength:
    """For every sample and column, how many samples the current run of equal values has lasted.

    Lost samples break a run. The count carries across blocks, so it never depends on how the
    stream was cut.
    """

    def __init__(self, n_columns: int) -> None:
        self.n_columns = n_columns
        self.reset()

    def reset(self) -> None:
        """Forget the history."""
        self._last: npt.NDArray[np.float32] | None = None
        self._last_lost = True
        self._run = np.zeros(self.n_columns, dtype=np.int64)

    def lengths(
        self, x: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64] | None:
        """:meth:`process`, or None (with the state moved past ``x``) when every sample of a
        non-empty ``x`` differs from the one before and nothing is lost: a live signal, where
        every run is one sample long, needs no run lengths counted."""
        if len(x) and self._all_new(x, lost):
            return None
        return self.process(x, lost)

    def _all_new(self, x: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_]) -> bool:
        """True, with the state moved past ``x``, when every sample of ``x`` (non-empty)
        differs from the one before and nothing is lost: the usual live signal, where every
        run is one sample long."""
        if (
            self._last is not None
            and not self._last_lost
            and not lost.any()
            and bool((x[0] != self._last).all())
            and bool((x[1:] != x[:-1]).all())
        ):
            self._last = x[-1].copy()
            self._run = np.ones(self.n_columns, dtype=np.int64)
            return True
        return False

    def process(
        self, x: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64]:
        """Run lengths, shape like ``x`` (n_samples, n_columns)."""
        n = len(x)
        if n == 0:
            return np.zeros((0, self.n_columns), dtype=np.int64)
        if self._all_new(x, lost):
            return np.ones(x.shape, dtype=np.int64)
        previous = np.empty_like(x)
        previous[1:] = x[:-1]
        if self._last is None:
            changed = np.ones_like(x, dtype=bool)
            changed[1:] = x[1:] != previous[1:]
        else:
            previous[0] = self._last
            changed = x != previous
        after_lost = np.empty_like(lost)
        after_lost[0] = self._last_lost
        after_lost[1:] = lost[:-1]
        changed |= (lost | after_lost)[:, None]
        idx = np.arange(n)[:, None]
        last_change = np.maximum.accumulate(np.where(changed, idx, -1), axis=0)
        run = np.where(last_change >= 0, idx - last_change + 1, self._run[None, :] + idx + 1)
        run[lost] = 0
        self._last = x[-1].copy()
        self._last_lost = bool(lost[-1])
        self._run = run[-1].copy()
        out: npt.NDArray[np.int64] = run
        return out
