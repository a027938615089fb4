"""The detection pipeline: a block of samples in, episode events out.

One code path serves live monitoring and offline replay: offline is ``reset()`` then
``process()`` over the whole signal, and any cutting of the stream into blocks gives the same
result, to the bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from detect.config import DetectorConfig
from detect.detector import POWER_FLOOR, ChannelDetector, FrameTiming
from detect.envelope import FlagFramer, Framer, MovingQuantile, RunLength
from detect.errors import ConfigError
from detect.events import Episode
from detect.filters import (
    FILL_MAX_S,
    FILL_S,
    MAINS_DETECT_S,
    SosFilter,
    acc_sos,
    bandpass_sos,
    detect_mains,
    emg_sos,
    group_delay_s,
    notch_frequencies,
    ring_s,
)
from detect.heart import heart_rates
from sensor.block import ACC, EMG, Block, sensor_groups

Array = npt.NDArray[np.float64]
#: "back of (the)": a site on the back of a limb is the limb's, not the trunk's.
BACK_OF = re.compile(r"\bback\s+of\s+(the\s+)?")


def is_trunk(location: str, words: Sequence[str]) -> bool:
    """True when a body location names a trunk site (where sEMG carries ECG)."""
    name = location.lower()
    return any(w in name for w in words)


def ecg_site(location: str, config: DetectorConfig) -> bool | None:
    """Whether an sEMG channel at ``location`` gets the ECG suppression: True or False as
    ``EcgConfig.mode`` and the location's name say, None when the signal is to tell (a name
    that is neither a trunk site nor a limb, such as "unspecified")."""
    mode = config.ecg.mode
    if config.input == "envelope":
        return False  # an envelope keeps no band to find the heart in, nor to remove it from
    if mode != "auto":
        return mode == "on"
    # "back of the thigh" (or hand, knee, neck) is named by the part it is on
    name = BACK_OF.sub("", location.lower())
    if is_trunk(name, config.ecg.trunk_words):
        return True
    if is_trunk(name, config.ecg.limb_words):
        return False
    return None


#: A run of equal values is flat only once it holds this many samples too: at 25 Hz the
#: flat run (0.1 s) was 2 samples, and an accelerometer counting in 3.9 mg steps (10 bits
#: over +-2 g) whose three axes rest at 0.8 of a step kept all three for one step in 7 % of
#: steps: flagged flat, each time followed by a second of settling, it never found a thing.
#: Ten: with noise of half a step or more an axis keeps its value for a step at most about
#: half the time, three together one time in seven, nine steps running under one in 10^7.
MIN_FLAT_SAMPLES = 10
#: A run no stream reaches: runs of equal values are never flat (an envelope's input).
NEVER = np.iinfo(np.int64).max
#: The filter an envelope goes through: none (one section passing the signal as it is).
IDENTITY = np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
#: Envelope power over the quantisation floor up to which a frame is at the device's
#: resolution (3 dB). A channel that spent most of the last seconds there rests at its
#: resolution, and its runs of equal values are a quiet channel, not a missing signal.
QUANTISED_DB_RATIO = 2.0


@dataclass(frozen=True)
class Features:
    """Frame-level features of a block: what the episode logic sees.

    Attributes
    ----------
    first_frame : int
        Index of the first frame since the stream began. On a stream with gated trunk
        channels every array below is held back ``Pipeline.lag_frames`` frames (the QRS gate
        looks that far ahead), and the frame powers of those channels are gated.
    frames : ndarray, shape (n_frames, n_channels)
        Mean square of each frame, units squared.
    power : ndarray, shape (n_frames, n_channels)
        Envelope power (robust mean square over the envelope window), units squared.
    movement : ndarray, shape (n_frames, 3 * n_channels)
        Accelerometer: each channel's three band-passed axes (frame means, in channel
        order), whose spectrum tells clonus from tremor; no columns for sEMG, whose type
        comes from the rhythm of ``frames``.
    usable : ndarray, shape (n_frames,), bool
        False where samples were lost or the filters are still settling after a gap.
    bridged : ndarray, shape (n_frames,), bool
        Frames holding lost samples that were filled (a short gap): unusable, but the filters
        went on, so the frames after them are usable at once.
    flat : ndarray, shape (n_frames, n_channels), bool
        True where a channel's raw signal is not changing at all (see ``QualityConfig``).
    beat : ndarray, shape (n_frames, n_channels), bool, or None
        True where the QRS gate capped a trunk channel's frame power (a heartbeat); None on
        a stream with no channel gated.
    """

    first_frame: int
    frames: Array
    power: Array
    movement: Array
    usable: npt.NDArray[np.bool_]
    flat: npt.NDArray[np.bool_]
    bridged: npt.NDArray[np.bool_]
    beat: npt.NDArray[np.bool_] | None


@dataclass(frozen=True)
class DetectionChannel:
    """One thing episodes are detected on: an sEMG channel or a 3-axis accelerometer sensor."""

    name: str
    columns: tuple[int, ...]
    location: str
    units: str


class Pipeline:
    """Filters, envelope and episode logic for every channel of one stream.

    Parameters
    ----------
    config : DetectorConfig
    fs : float
        Sampling rate in Hz (never assumed: it comes from the device or the file).
    channels : sequence of str
        Column names of the blocks that will be fed.
    units : sequence of str
        Unit of each column.
    locations : str or mapping
        Body location of every detection channel (one name for all, or channel -> name;
        channels not named get ``"unspecified"``).
    """

    def __init__(
        self,
        config: DetectorConfig,
        fs: float,
        channels: Sequence[str],
        units: Sequence[str],
        locations: str | Mapping[str, str] = "unspecified",
    ) -> None:
        if not (math.isfinite(fs) and fs > 0):
            raise ConfigError(f"sampling rate must be a positive number of Hz, got {fs!r}")
        self.config = config
        self.fs = fs
        self.columns = tuple(channels)
        self.units = tuple(units)

        def where(name: str) -> str:
            if isinstance(locations, str):
                return locations
            return locations.get(name, "unspecified")

        if config.signal == EMG:
            self.channels = [
                DetectionChannel(name, (i,), where(name), self.units[i])
                for i, name in enumerate(self.columns)
            ]
        else:
            self.channels = [
                DetectionChannel(name, cols, where(name), self.units[cols[0]])
                for name, cols in sensor_groups(self.columns)
            ]
        # Whether each sEMG channel gets the ECG suppression: from its location's name, or
        # (None) from its first seconds (see ``EcgConfig``).
        self._sites: list[bool | None] = [
            ecg_site(ch.location, config) if config.signal == EMG else False for ch in self.channels
        ]
        self._look_n = (
            round(config.ecg.look_s * fs) if None in self._sites and config.ecg.look_s > 0 else 0
        )
        self._trunk: list[bool] = []
        self._build([s is True for s in self._sites])
        self.reset()

    def _build(self, trunk: list[bool]) -> None:
        """Set up the filters, features and detectors, with the ECG suppression where
        ``trunk`` says (one flag per channel)."""
        config, fs = self.config, self.fs
        self._trunk = trunk
        self.hop = max(1, round(config.envelope.hop_s * fs))
        frame_fs = fs / self.hop
        window_frames = max(1, round(config.envelope.window_s * frame_fs))
        self._filters: list[tuple[SosFilter, list[int]]] = []
        # Gaps shorter than the merge gap are filled (see ``detect.filters.FILL_MAX_S``).
        fill = (
            max(FILL_S, min(config.episode.merge_gap_s, FILL_MAX_S))
            if config.quality.fill_short_gaps
            else 0.0
        )
        # Mains "auto": the cascade's notch sections, grid by grid (the last of the sections).
        self._grid_rows: dict[float, list[int]] = {}
        self._kept_rows: list[int] = []
        delays = [0.0] * len(self.channels)
        noise_gain = [0.0] * len(self.channels)
        rings = [0.0] * len(self.channels)
        quantiles = [config.envelope.quantile] * len(self.channels)
        gated: list[int] = []  # trunk channels whose QRS frames are gated (EcgConfig)
        envelope = config.input == "envelope" and config.signal == EMG
        if config.signal == EMG:
            groups: dict[bool, list[int]] = {}
            for i, on in enumerate(trunk):
                groups.setdefault(on, []).append(i)
            for ecg, idx in groups.items():
                sos = (
                    IDENTITY  # the device's envelope is the amplitude itself (see preset)
                    if envelope
                    else emg_sos(
                        config.bandpass,
                        config.notch,
                        fs,
                        highpass_hz=config.ecg.highpass_hz if ecg else None,
                    )
                )
                self._filters.append((SosFilter(sos, len(idx), fs, fill), idx))
                ring = ring_s(sos, fs)  # every grid's notches: the longest ring
                first = len(sos) - (0 if envelope else len(notch_frequencies(config.notch, fs)))
                self._kept_rows = list(range(first))  # the band-pass
                for grid in [] if envelope else config.notch.grids():
                    n_grid = len(notch_frequencies(config.notch, fs, grid))
                    self._grid_rows[grid] = list(range(first, first + n_grid))
                    first += n_grid
                if len(self._grid_rows) > 1:
                    # Delays are those of the chain the stream runs through after the first
                    # seconds: one grid's notches (50 and 60 Hz sets differ by under 0.5 ms).
                    sos = sos[self._kept_rows + next(iter(self._grid_rows.values()))]
                delay = group_delay_s(sos, fs, math.sqrt(config.bandpass.low_hz * 150.0))
                _, h = signal.sosfreqz(sos, worN=4096, fs=fs)
                gain = float(np.mean(np.abs(h) ** 2))  # white noise power through the chain
                for i in idx:
                    delays[i] = delay
                    noise_gain[i] = gain
                    rings[i] = ring
                    if ecg:
                        quantiles[i] = config.ecg.envelope_quantile
                        if config.ecg.gate:
                            gated.append(i)
            clonic_ratio = 0.0  # sEMG types come from the rhythm of frame powers
            # One filter for every channel, in column order: filter the block as it is.
            self._one_group = len(self._filters) == 1 and [
                self.channels[i].columns[0] for i in self._filters[0][1]
            ] == list(range(len(self.columns)))
        else:
            self._one_group = False
            sos = acc_sos(config.acc, fs)
            self._filters.append(
                (SosFilter(sos, len(self.columns), fs, fill), list(range(len(self.columns))))
            )
            delays = [
                group_delay_s(sos, fs, math.sqrt(config.acc.low_hz * config.acc.high_hz))
            ] * len(self.channels)
            _, h = signal.sosfreqz(sos, worN=4096, fs=fs)
            noise_gain = [float(np.mean(np.abs(h) ** 2))] * len(self.channels)
            rings = [ring_s(sos, fs)] * len(self.channels)
            clonic_ratio = config.type.clonic_peak_acc
        # The QRS gate (see EcgConfig): each beat found in the ECG's band, its frames' powers
        # capped at the envelope's; the frames wait ``lag_frames`` frames for the band to show it.
        self._gated = sorted(gated)
        self._gate_columns: slice | list[int] = (
            slice(None) if len(gated) == len(self.channels) else self._gated
        )
        self._gate_ratio = config.ecg.gate_ratio
        #: Frames the features are held back: frame k of :meth:`features` is the stream's frame
        #: k - lag_frames (trunk streams, for the QRS gate; 0 otherwise). The stream's last
        #: lag_frames frames (30 ms) never reach the episode logic; an episode still going at
        #: the end is closed as interrupted there all the same.
        self.lag_frames = math.ceil(config.ecg.gate_lead_s * frame_fs - 1e-9) if self._gated else 0
        if self._gated:
            qrs_sos = bandpass_sos(
                config.ecg.qrs_low_hz,
                config.ecg.qrs_high_hz,
                2,
                fs,
                config.bandpass.nyquist_fraction,
            )
            self._qrs_filter = SosFilter(qrs_sos, len(self._gated), fs, fill)
            # The gated channels' columns in a block (the ECG band is found in their raw values).
            self._gated_columns = [self.channels[i].columns[0] for i in self._gated]
            self._qrs_median = MovingQuantile(
                max(1, round(config.ecg.gate_median_s * frame_fs)), [0.5] * len(self._gated)
            )
            # Every channel's frames come ``lag_frames`` frames late: onsets are back-dated for it.
            delays = [d + self.lag_frames * self.hop / fs for d in delays]
        timings = [
            FrameTiming(
                hop=self.hop,
                window=window_frames * self.hop,
                fs=fs,
                delay=delay * fs,
                fill=1.0 - q,
                settle=max(window_frames, math.ceil(config.settle_s * frame_fs)),
                ring=ring * fs,
            )
            for delay, q, ring in zip(delays, quantiles, rings, strict=True)
        ]
        self.timing = timings[0]
        n = len(self.channels)
        n_features = n + len(self._gated) if config.signal == EMG else 4 * n
        self._framer = Framer(self.hop, n_features)
        self._flat_framer = FlagFramer(self.hop, n)
        self._detached_framer = FlagFramer(self.hop, n)
        self._detached_samples = (
            NEVER if envelope else max(2, round(config.quality.detached_after_s * fs))
        )
        self._fill_framer = FlagFramer(self.hop, 1, at_least=1)
        self._stall_framer = FlagFramer(self.hop, 1)
        self._runs = RunLength(len(self.columns))
        # An envelope in whole counts holds its value at rest as a matter of course.
        self._flat_samples = (
            NEVER if envelope else max(MIN_FLAT_SAMPLES, round(config.quality.flat_run_s * fs))
        )
        # A stall of the delivery (every sensor of a stream of several holding its value at
        # once) is bridged as a gap of lost samples filled would be, up to the same length.
        self._stall_samples = (
            round(fill * fs) - 1  # as the filters' longest filled gap
            if config.quality.fill_short_gaps and len(self.channels) > 1
            else 0
        )
        self._envelope = MovingQuantile(window_frames, quantiles)
        self._settle_frames = self.timing.settle
        # The quantisation noise of each channel's device (its step, the smallest change seen
        # between samples, squared over 12, through the filters) floors its envelope.
        self._noise_gain = np.asarray(noise_gain)
        width = max(len(ch.columns) for ch in self.channels)
        # Each channel's columns (repeated to one width: a minimum does not mind).
        self._channel_columns = np.array(
            [list(ch.columns) + [ch.columns[0]] * (width - len(ch.columns)) for ch in self.channels]
        )
        self._axes = np.array([len(ch.columns) for ch in self.channels], dtype=np.float64)
        self._at_floor_frames = max(1, round(config.baseline.fall_tau_s * frame_fs))
        self._find_mains = (
            config.signal == EMG and config.notch.mains_hz == "auto" and len(self._grid_rows) > 1
        )
        self._mains_n = max(1, round(MAINS_DETECT_S * fs))
        self.detectors = [
            ChannelDetector(config, timing, ch.name, ch.location, ch.units, clonic_ratio)
            for ch, timing in zip(self.channels, timings, strict=True)
        ]

    def reset(self) -> None:
        """Forget the stream; the next block is its beginning."""
        first = [s is True for s in self._sites]
        if self._trunk != first:
            self._build(first)  # the choice the last stream's look made
        self._reset_state()
        #: The look at the first seconds (see ``EcgConfig``): samples still to see, and the
        #: blocks seen (their episodes wait for it).
        self._look_left = self._look_n
        self._looked: list[Block] = []
        #: Heart rate (beats a minute) of each channel whose look found a heartbeat.
        self.heart_rates: dict[str, float] = {}

    def _reset_state(self) -> None:
        for f, _ in self._filters:
            f.reset()
        self._framer.reset()
        self._flat_framer.reset()
        self._detached_framer.reset()
        self._fill_framer.reset()
        self._stall_framer.reset()
        self._runs.reset()
        self._envelope.reset()
        if self._gated:
            self._qrs_filter.reset()
            self._qrs_median.reset()
        # The last ``lag_frames`` frames of features, held back (see ``_gate``; none usable at
        # the start).
        n, lead = len(self.channels), self.lag_frames
        self._held_x = np.zeros((lead, 2 * n + len(self._gated)))
        self._held_flags = np.zeros((lead, 2 + n), dtype=bool)
        for d in self.detectors:
            d.reset()
        self._since_lost = 0
        self._next_index: int | None = None
        self._step = np.full(len(self.columns), np.inf)  # smallest change between samples
        self._last_raw = np.full(len(self.columns), np.nan, dtype=np.float32)
        self._seen = 0  # samples the floor has looked at
        # The last fall_tau_s (3 s) of frames: at the floor or not, and how many were.
        self._at_floor = np.zeros((self._at_floor_frames, len(self.channels)), dtype=bool)
        self._at_floor_n = 0
        self._floor_row = np.zeros(len(self.channels))  # the floor at the step known now
        self.unusable_frames = 0
        #: The mains grid the notches follow: as configured, or found in the first seconds
        #: with "auto" (None until then, and when no line stands out: both sets stay).
        mains = self.config.notch.mains_hz
        self.mains_hz: float | None = float(mains) if isinstance(mains, int) else None
        self._mains_left = self._mains_n if self._find_mains else 0
        self._mains_seen: list[Block] = []

    # -- stages ---------------------------------------------------------------------------------

    def _filtered(self, block: Block) -> Array:
        x = block.samples
        if self.config.signal == EMG and self._one_group:
            f, _ = self._filters[0]
            return f.filter(x, block.lost)
        if self.config.signal == EMG:
            out = np.empty((block.n_samples, len(self.channels)))
            for f, idx in self._filters:
                cols = [self.channels[i].columns[0] for i in idx]
                out[:, idx] = f.filter(x[:, cols], block.lost)
            return out
        f, _ = self._filters[0]
        return f.filter(x, block.lost)

    def features(self, block: Block) -> Features:
        """Frame-level features of a block (see :class:`Features`)."""
        y = self._filtered(block)
        # Lost samples the filters did not fill (all of them, with filling off).
        unfilled = (
            self._filters[0][0].unfilled if self.config.quality.fill_short_gaps else block.lost
        )
        n = len(self.channels)
        emg = self.config.signal == EMG
        floored = self.config.quality.quantisation_floor
        # Equal values for the flat run are read as "not measuring" only where the signal
        # stands over its device's resolution; at it, they are a quiet channel (below).
        runs = self._runs.lengths(block.samples, block.lost)
        stalled = None
        if runs is None:  # every sample new: no run to look at
            flat_cols = detached_cols = np.zeros(block.samples.shape, dtype=bool)
        else:
            flat_cols = runs >= self._flat_samples
            detached_cols = runs >= self._detached_samples
            if self._stall_samples:
                # Every sensor holding at once, for the flat run and no longer than a gap
                # that is filled: the delivery stalled (see ``QualityConfig``).
                row = runs.min(axis=1)
                stalled = (row >= self._flat_samples) & (row <= self._stall_samples)
        if emg:
            sq = np.multiply(y, y)
            if self._gated:
                qrs = self._qrs_filter.filter(block.samples[:, self._gated_columns], block.lost)
                sq = np.hstack([sq, np.multiply(qrs, qrs)])
            flat_flags = flat_cols
            detached_flags = detached_cols if floored else flat_cols
        else:
            # Each channel's movement power, then its three axes themselves (for the spectrum).
            sq = np.empty((block.n_samples, 4 * n))
            flat_flags = np.empty((block.n_samples, n), dtype=bool)
            detached_flags = np.empty((block.n_samples, n), dtype=bool)
            for j, ch in enumerate(self.channels):
                c = list(ch.columns)
                sq[:, j] = np.sum(y[:, c] ** 2, axis=1)
                sq[:, n + 3 * j : n + 3 * j + 3] = y[:, c]
                flat_flags[:, j] = flat_cols[:, c].all(axis=1)
                if floored:
                    detached_flags[:, j] = detached_cols[:, c].all(axis=1)
        first = self._framer.next_frame
        framed, frame_lost = self._framer.process(sq, unfilled)
        bridged = self._fill_framer.process((block.lost & ~unfilled)[:, None])[:, 0]
        p_frames = framed[:, :n]
        flat = self._flat_framer.process(flat_flags)
        movement = framed[:, n:] if not emg else framed[:, n:n]
        power = self._envelope.process(p_frames)
        long_flat = None
        if floored:
            floor = self._floor(block, first, len(power))
            long_flat = self._detached_framer.process(detached_flags)
            if len(power):
                # Whether each channel spent most of the last few seconds (the resting level's
                # fall time constant) at its floor: one that rests there holds its value as a
                # matter of course. Nothing to count for a channel that was not there lately
                # (the usual one, far over its floor).
                at_floor = (power <= QUANTISED_DB_RATIO * floor) & (floor > 0)
                if at_floor.any() or self._at_floor_n:
                    # Frames at the floor among each frame's last ``_at_floor_frames`` (counted,
                    # so exact however the stream is cut).
                    seen = np.concatenate([self._at_floor, at_floor])
                    counts = np.cumsum(seen, axis=0, dtype=np.int64)
                    m = len(self._at_floor)
                    within = counts[m:] - counts[: len(at_floor)]
                    self._at_floor = seen[-m:]
                    self._at_floor_n = int((counts[-1] - counts[len(at_floor) - 1]).sum())
                    flat = flat & (2 * within <= m)
                power = np.maximum(power, floor)
        if stalled is not None and not stalled.any():
            stalled = None
        if self._stall_samples and not (
            stalled is None and self._stall_framer.skip(block.n_samples)
        ):
            if stalled is None:
                stalled = np.zeros(block.n_samples, dtype=bool)
            stall = self._stall_framer.process(stalled[:, None])[:, 0]
            if stall.any():
                # Only where a channel is flat by the rules above: channels quiet at their
                # floor hold their values as a matter of course, and their rest goes on.
                stall &= flat.any(axis=1)
                flat = flat & ~stall[:, None]
                bridged = bridged | stall
        if long_flat is not None:
            flat = flat | long_flat
        since = self._since_lost
        if since >= self._settle_frames and not frame_lost.any() and not bridged.any():
            usable = np.ones(len(frame_lost), dtype=bool)  # the usual case
            since += len(frame_lost)
        else:
            usable = np.empty(len(frame_lost), dtype=bool)
            for i, lost in enumerate(frame_lost):
                since = 0 if lost else since + 1
                usable[i] = since > self._settle_frames and not bridged[i]
            self.unusable_frames += int(np.count_nonzero(~usable))
        self._since_lost = since
        f = Features(first, p_frames, power, movement, usable, flat, bridged, None)
        if self._gated:
            f = self._gate(f, framed[:, n:])
        return f

    def _gate(self, f: Features, qrs: Array) -> Features:
        """Hold the features back ``lag_frames`` frames and cap the powers of the frames a QRS
        complex covers (from ``lag_frames`` frames before the ECG band shows it to its end) at
        the envelope's, on the gated channels (see ``EcgConfig``). sEMG only."""
        g, m, n, lead = self._gate_columns, len(qrs), len(self.channels), self.lag_frames
        median = self._qrs_median.process(qrs)
        # The ECG band stands far over its usual level and over the sEMG band itself (an
        # sEMG burst raises both, the sEMG band more).
        beat = (qrs > self._gate_ratio * median) & (qrs > f.frames[:, g])
        # The held frames, then this call's (packed: frame powers, envelope, beats; usable,
        # bridged, flat): the first m go on, the rest wait.
        x = np.concatenate([self._held_x, np.hstack([f.frames, f.power, beat])])
        flags = np.concatenate([self._held_flags, np.column_stack([f.usable, f.bridged, f.flat])])
        self._held_x, self._held_flags = x[m:], flags[m:]
        frames, power = x[:m, :n].copy(), x[:m, n : 2 * n]
        # A frame is gated when the ECG band shows a beat in it or in the ``lead`` after it.
        seen = np.zeros((len(x) + 1, len(self._gated)))
        np.cumsum(x[:, 2 * n :], axis=0, out=seen[1:])
        near = seen[lead + 1 : lead + 1 + m] > seen[:m]
        capped = np.zeros((m, n), dtype=bool)
        capped[:, g] = near
        if isinstance(g, slice):  # every channel (one location for all: the usual case)
            np.minimum(frames, power, out=frames, where=near)
        else:
            frames[:, g] = np.where(near, np.minimum(frames[:, g], power[:, g]), frames[:, g])
        return Features(
            f.first_frame,
            frames,
            power,
            f.movement,
            flags[:m, 0],
            flags[:m, 2:],
            flags[:m, 1],
            capped,
        )

    def _floor(self, block: Block, first: int, n_frames: int) -> Array:
        """Each new frame's quantisation noise power, (n_frames or 1, n_channels): the step
        known when the frame ends (the smallest change seen between consecutive samples so
        far). One row, for every frame, when the block brought no smaller step (the usual
        case once the first changes have been seen)."""
        if block.n_samples == 0:
            return self._floor_row[None, :]
        x = block.samples
        if block.lost.any():
            x = np.where(block.lost[:, None], np.float32(np.nan), x)
        # The changes between consecutive samples (NaN next to a lost one), from the last
        # sample of the block before: written in place, the usual block's few ufunc calls.
        d = np.empty(x.shape, dtype=x.dtype)
        np.subtract(x[0], self._last_raw, out=d[0])
        np.subtract(x[1:], x[:-1], out=d[1:])
        np.abs(d, out=d)
        self._last_raw = x[-1]
        seen = self._seen
        self._seen += block.n_samples
        changed = d > 0  # no change (and NaN: a lost sample) says nothing
        if not (changed & (d < self._step)).any():
            return self._floor_row[None, :]  # no change smaller than the step known
        ends = (first + np.arange(n_frames) + 1) * self.hop - 1 - seen
        d = np.where(changed, d, np.inf)
        d[0] = np.minimum(d[0], self._step)
        steps = np.minimum.accumulate(d, axis=0)
        self._step = steps[-1]
        self._floor_row = self._floor_of(self._step)
        return self._floor_of(steps[np.clip(ends, 0, len(steps) - 1)])

    def _floor_of(self, steps: Array) -> Array:
        """Quantisation noise power per channel from each column's step (the last axis)."""
        # A channel's: its column's, or its three axes' (an accelerometer: one device, one
        # step for all three, seen on whichever axis changes).
        q = steps[..., self._channel_columns].min(axis=-1)
        floor: Array = np.where(np.isfinite(q), self._axes * q**2 / 12, 0.0)
        floor *= self._noise_gain
        return floor

    def process(self, block: Block) -> list[Episode]:
        """Feed the next block of the stream; return the episode events it completes."""
        if block.channels != self.columns:
            raise ConfigError(f"block channels {block.channels} differ from {self.columns}")
        if block.fs != self.fs:
            raise ConfigError(f"block rate {block.fs} Hz differs from the pipeline's {self.fs} Hz")
        if self._next_index is not None and block.start_index != self._next_index:
            raise ConfigError(
                f"block starts at sample {block.start_index}, expected {self._next_index}: "
                "missing samples must arrive as a gap block"
            )
        self._next_index = block.stop_index
        if block.n_samples == 0:
            return []
        if self._look_left:
            return self._look(block)
        return self._run(block)

    def _look(self, block: Block) -> list[Episode]:
        """Keep the stream's first ``look_s``; once seen, choose and run them through."""
        take = min(self._look_left, block.n_samples)
        self._looked.append(block.slice(0, take) if take < block.n_samples else block)
        self._look_left -= take
        if self._look_left:
            return []
        events = self._choose_ecg()
        if take < block.n_samples:
            events += self._run(block.slice(take, block.n_samples))
        return events

    def _choose_ecg(self) -> list[Episode]:
        """Choose the ECG suppression of the channels the look was for (see ``EcgConfig``),
        then run the blocks it kept through the pipeline: their events."""
        looked, self._looked = self._looked, []
        self._look_left = 0
        if not looked:
            return []
        x = np.concatenate([b.samples for b in looked])
        lost = np.concatenate([b.lost for b in looked])
        undecided = [i for i, s in enumerate(self._sites) if s is None]
        rates = heart_rates(
            x[:, [self.channels[i].columns[0] for i in undecided]],
            lost,
            self.fs,
            self.hop,
            self.config,
        )
        trunk = list(self._trunk)
        for i, rate in zip(undecided, rates, strict=True):
            if rate is not None:
                trunk[i] = True
                self.heart_rates[self.channels[i].name] = rate
        if trunk != self._trunk:
            next_index = self._next_index
            self._build(trunk)
            self._reset_state()
            self._next_index = next_index
        events: list[Episode] = []
        for b in looked:
            events += self._run(b)
        return events

    def _run(self, block: Block) -> list[Episode]:
        left = self._mains_left
        if left and block.n_samples > left:
            # The notches change at a fixed sample, however the stream is cut.
            return self._detect(block.slice(0, left)) + self._detect(
                block.slice(left, block.n_samples)
            )
        return self._detect(block)

    def _detect(self, block: Block) -> list[Episode]:
        events = self._episodes(block)
        if self._mains_left:
            self._mains_seen.append(block)
            self._mains_left -= block.n_samples
            if self._mains_left == 0:
                self._choose_mains()
        return events

    def _choose_mains(self) -> None:
        """Keep the notches of the grid whose line stands out in the first seconds."""
        seen, self._mains_seen = self._mains_seen, []
        if any(b.lost.any() for b in seen):
            return  # not a whole look at the signal: both sets stay
        x = np.concatenate([b.samples for b in seen])
        grid = detect_mains(x, self.fs, self.config.notch)
        if grid is None:
            return
        self.mains_hz = grid
        for f, _ in self._filters:
            f.keep_sections(self._kept_rows + self._grid_rows[grid])

    def _episodes(self, block: Block) -> list[Episode]:
        f = self.features(block)
        events: list[Episode] = []
        # One conversion to lists for all channels (the per-frame logic reads lists fastest).
        levels = (10 * np.log10(np.maximum(f.power, POWER_FLOOR))).T.tolist()
        frames, flat = f.frames.T.tolist(), f.flat.T.tolist()
        emg = self.config.signal == EMG  # sEMG types come from the rhythm of the frames
        usable = f.usable.tolist()
        bridged = f.bridged.tolist() if f.bridged.any() else None
        beats = f.beat.T.tolist() if f.beat is not None and f.beat.any() else None
        for j, det in enumerate(self.detectors):
            move = None if emg else f.movement[:, 3 * j : 3 * j + 3]
            beat = None if beats is None else beats[j]
            found = det.process(
                f.first_frame, frames[j], levels[j], move, usable, flat[j], bridged, beat
            )
            if found:
                events.extend(found)
        if len(events) > 1:
            events.sort(key=lambda e: (e.decided_index, e.channel))
        return events

    def detached(self) -> list[DetectionChannel]:
        """Channels whose signal has been flat long enough to look like a detached electrode."""
        limit = self.config.quality.detached_after_s
        return [
            ch for ch, d in zip(self.channels, self.detectors, strict=True) if d.flat_s >= limit
        ]

    def flush(self) -> list[Episode]:
        """End of the stream: close open episodes as interrupted."""
        events = self._choose_ecg() if self._looked else []
        for det in self.detectors:
            events.extend(det.flush(self._framer.next_frame))
        return events


def detect(
    config: DetectorConfig,
    block: Block,
    locations: str | Mapping[str, str] = "unspecified",
) -> list[Episode]:
    """Offline detection: the live pipeline run once over a whole signal."""
    pipe = Pipeline(config, block.fs, block.channels, block.units, locations)
    return pipe.process(block) + pipe.flush()


__all__ = [
    "ACC",
    "EMG",
    "DetectionChannel",
    "Features",
    "Pipeline",
    "detect",
    "ecg_site",
    "is_trunk",
]
