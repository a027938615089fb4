"""MATLAB ``.mat`` files: how many research datasets and detection tools keep sEMG.

A ``.mat`` file holds named variables, not a recording's layout, so this reader looks for
one:

- the signals are the numeric arrays of at least ``MIN_SAMPLES`` samples, at the top level
  or one struct down (``EMG.channelData``); a matrix's longer side is time, each column a
  channel (``emg 1``, ``emg 2``...; a vector is one channel named as its variable);
- an sEMG replay takes by default the array whose name says EMG (``emg``,
  ``EMG.channelData``), else the only one there is; with several and none named so,
  ``--channels`` chooses (the error lists them); the replay names the signals left out;
- the sampling rate is a number named as rates are (``fs``, ``Fs``, ``frequency``,
  ``sampling_rate``, ``srate``...) in the signal's struct or at the top level; else
  ``--fs`` gives it;
- NaN values are lost samples;
- the values' unit is not said (``au``), nor the wall-clock start (``--start``).

MATLAB's v7.3 files are HDF5 inside, which SciPy does not read: one line says how to save
one that it does. The file is read whole (MATLAB's format is not made to be read in parts),
then replayed in blocks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import io as sio

from replay.csvio import RecordingInfo
from replay.errors import ReplayError, no_such_signals
from sensor.block import ACC, Block

#: Fewer samples than this is a parameter, not a signal (a tenth of a second at 1 kHz).
MIN_SAMPLES = 100
#: Names a sampling rate goes by (case and "_" ignored).
RATE_NAMES = frozenset(
    ("fs", "sf", "sr", "srate", "samplerate", "samplingrate", "samplingfrequency", "frequency",
     "freq", "samplefrequency", "rate", "fsamp")
)  # fmt: skip
#: Rows per block handed to the pipeline.
BLOCK_ROWS = 20_000


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace(" ", "")


def _variables(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = sio.loadmat(path, simplify_cells=True)
    except NotImplementedError:  # SciPy: "Please use HDF reader for matlab v7.3 files"
        raise ReplayError(
            path,
            "a MATLAB v7.3 file (HDF5), which spasmwatch does not read: save it in MATLAB "
            "with save(name, '-v7'), or as CSV",
        ) from None
    except (ValueError, TypeError, OSError) as exc:
        raise ReplayError(path, f"not a MATLAB file spasmwatch reads: {exc}") from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _signal(value: object) -> npt.NDArray[np.float64] | None:
    """A value as (samples, channels), if it is a signal."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
        return None
    x = np.asarray(value, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        return None
    if x.shape[1] > x.shape[0]:
        x = x.T
    return x if x.shape[0] >= MIN_SAMPLES else None


def _rate(value: object) -> float | None:
    try:
        fs = float(np.asarray(value).reshape(-1)[0]) if np.asarray(value).size == 1 else None
    except (TypeError, ValueError):
        return None
    return fs if fs is not None and math.isfinite(fs) and fs > 0 else None


class MatRecording:
    """A recording found in a MATLAB ``.mat`` file.

    Parameters
    ----------
    path : path
    signal : {"emg"}
    channels : sequence of str, optional
        Channels by name (``emg 3``, or a vector's variable name); by default those of the
        array named EMG.
    fs : float, optional
        The sampling rate, when the file does not say it.

    Raises
    ------
    ReplayError
        If the file holds no signal, several and none chosen, or no rate.
    """

    def __init__(
        self,
        path: str | Path,
        signal: str,
        channels: Sequence[str] | None = None,
        fs: float | None = None,
    ) -> None:
        self.path = Path(path)
        if signal == ACC:
            raise ReplayError(self.path, "a MATLAB file replays as sEMG (--signal emg) only")
        if not self.path.exists():
            raise ReplayError(self.path, "cannot open: No such file or directory")
        found: dict[str, tuple[npt.NDArray[np.float64], float | None]] = {}
        top = _variables(self.path)
        top_rate = next(
            (r for k, v in top.items() if _key(k) in RATE_NAMES and (r := _rate(v))), None
        )
        for name, value in top.items():
            if isinstance(value, dict):  # a struct: its fields, and the rate it holds
                rate = next(
                    (r for k, v in value.items() if _key(k) in RATE_NAMES and (r := _rate(v))),
                    None,
                )
                for field, inner in value.items():
                    if (x := _signal(inner)) is not None:
                        found[f"{name}.{field}"] = (x, rate or top_rate)
            elif (x := _signal(value)) is not None:
                found[name] = (x, top_rate)
        if not found:
            raise ReplayError(self.path, f"no signal among its variables ({', '.join(top)})")
        names: dict[str, tuple[str, int]] = {}  # channel -> (variable, column)
        for var, (x, _) in found.items():
            if x.shape[1] == 1:
                names[var] = (var, 0)
            else:
                for c in range(x.shape[1]):
                    names[f"{var} {c + 1}"] = (var, c)
        if channels is not None:
            missing = [n for n in channels if n not in names]
            if missing:
                raise ReplayError(self.path, no_such_signals(missing, list(names)))
            chosen = list(channels)
        else:
            emg = [v for v in found if "emg" in v.lower()]
            pick = emg if len(emg) == 1 else list(found) if len(found) == 1 else []
            if not pick:
                listed = ", ".join(
                    f"{v} ({x.shape[0]} x {x.shape[1]})" for v, (x, _) in found.items()
                )
                raise ReplayError(
                    self.path, f"holds several signals: {listed}; choose with --channels"
                )
            chosen = [n for n, (v, _) in names.items() if v == pick[0]]
        variables = {names[n][0] for n in chosen}
        lengths = {v: found[v][0].shape[0] for v in sorted(variables)}
        if len(set(lengths.values())) > 1:
            said_lengths = ", ".join(f"{v} {n}" for v, n in lengths.items())
            raise ReplayError(
                self.path, f"the channels chosen have different numbers of samples: {said_lengths}"
            )
        rates = {r for v in variables if (r := found[v][1]) is not None}
        if len(rates) > 1:
            raise ReplayError(
                self.path, f"the channels chosen say different rates: {sorted(rates)}"
            )
        said = rates.pop() if rates else None
        if said is not None and fs is not None and said != fs:
            raise ReplayError(self.path, f"says its rate is {said:g} Hz, not --fs {fs:g}")
        rate = said or fs
        if rate is None:
            raise ReplayError(
                self.path, "does not say its sampling rate (no fs variable): give it with --fs"
            )
        self._x = np.column_stack([found[names[n][0]][0][:, names[n][1]] for n in chosen])
        self.info = RecordingInfo(
            self.path,
            tuple(chosen),
            ("au",) * len(chosen),
            rate,
            None,
            {"variables": ", ".join(sorted(variables))},
            {},
        )
        #: The other signals, by variable, when the EMG array was chosen for the caller.
        self.left_out = (
            () if channels is not None else tuple(v for v in found if v not in variables)
        )
        self.truth: list[dict[str, object]] = []
        self.damaged = False
        self.cut = None

    def blocks(self) -> Iterator[Block]:
        """The signal in consecutive blocks; NaN values are lost samples (read as 0)."""
        for i in range(0, len(self._x), BLOCK_ROWS):
            x = self._x[i : i + BLOCK_ROWS]
            lost: npt.NDArray[np.bool_] = np.asarray(np.isnan(x).any(axis=1))
            samples = np.where(np.isnan(x), 0.0, x).astype(np.float32)
            info = self.info
            yield Block(samples, info.fs, i, info.channels, info.units, lost)

    def close(self) -> None:
        """Nothing is held open (the file was read whole)."""


__all__ = ["MatRecording"]
