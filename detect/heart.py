"""A heart in an sEMG channel: found from the signal, for sites no name tells.

Trunk sEMG carries the ECG (see ``EcgConfig``); a channel whose location names a trunk site
gets the ECG suppression, one that names a limb does not. A channel with no location, or
one no word list knows, is looked at instead: the first ``EcgConfig.look_s`` of it decide.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from detect.config import DetectorConfig
from detect.filters import SosFilter, bandpass_sos, emg_sos

Array = npt.NDArray[np.float64]


def heart_rates(
    x: npt.NDArray[np.floating],
    lost: npt.NDArray[np.bool_],
    fs: float,
    hop: int,
    config: DetectorConfig,
) -> list[float | None]:
    """Each column's heart rate (beats a minute) where a heartbeat runs through it, else None.

    ``x`` (n_samples, n_columns) is the first seconds of the stream, ``lost`` its lost
    samples. A beat is found by the QRS gate's rule (``EcgConfig``): a frame whose power in
    the ECG's band stands ``gate_ratio`` times over the band's median (here the median over
    the whole look) and over its power in the sEMG band. Frames closer than
    ``refractory_s`` together are one beat; the frames within ``settle_s`` of the start or
    of a lost sample say nothing. A heart runs through the column when:

    - the median interval between beats is a heart's (``rate_per_min``);
    - the intervals within ``regular_fraction`` of that median (and the beats at both ends
      of them) cover ``cover`` of the frames looked at: a contraction in those seconds hides
      beats, and the beats an sEMG burst passes for are not regular;
    - the beats' median peak in the ECG's band stands ``peak_db`` over the band's median;
    - the beats look alike: one heart repeats its QRS complex, a burst of sEMG is an
      interference pattern that never repeats (``alike``, over ``shape_s`` either side of
      each beat's largest value in the ECG's band).
    """
    ecg = config.ecg
    x = np.asarray(x, dtype=np.float64)
    n_samples, n_columns = x.shape
    n = n_samples // hop
    if n == 0:
        return [None] * n_columns
    x, lost = x[: n * hop], lost[: n * hop]
    nyq = config.bandpass.nyquist_fraction
    qrs = SosFilter(bandpass_sos(ecg.qrs_low_hz, ecg.qrs_high_hz, 2, fs, nyq), n_columns)
    emg = SosFilter(emg_sos(config.bandpass, config.notch, fs), n_columns)
    wave = qrs.filter(x, lost)
    band = wave**2
    rest = emg.filter(x, lost) ** 2
    p_qrs = band.reshape(n, hop, n_columns).mean(axis=1)
    p_emg = rest.reshape(n, hop, n_columns).mean(axis=1)
    dt = hop / fs
    # Frames that say something: not within settle_s of the start or of a lost sample.
    settle = max(1, round(config.settle_s / dt))
    index = np.arange(n)
    frame_lost = np.asarray(lost).reshape(n, hop).any(axis=1)
    last_lost = np.maximum.accumulate(np.where(frame_lost, index, -1))  # the start: frame -1
    since = index - last_lost
    good = since > settle
    looked = int(np.count_nonzero(good))
    bad = np.cumsum(~good)  # unusable frames up to each frame
    if looked == 0:
        return [None] * n_columns
    refractory = max(1, round(ecg.refractory_s / dt))
    low, high = (60.0 / r for r in reversed(ecg.rate_per_min))
    out: list[float | None] = []
    for c in range(n_columns):
        median = float(np.median(p_qrs[good, c]))
        hit = good & (p_qrs[:, c] > ecg.gate_ratio * median) & (p_qrs[:, c] > p_emg[:, c])
        frames = np.flatnonzero(hit)
        if len(frames) < 3 or median <= 0:
            out.append(None)
            continue
        # A beat: the first frame of a run of hits no more than ``refractory`` apart.
        first = np.concatenate([[True], np.diff(frames) > refractory])
        starts = frames[first]
        ends = np.append(frames[np.flatnonzero(first)[1:] - 1], frames[-1])
        peaks = np.array([p_qrs[a : b + 1, c].max() for a, b in zip(starts, ends, strict=True)])
        # Intervals between beats with no unusable frame between them.
        whole = bad[starts[1:]] == bad[starts[:-1]]
        rr = np.diff(starts)[whole] * dt
        if len(rr) < 2:
            out.append(None)
            continue
        mid = float(np.median(rr))
        regular = np.abs(rr - mid) <= ecg.regular_fraction * mid
        covered = float(np.count_nonzero(regular)) * mid / (looked * dt)
        peak_db = 10.0 * np.log10(float(np.median(peaks)) / median)
        found = (
            low <= mid <= high
            and covered >= ecg.cover
            and peak_db >= ecg.peak_db
            and _alike(wave[:, c], starts * hop, (ends + 1) * hop, round(ecg.shape_s * fs))
            >= ecg.alike
        )
        out.append(60.0 / mid if found else None)
    return out


def _alike(wave: Array, starts: Array, stops: Array, half: int) -> float:
    """How alike the beats' waveforms are: the median correlation of each beat's ``wave``
    (``half`` samples either side of its largest value) with the next beat's."""
    shapes = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        p = a + int(np.argmax(np.abs(wave[a:b])))
        if p - half < 0 or p + half > len(wave):
            continue
        s = wave[p - half : p + half] - wave[p - half : p + half].mean()
        norm = float(np.linalg.norm(s))
        if norm > 0:
            shapes.append(s / norm)
    if len(shapes) < 2:
        return 0.0
    return float(np.median([np.dot(u, v) for u, v in itertools.pairwise(shapes)]))


def heart_note(channel: str, rate: float) -> str:
    """One line for the user: a channel with no site named showed a heart."""
    return (
        f"{channel}: a heartbeat runs through it ({rate:.0f} a minute) and no body location "
        "says where it is worn: read as a trunk site, with the ECG suppression"
    )


__all__ = ["heart_note", "heart_rates"]
