"""The one block type that carries samples through every stage of spasmwatch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sensor.errors import SensorError

#: Signal kinds spasmwatch detects on.
EMG = "emg"
ACC = "acc"
SIGNAL_KINDS = (EMG, ACC)

#: Suffixes that name the axes of one 3-axis accelerometer.
_AXIS_SUFFIXES = (("_x", "_y", "_z"), (".x", ".y", ".z"), (" x", " y", " z"), ("x", "y", "z"))


@dataclass(frozen=True, eq=False)
class Block:
    """A run of consecutive samples from one stream.

    Parameters
    ----------
    samples : ndarray, shape (n_samples, n_channels), float32
        Time-major samples in ``units``. Lost samples hold 0 and are flagged in ``lost``.
    fs : float
        Sampling rate in Hz.
    start_index : int
        Absolute index of the first sample since the stream began (sample 0 at time 0).
    channels : tuple of str
        One name per column.
    units : tuple of str
        One unit per column: ``"uV"`` for sEMG, ``"g"`` for acceleration, ``"counts"`` for raw
        device values.
    lost : ndarray, shape (n_samples,), bool
        True where a sample never arrived (a dropped packet, a lost link). A stage treats those
        samples as unusable and never bridges them.
    """

    samples: npt.NDArray[np.float32]
    fs: float
    start_index: int
    channels: tuple[str, ...]
    units: tuple[str, ...]
    lost: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 2:
            raise SensorError(
                f"block samples must be 2-D (n_samples, n_channels), got {samples.ndim}-D"
            )
        if samples.dtype != np.float32:
            samples = samples.astype(np.float32)
        if samples.shape[1] != len(self.channels):
            raise SensorError(
                f"block has {samples.shape[1]} columns but {len(self.channels)} channel names"
            )
        if len(self.units) != len(self.channels):
            raise SensorError(
                f"block has {len(self.channels)} channels but {len(self.units)} units"
            )
        if not (np.isfinite(self.fs) and self.fs > 0):
            raise SensorError(f"block sampling rate must be a positive number, got {self.fs!r}")
        if self.start_index < 0:
            raise SensorError(f"block start_index must be >= 0, got {self.start_index}")
        lost = np.asarray(self.lost, dtype=bool)
        if lost.shape == (0,) and samples.shape[0] != 0:
            lost = np.zeros(samples.shape[0], dtype=bool)
        if lost.shape != (samples.shape[0],):
            raise SensorError(
                f"block lost mask has shape {lost.shape}, expected ({samples.shape[0]},)"
            )
        if not np.isfinite(samples.sum(dtype=np.float64)):  # one cheap pass for the usual case
            samples = self._finite(samples, lost)
        samples.flags.writeable = False
        lost.flags.writeable = False
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "lost", lost)
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "units", tuple(self.units))

    def _finite(
        self, samples: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float32]:
        """The samples with lost ones that are not numbers set to 0 (as lost samples hold);
        a sample that is not a number and not lost is refused: one NaN would silence every
        filter after it."""
        bad = ~np.isfinite(samples)
        rows = np.flatnonzero(bad.any(axis=1) & ~lost)
        if rows.size:
            r = int(rows[0])
            c = int(np.flatnonzero(bad[r])[0])
            raise SensorError(
                f"sample {self.start_index + r} of channel {self.channels[c]!r} is not a "
                f"finite number ({samples[r, c]}); mark a missing sample lost instead"
            )
        return np.where(bad, np.float32(0.0), samples)

    @property
    def n_samples(self) -> int:
        """Number of samples (rows)."""
        return int(self.samples.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of channels (columns)."""
        return int(self.samples.shape[1])

    @property
    def stop_index(self) -> int:
        """Absolute index one past the last sample."""
        return self.start_index + self.n_samples

    def slice(self, start: int, stop: int) -> Block:
        """Rows ``[start, stop)`` of this block (relative), as a block of the same stream."""
        return Block(
            self.samples[start:stop],
            self.fs,
            self.start_index + start,
            self.channels,
            self.units,
            self.lost[start:stop],
        )

    @classmethod
    def gap(
        cls,
        n_samples: int,
        fs: float,
        start_index: int,
        channels: Sequence[str],
        units: Sequence[str],
    ) -> Block:
        """A block of ``n_samples`` lost samples: what a dropped packet leaves in the stream."""
        return cls(
            samples=np.zeros((n_samples, len(channels)), dtype=np.float32),
            fs=fs,
            start_index=start_index,
            channels=tuple(channels),
            units=tuple(units),
            lost=np.ones(n_samples, dtype=bool),
        )


def concat(blocks: Sequence[Block]) -> Block:
    """Join consecutive blocks of one stream into one block.

    Raises
    ------
    SensorError
        If the blocks are not consecutive or differ in rate or channels.
    """
    if not blocks:
        raise SensorError("cannot join an empty list of blocks")
    first = blocks[0]
    index = first.start_index
    for b in blocks:
        if b.start_index != index or b.fs != first.fs or b.channels != first.channels:
            raise SensorError(
                f"blocks are not consecutive: expected sample {index}, got {b.start_index}"
            )
        index = b.stop_index
    if len(blocks) == 1:
        return first
    return Block(
        samples=np.concatenate([b.samples for b in blocks], axis=0),
        fs=first.fs,
        start_index=first.start_index,
        channels=first.channels,
        units=first.units,
        lost=np.concatenate([b.lost for b in blocks]),
    )


def sensor_groups(channels: Sequence[str]) -> list[tuple[str, tuple[int, int, int]]]:
    """Group accelerometer columns into 3-axis sensors.

    Columns come in groups of three (x, y, z). A sensor is named by its first column's name
    without the axis suffix (``wrist_x`` -> ``wrist``); a name with no recognised suffix is
    kept as it is.

    Returns
    -------
    list of (name, (ix, iy, iz))
        One entry per sensor with the column indices of its axes.
    """
    if len(channels) == 0 or len(channels) % 3 != 0:
        raise SensorError(
            f"accelerometer data needs columns in groups of three (x, y, z), got {len(channels)}"
        )
    groups = []
    for i in range(0, len(channels), 3):
        name = channels[i]
        for suffixes in _AXIS_SUFFIXES:
            if name.lower().endswith(suffixes[0]) and len(name) > len(suffixes[0]):
                name = name[: -len(suffixes[0])]
                break
        groups.append((name, (i, i + 1, i + 2)))
    return groups
