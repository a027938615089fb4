"""The episode logic: adaptive resting level, thresholds with hysteresis, timing rules, type.

It works on frames (``EnvelopeConfig.hop_s``, 10 ms by default) of the RMS envelope of one
channel and keeps a fixed amount of state whatever the length of the stream.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detect.config import DetectorConfig
from detect.errors import ConfigError
from detect.events import Episode, EpisodeType

IDLE, CANDIDATE, ACTIVE, TWITCH = 0, 1, 2, 3
#: One uV in units sEMG may come in (absolute thresholds are set in uV).
UV_IN = {"uV": 1.0, "mV": 1e-3, "V": 1e-6, "nV": 1e3}
#: Power floor, so a perfectly flat (quantised) signal has a finite level in dB.
POWER_FLOOR = 1e-20
#: Frame powers are averaged over this long before looking for a rhythm, s.
RHYTHM_SMOOTH_S = 0.03
#: A type window's frame amplitudes are capped at this quantile of the window before its
#: rhythm is measured, so what fills under a tenth of it (a QRS complex on the trunk, about
#: 0.1 s a beat; a spike) cannot decide the verdict, while clonic bursts (half of each
#: period) keep their shape below their tops. On 16 simulated recordings apart from the
#: suite (seeds 77001-77016): type agreement 72 -> 77 % (0.8: 75 %), every F1 unchanged.
TYPE_CAP_QUANTILE = 0.9
#: Pooled over N type windows (their contrast curves averaged), resting noise's rhythm
#: contrast shrinks as N ** -0.42: band-passed white noise, 30 min at each of 200, 250, 500,
#: 1000 and 2000 Hz, 95th and 99th percentiles alike (N = 1 to 32). A stretch of N windows
#: beats when its pooled contrast clears ``TypeConfig.rhythm_contrast`` scaled the same way,
#: with N no more than POOL_MAX_WINDOWS (16 s): measured that far, not extrapolated.
POOL_EXPONENT = 0.42
POOL_MAX_WINDOWS = 32
#: An episode is mixed only when the part with the rhythm clears its threshold this many
#: times over: the split is chosen among many, so by chance one part of plain noise often
#: beats. On resting noise (band-passed white noise, 200 Hz and 1 kHz, 30 min each, cut into
#: episodes of 2-32 windows) the split calls under 5 % of them mixed with 1.3 (up to 25 %
#: with 1.0).
MIXED_STRICT = 1.3
#: sEMG: an episode of one type window (0.5-1 s) cannot be split, so that window
#: holds both parts of a mixed spasm. A window whose clonus fills a share f of it beats about f
#: times as strongly as a clonic one, so one whose contrast reaches this share of its
#: threshold, but not the threshold, beats over part of it: mixed. Short tonic episodes read
#: far under it: their window also holds the rise and the fall, and a hump's autocorrelation
#: falls with the lag. Measured on one-window episodes of simulated recordings apart from the
#: suite (the study set and seeds 78001-78012, 66 of them): tonic at most 0.41 of the threshold
#: (95th percentile 0.21), mixed median 0.61 (9 of 20 between 0.5 and 1), clonic 1.05 and over.
#: The cost is at low rates, where a second is noisier: steady contractions of 0.7-0.9 s at
#: 250 Hz read mixed 3 times in 36 (none at 1 kHz), and of the 250 Hz tibialis recording's 56
#: voluntary bursts 3 more read mixed (6 not tonic, was 3).
MIXED_PART = 0.5
#: An episode keeps at most this many type windows' curves; past it, neighbours are pooled in
#: pairs (the verdict's split points get coarser, its state stays bounded).
MAX_TYPE_WINDOWS = 256
#: Accelerometer: a spectrum's peak holds the power within this much of its frequency (the
#: Hann window's main lobe is 2 Hz wide each side of a 1 s window's line; 1.5 Hz keeps most
#: of a line and little of the noise beside it).
PEAK_HZ = 1.5
#: A peak up to half the 1 s window's resolution (1 Hz) above the clonus band still counts
#: as in it: a clonus at 8 Hz is found at 7.6-8.1 Hz.
PEAK_SLACK_HZ = 0.5
#: The stream's start is checked for a contraction taken for rest this long after the warm-up
#: (the resting level's rise time constant: the span over which the level learnt would
#: otherwise stand).
START_S = 30.0
#: A mean absolute deviation is this many times the median one (normal data: sqrt(2/pi) /
#: 0.6745).
MAD_TO_MEAN = 1.18
#: The rest spread starts here (dB) and is learnt during the warm-up.
INITIAL_SPREAD_DB = 1.0
#: Twitches: brief jerks under 0.3 s are not spasms. An accelerometer candidate whose energy
#: lies for more than TWITCH_SHARE within TWITCH_S is one, however long the band-pass rings.
TWITCH_S = 0.3
TWITCH_SHARE = 0.8
#: ... unless it is still going: its latest TWITCH_S holds at least this share of its densest.
#: Simulated ankle accelerometers at 25-100 Hz, apart from the bench: at confirmation a jerk's
#: latest 0.3 s hold at most 0.16 of its densest in 95 % of jerks, a spasm's at least 0.68.
TWITCH_LATEST = 0.5
#: A contraction released from its peak (``ThresholdConfig.release_db``) but still over the
#: on threshold this long after is going on, weaker, not fading out. Measured over the 206
#: releases in every real recording here (the Myo armband's gestures, biceps contractions,
#: the tibialis bursts, the UCI thigh muscles), a contraction fading out fell under the on
#: threshold within 1.41 s (95 % within 0.43 s, all but three within 0.75 s); a flexor
#: spasm's tonic phase after its phasic burst, or a spasm fading over tens of seconds, stays
#: over it for seconds.
STEADY_S = 2.0
#: A frame is the contraction's own activity, not the filter chain's ring, when its power
#: stands this far over the ring of the frames before it. A 10 ms frame of a 50-60 Hz ring
#: holds 1-1.2 half periods, so its power lies within 0.7 dB of the exponential; the rest
#: is room for the noise under the ring. At 30-50 dB over rest the notch (Q 10) rang twitches
#: of 0.13-0.24 s out to 0.5-0.6 s: on 24 simulated recordings (seeds 7101-7108, 30, 40 and
#: 50 dB, 250 Hz-2 kHz, 3 min each) false episodes 1, 1 and 5 -> 0, 1 and 2 (the rest:
#: heartbeats on the trunk and a neck at 250 Hz); the suite and the study set unchanged.
#: The frames the QRS gate capped are the heart's, never activity: on the same recordings
#: (1, 1 and 2 false episodes before) 1, 1 and 1; a beat 0.4 s after a neck's twitch began no
#: longer carries it. Left: a lone 2-sample frame of rest over the on threshold after a
#: twitch at 250 Hz, and a beat holding a twitch's envelope over the off threshold at
#: 2 kHz. The suite and the study set unchanged case by case.
LIVE_MARGIN_DB = 3.0
#: The peak amplitude is the largest RMS over this long (the usual short sEMG RMS window).
PEAK_WINDOW_S = 0.1
#: A contraction is still going when most of the last NOW_S of frames are over the on
#: threshold (three of five 10 ms frames: a median, so one spike cannot make it).
NOW_S = 0.05


def _blocked(usable: Sequence[bool], flat: Sequence[bool]) -> list[int]:
    """Indices of the frames the quiet-frame fast path must leave to the long way, in order:
    found once per call (searching again at each return to the fast path made a whole
    recording in one call take time growing with its square)."""
    if False not in usable and True not in flat:
        return []
    return [i for i, (u, f) in enumerate(zip(usable, flat, strict=True)) if f or not u]


@dataclass(frozen=True)
class FrameTiming:
    """How frames map to samples, and the chain's delays in samples."""

    hop: int
    window: int  # envelope window, samples
    fs: float
    delay: float  # filter group delay, samples
    fill: float  # share of the envelope window a contraction must fill to show
    settle: int  # frames to wait after a flat stretch
    ring: float = 0.0  # the filter chain's longest ring (its slowest pole's time constant), samples


class ChannelDetector:
    """Detect episodes on one channel from its envelope frames.

    Parameters
    ----------
    config : DetectorConfig
    timing : FrameTiming
    channel, location, units : str
    clonic_ratio : float
        Accelerometer: share of the movement spectrum's power in its peak, when the peak lies
        in the clonus band, over which a stretch is clonic.
    """

    def __init__(
        self,
        config: DetectorConfig,
        timing: FrameTiming,
        channel: str,
        location: str,
        units: str,
        clonic_ratio: float,
    ) -> None:
        self.config = config
        self.timing = timing
        self.channel = channel
        self.location = location
        self.units = units
        self.clonic_ratio = clonic_ratio
        th = config.threshold
        # Absolute thresholds (the AASM preset's 8 and 2 uV) in this channel's units.
        self._per_uv = 1.0
        if th.on_above > 0 or th.off_above > 0:
            per_uv = UV_IN.get(units.replace("µ", "u").replace("μ", "u"))
            if per_uv is None:
                raise ConfigError(
                    f"channel {channel} is in {units!r}, but the {config.preset} detector's "
                    f"thresholds ({th.on_above:g} and {th.off_above:g} uV over rest) need sEMG "
                    "in uV, mV or V"
                )
            self._per_uv = per_uv
        frame_s = timing.hop / timing.fs
        b = config.baseline
        self._a_rise = 1 - math.exp(-frame_s / b.rise_tau_s)
        self._a_fall = 1 - math.exp(-frame_s / b.fall_tau_s)
        self._a_warm = 1 - math.exp(-frame_s / b.warmup_tau_s)
        self._a_spread = 1 - math.exp(-frame_s / config.threshold.spread_tau_s)
        th = config.threshold
        # The spread at which the on margin reaches its ceiling (``ThresholdConfig.on_max_db``).
        self._spread_max = (
            th.on_max_db / th.on_spread if th.on_max_db is not None and th.on_spread else math.inf
        )
        self._warm_frames = round(b.warmup_s / frame_s)
        self._detached_frames = max(1, round(config.quality.detached_after_s / frame_s))
        lost_s = config.quality.relearn_after_lost_s
        # Unusable frames in a row (lost, then the filters' settling) that mean a long gap.
        self._relearn_frames = (
            math.inf if lost_s is None else timing.settle + max(1, round(lost_s / frame_s))
        )
        # The start check ends this many frames after the warm-up's first.
        self._start_frames = self._warm_frames + round(START_S / frame_s)
        self._min_duration = config.episode.min_duration_s * timing.fs  # samples
        longest = config.episode.max_duration_s
        self._max_frames = math.inf if longest is None else round(longest / frame_s)
        self._gap_frames = max(1, math.ceil(config.episode.merge_gap_s / frame_s - 1e-9))
        self._steady_frames = max(self._gap_frames, round(STEADY_S / frame_s))
        self._type_frames = max(1, round(config.type.window_s / frame_s))
        self._type_hop = max(1, self._type_frames // 2)
        # A contraction not yet confirmed that falls under its off threshold for longer than
        # clonus leaves between its bursts (half a period of the slowest, 1 / (2 * 3 Hz)) has
        # let go: within the merge gap only a new contraction (over the on threshold) goes on
        # with it. Without this, resting-envelope wander 2-3 dB over rest 0.3-0.5 s after a
        # twitch carried the twitch to the minimum duration (ECG on the trunk widens that wander).
        self._let_go_frames = math.ceil(1 / (2 * config.type.band_low_hz) / frame_s - 1e-9)
        # A whole period of the fastest clonus, frames.
        self._tail_frames = max(1, math.ceil(1 / config.type.band_high_hz / frame_s - 1e-9))
        # An episode takes frames in until it is over: the envelope's lag after the offset,
        # then the merge gap (a held episode takes no more).
        self._tail_keep = math.ceil(timing.window / timing.hop) + self._gap_frames + 2
        frame_fs = 1.0 / frame_s
        self._lags = np.arange(
            max(2, math.floor(frame_fs / config.type.band_high_hz)),
            max(3, math.ceil(frame_fs / config.type.band_low_hz)) + 1,
        )
        self._use_rhythm = config.signal == "emg"
        # Accelerometer: the type window's spectrum, zero-padded to an eighth of its
        # resolution, over the movement band.
        self._nfft = 8 * 2 ** math.ceil(math.log2(self._type_frames))
        freqs = np.fft.rfftfreq(self._nfft, frame_s)
        top = min(config.acc.high_hz, 0.45 * frame_fs)
        self._spec_bins = np.flatnonzero((freqs >= config.type.band_low_hz) & (freqs <= top))
        self._spec_hz = freqs[self._spec_bins]
        # Powers averaged over 30 ms: a few tens of samples even at 200 Hz, still a quarter
        # of the shortest clonus period (125 ms).
        self._smooth = max(1, round(RHYTHM_SMOOTH_S * frame_fs))
        self._peak_frames = max(1, round(PEAK_WINDOW_S / frame_s))
        self._now_frames = min(self._peak_frames, max(1, round(NOW_S / frame_s)))
        self._twitch_frames = max(1, round(TWITCH_S / frame_s))
        # sEMG: how fast the chain's longest ring falls, dB of frame power a frame (a Q-10
        # notch at 50 Hz: 1.36 dB a 10 ms frame), and how long a contraction's own activity
        # must last, not the ring after it, before its envelope may confirm it (where the ring
        # could carry a twitch to the minimum duration: see ``_ring_carries``).
        self._ring_db = (
            20 * math.log10(math.e) * timing.hop / timing.ring
            if config.signal == "emg" and timing.ring > 0
            else math.inf
        )
        self._live_min = TWITCH_S * timing.fs
        # Activity that pauses for longer than a period of the slowest clonus has stopped.
        self._live_pause = math.ceil(1 / config.type.band_low_hz / frame_s)
        # Only the accelerometer's narrow 3-12 Hz band rings long enough (about 0.5 s) to make
        # a jerk look like a spasm; the sEMG band rings for a few tens of ms, and brief real
        # sEMG bursts (ballistic movements, short spasms) must not be mistaken for twitches.
        self._check_twitch = config.signal == "acc"
        self._cand_max = max(1, round(4.0 / frame_s))
        rh = config.rhythm
        self._rhythm_on = rh.enabled and config.signal == "emg"
        self._rhythm_frames = max(1, round(rh.window_s / frame_s))
        self._rhythm_step = max(1, round(rh.step_s / frame_s))
        self._gate = 10 ** (rh.gate_db / 10)
        self._keep = 2 * self._rhythm_frames + self._peak_frames + self._gap_frames + 2
        th = config.threshold
        # What the per-frame logic reads, gathered once. Thresholds are in dB when they are
        # all relative (the default); the AASM preset's absolute uV margins go through powers.
        self._constants = (
            th.on_above == 0.0 and th.off_above == 0.0,
            th.on_spread if th.spread else 0.0,
            th.off_spread if th.spread else 0.0,
            th.spread_cap,
            th.release_db,
            timing.settle,
            th.on_db,
            th.off_db,
            self._a_rise,
            self._a_fall,
            self._a_spread,
            self._rhythm_on,
            rh.gate_db,
            self._spread_max,
        )
        self._candidate_k = th.candidate_spread if th.spread else 0.0
        # The idle fast path works in dB (the AASM preset's uV margins take the long way).
        self._quiet_ok = self._constants[0]
        self._idle_constants = (
            th.off_spread if th.spread else 0.0,
            th.spread_cap,
            timing.settle,
            th.off_db,
            self._a_rise,
            self._a_fall,
            self._a_spread,
            self._rhythm_on,
            self._rhythm_frames,
            self._rhythm_step,
            self._gate,
            self._spread_max,
        )
        self.reset()

    def reset(self) -> None:
        """All state is set here."""
        self.baseline_db: float | None = None
        self.spread_db = INITIAL_SPREAD_DB
        self.level_db: float | None = None
        self._live_top = -math.inf  # the ring of the episode's frames so far, dB
        self._live_k = 0  # the episode's last frame of activity
        self._live_floor = math.inf  # the on threshold at its start, dB
        self._live_from = -1
        self._flat_frames = 0
        self._since_flat = self.timing.settle + 1
        self._warm = 0
        self.state = IDLE
        self._rise: int | None = None
        self._onset = 0
        self._last_above = 0
        self._onset_sample = 0
        self._cand_p: list[float] = []
        self._sum_p = 0.0
        self._top_db = -math.inf
        self._n = 0
        self._acc_k = 0  # the last frame taken into the episode
        # The episode's latest frames (index, power): those after its offset are taken out
        # of its mean when it ends.
        self._tail: deque[tuple[int, float]] = deque(maxlen=self._tail_keep)
        self._last_rest = 0
        self._end_at: int | None = None
        # The last frame of an episode under its off threshold that was not held up by a
        # released contraction still over the on threshold (see process).
        self._last_low = 0
        self._peak_p = 0.0
        self._base_p = 0.0
        # The episode's last type window of frames (a ring), judged every half window.
        self._win_p = np.zeros(self._type_frames)
        self._win_m = np.zeros((self._type_frames, 3))
        self._ep_frames = 0
        self._windows = 0
        # Each type window's curve (sEMG: its rhythm contrast at each period; accelerometer:
        # its movement spectrum), summed over the windows pooled in it, and how many, in order.
        self._curves: list[npt.NDArray[np.float64]] = []
        self._curve_n: list[int] = []
        self._curve_end: list[int] = []  # the frame each window (or pooled stretch) ends at
        self._begin_k = 0  # the frame the episode began at
        # The last frames (powers and levels; at least ``_keep`` of them), and the first frame
        # of the usable stretch the latest belong to: the rhythm window, a held episode's
        # frames, the peak's 100 ms and the latest 50 ms are read from them.
        self._blk_hp: list[float] = []
        self._blk_hdb: list[float] = []
        self._blk_base = 0  # frame index of the first frame kept
        self._beat_frames: set[int] = set()  # the kept frames the QRS gate capped
        self._valid_from = 0
        self._wsum = 0.0  # frame powers of the rhythm window (as much of it as is usable)
        # The rhythm start: the resting mean frame power, the end of the last episode.
        self._rest_p = 0.0
        self._ended = -1
        self._by_rhythm = False
        self._held = 0  # frame where an episode was held (0: not held)
        self._unbroken = False  # the candidate has stayed over the off threshold throughout
        self._snapshot: tuple[float | None, float] = (None, INITIAL_SPREAD_DB)
        # The stream's start, while the rest learnt in the warm-up may be a contraction (see
        # :meth:`_start_check`): the warm-up's first frame, the movement since then (the
        # accelerometer's type needs it to run the start again), the current
        # run of frames under the resting level (its first frame and the resting level then).
        self._start_from: int | None = None
        self._start_m: list[npt.NDArray[np.float64]] = []
        self._drop: tuple[int, float] | None = None
        self._warm_min = math.inf  # the warm-up's lowest envelope, dB
        # Flat long enough to look like a detached electrode: the rest is learnt again once
        # the signal comes back (the electrode may sit elsewhere, its contact be another).
        self._relearn = False
        self._unusable = 0  # unusable frames in a row (lost, then settling)
        # The latest frame taken as rest (idle and under the off threshold, or warming up).
        self._quiet_at = 0

    @property
    def flat_s(self) -> float:
        """How long the raw signal has been flat, s (0 when it is not)."""
        return self._flat_frames * self.timing.hop / self.timing.fs

    @property
    def in_episode(self) -> bool:
        """True while a confirmed episode is going on."""
        return self.state == ACTIVE

    @property
    def on_threshold_db(self) -> float | None:
        """Where the envelope must rise to start an episode, dB (None while warming up)."""
        if self.baseline_db is None or self._warm > 0:
            return None
        return 10 * math.log10(self._on_power(10 ** (self.baseline_db / 10)))

    # -- thresholds ---------------------------------------------------------------------------

    def _threshold_power(self, base_p: float, db: float, above: float) -> float:
        rest = math.sqrt(base_p)
        level = max(rest * 10 ** (db / 20), rest + above * self._per_uv)
        return level * level

    def _on_power(self, base_p: float) -> float:
        th = self.config.threshold
        p = self._threshold_power(base_p, th.on_db, th.on_above)
        if th.spread:
            p = max(p, base_p * 10 ** (th.on_spread * self.spread_db / 10))
        return p

    def _off_power(self, base_p: float) -> float:
        th = self.config.threshold
        p = self._threshold_power(base_p, th.off_db, th.off_above)
        if th.spread:
            p = max(p, base_p * 10 ** (th.off_spread * self.spread_db / 10))
        return p

    def _track_rest(self, x: float, a: float, a_spread: float) -> None:
        """Follow the resting level (an asymmetric running mean) and its spread."""
        assert self.baseline_db is not None
        deviation = min(
            abs(x - self.baseline_db), self.config.threshold.spread_cap * self.spread_db
        )
        self.spread_db = min(
            self.spread_db + (deviation - self.spread_db) * a_spread, self._spread_max
        )
        self.baseline_db += (x - self.baseline_db) * a

    # -- per frame ----------------------------------------------------------------------------

    def process(
        self,
        first_frame: int,
        frames: Sequence[float],
        levels: Sequence[float],
        movement: npt.NDArray[np.float64] | None,
        usable: Sequence[bool],
        flat: Sequence[bool],
        bridged: Sequence[bool] | None = None,
        beat: Sequence[bool] | None = None,
    ) -> list[Episode]:
        """Run the episode logic over frames ``first_frame ...``.

        Parameters
        ----------
        frames : sequence of float, length n_frames
            Mean square of each frame, units squared.
        levels : sequence of float
            Envelope power in dB (10 log10 of units squared).
        movement : ndarray, shape (n_frames, 3), or None
            Accelerometer: the three band-passed axes (frame means); None for sEMG.
        usable : sequence of bool
            False where the signal was lost or is still settling.
        flat : sequence of bool
            True where this channel's raw signal is not changing (nothing measured).
        bridged : sequence of bool, optional
            True where the frame held lost samples that were filled (a short gap): time
            passes, nothing is decided, an episode going on goes on.
        beat : sequence of bool, optional
            True where the QRS gate capped the frame (a trunk channel's heartbeat): the
            heart's activity, never the contraction's own (see ``_live``).

        Plain sequences rather than arrays: the loop reads them one value at a time, which is
        several times cheaper on lists.
        """
        if not self._blk_hp:
            self._blk_base = first_frame
        self._blk_hp.extend(frames)
        self._blk_hdb.extend(levels)
        if beat is not None:
            self._beat_frames.update(first_frame + i for i, b in enumerate(beat) if b)
        if self._start_from is not None and movement is not None:
            self._start_m.append(np.array(movement))  # a copy: the block's arrays are not ours
        starting = self.baseline_db is None or self._start_from is not None or self._relearn
        skip = 0
        blocked: list[int] | None = None
        if self._quiet_ok and self.state == IDLE and not self._held and not starting:
            # The usual live block: a few quiet frames, taken without the rest of the set-up.
            blocked = _blocked(usable, flat)
            skip = self._idle_run(first_frame, 0, frames, levels, blocked)
            if skip == len(levels):
                self._trim()
                return []
        events: list[Episode] = []
        (
            in_db,
            _,
            off_k,
            cap,
            release_db,
            settle,
            _,
            off_db,
            a_rise,
            a_fall,
            a_spread,
            rhythm_on,
            gate,
            smax,
        ) = self._constants
        frame_list, usable_list, flat_list = frames, usable, flat
        for i in range(len(levels)):
            if i < skip:
                continue
            if (
                in_db
                and self.state == IDLE
                and not self._held
                and not self._warm
                and self._start_from is None
                and not self._relearn
            ):
                if blocked is None:
                    blocked = _blocked(usable, flat)
                skip = self._idle_run(first_frame, i, frames, levels, blocked)
                if i < skip:
                    continue
            k = first_frame + i
            if flat_list[i]:
                self._flat_frames += 1
                self._since_flat = 0
                if self._flat_frames >= self._detached_frames:
                    self._relearn = True
            else:
                self._flat_frames = 0
                self._since_flat += 1
            if not usable_list[i] or self._since_flat <= settle:
                if bridged is not None and bridged[i] and self._since_flat > settle:
                    # A short gap, filled: the rhythm window's sum stays whole, nothing else.
                    self._wsum += frame_list[i]
                    if k - self._rhythm_frames >= self._valid_from:
                        self._wsum -= self._blk_hp[k - self._blk_base - self._rhythm_frames]
                    continue
                if self._held:
                    events.append(self._finish("ended", k))
                elif self.state == ACTIVE:
                    events.append(self._finish("interrupted", k))
                self._idle(k)
                if self._start_from is not None:
                    self._end_start_check()
                self._valid_from = k + 1
                self._wsum = 0.0
                if not usable_list[i]:
                    # Lost samples, then the filters' settling: a link down long enough for
                    # the sensor to have been moved (``relearn_after_lost_s``)?
                    self._unusable += 1
                    if self._unusable >= self._relearn_frames:
                        self._relearn = True
                continue
            self._unusable = 0
            x = levels[i]
            self.level_db = x
            self._wsum += frame_list[i]
            if k - self._rhythm_frames >= self._valid_from:
                self._wsum -= self._blk_hp[k - self._blk_base - self._rhythm_frames]
            b = self.baseline_db
            if b is None or self._relearn:
                self.baseline_db = b = x
                self.spread_db = INITIAL_SPREAD_DB
                self._rest_p = frame_list[i]
                self._warm = self._warm_frames
                self._warm_min = math.inf
                self._relearn = False
                self._start_from = k
                self._start_m = [] if movement is None else [np.array(movement[i:])]
            if self._warm > 0:
                self._quiet_at = k
                if x < self._warm_min:
                    self._warm_min = x
                self._track_rest(x, self._a_warm, self._a_warm)
                self._rest_p += (frame_list[i] - self._rest_p) * self._a_warm
                self._warm -= 1
                if self._warm == 0:
                    restart = self._warm_end_check(k)
                    if restart is not None:
                        events.extend(restart)
                continue
            spread = self.spread_db
            if in_db:
                margin = off_k * spread
                if self.state == CANDIDATE and self._candidate_k > off_k:
                    margin = self._candidate_k * spread  # not yet confirmed: see ThresholdConfig
                off = b + (margin if margin > off_db else off_db)
            else:
                off = 10 * math.log10(self._off_power(10 ** (b / 10)))
            if self._by_rhythm and self.state != IDLE:
                keep = b + gate  # weak clonus: kept while it stays over rest
                if keep < off:
                    off = keep
            rest_off = off
            if self.state == ACTIVE and release_db is not None:
                # The episode's highest envelope, less the release margin.
                release = self._top_db - release_db
                if release > off:
                    off = release
            above_off = x > off
            if self._held:
                # An episode under its off threshold: it ends unless clonus follows (a tonic
                # start, then weaker rhythmic bursts).
                n_held = k - self._held
                if (
                    k % self._rhythm_step == 0
                    and n_held >= self._rhythm_frames
                    and self._over_rest(k)
                    and self._beats(k)
                ):
                    self._resume(k, self._held)
                elif n_held >= 2 * self._rhythm_frames:
                    events.append(self._finish("ended", k))
                    self._held = 0
            if self.state == IDLE:
                if above_off:
                    if self._rise is None:
                        self._rise = k
                    if x > self._on_db(b, spread):
                        if self._held and k - self._held <= self._rhythm_frames and self._beats(k):
                            # Clonus that weakened for a moment and comes back (the window
                            # reaches back to the hold: the dip and the rise): the same spasm.
                            self._resume(k, self._held)
                        else:
                            if self._held:
                                events.append(self._finish("ended", k))
                                self._held = 0
                            self._begin(k, 10 ** (b / 10))
                else:
                    self._rise = None
                    self._quiet_at = k
                if self._start_from is not None:
                    if self.state != IDLE or self._held:
                        self._end_start_check()  # an episode: the rest learnt was rest
                    else:
                        restart = self._start_check(k, x, b)
                        if restart is not None:
                            events.extend(restart)
                            continue
                if self.state == IDLE:
                    # The resting level and its spread follow the signal (inlined _track_rest).
                    dev = x - b
                    size = -dev if dev < 0 else dev
                    limit = cap * spread
                    if size > limit:
                        size = limit
                    spread = spread + (size - spread) * a_spread
                    self.spread_db = spread if spread < smax else smax
                    self.baseline_db = b + dev * (a_rise if dev > 0 else a_fall)
                    if rhythm_on:
                        self._rest_p += (frame_list[i] - self._rest_p) * a_rise
                        if (
                            k % self._rhythm_step == 0
                            and k - self._rhythm_frames >= self._ended
                            and self._over_rest(k)
                            and self._rhythm_start(k, 10 ** (b / 10), min(rest_off, b + gate))
                        ):
                            events.append(self._episode("open", k, None))
                    continue
            self._accumulate(
                k, frame_list[i], x, None if movement is None else movement[i], self._recent_p(k)
            )
            if above_off:
                if not (
                    self.state == CANDIDATE
                    and k - self._last_above > self._let_go_frames
                    and x <= self._on_db(b, spread)
                ):
                    self._last_above = self._last_rest = k
            else:
                self._unbroken = False
                if not (off > rest_off and x > self._on_db(b, spread)):
                    self._last_low = k
            if x > rest_off and self._last_rest == k - 1:
                self._last_rest = k  # over rest since the last frame above the threshold
            if (
                self.state == CANDIDATE
                and (
                    self._run_duration() >= self._min_duration
                    or (
                        not self._check_twitch
                        and self._unbroken
                        and self._lasted(k, self._on_db(b, spread)) >= self._min_duration
                    )
                )
                and (self._live_span() >= self._live_min or not self._ring_carries())
            ):
                if self._check_twitch and self._is_twitch():
                    self.state = TWITCH  # followed to its end, never reported
                else:
                    self.state = ACTIVE
                    self._onset_sample = self._onset_index()
                    events.append(self._episode("open", k, None))
            if self.state == ACTIVE and k - self._quiet_at >= self._max_frames:
                # Over rest for longer than any spasm (in one episode or in several, each
                # ended by its release over the same level): that level is the new rest.
                events.append(self._finish("interrupted", k))
                self._idle(k)
                self._relearn = True
                continue
            if k - self._last_above >= self._gap_frames:
                if self.state == ACTIVE and self._last_low <= self._last_above:
                    # Released, but over the on threshold ever since: a contraction fading
                    # out to rest falls under it soon (then the episode ends at its release,
                    # as below); one still over it after STEADY_S goes on, weaker (a flexor
                    # spasm's phasic burst, then its tonic phase; a long spasm fading), and
                    # its release is judged from its level now.
                    if k - self._last_above >= self._steady_frames:
                        self._top_db = x
                        self._last_above = self._last_rest = k
                    continue
                if self._last_above < self._last_rest < k:
                    # Released over tone, then down to rest: it ended where it first reached rest.
                    self._end_at = self._last_rest
                if self.state == ACTIVE and rhythm_on:
                    self._hold(k)
                    continue
                if self.state == ACTIVE:
                    events.append(self._finish("ended", k))
                self._idle(k)
        self._trim()
        return events

    def _trim(self) -> None:
        """Forget frames older than the history needs, now and then (it stays bounded)."""
        drop = len(self._blk_hp) - self._keep
        if drop > self._keep and self._start_from is None:
            del self._blk_hp[:drop]
            del self._blk_hdb[:drop]
            self._blk_base += drop
            if self._beat_frames:
                self._beat_frames = {j for j in self._beat_frames if j >= self._blk_base}

    def _idle_run(
        self,
        first_frame: int,
        i: int,
        frames: Sequence[float],
        levels: Sequence[float],
        blocked: list[int],
    ) -> int:
        """Quiet frames from ``i`` on, the common case, with the state in local variables.

        The same arithmetic, in the same order, as :meth:`process` for an idle frame that
        stays under the off threshold; it stops (returning the index of the first frame it
        did not take) at anything else: a flat or unusable frame, a frame over the off
        threshold, a frame where the rhythm test would run. ``blocked``: the call's flat or
        unusable frames, in order (see :func:`_blocked`).
        """
        b = self.baseline_db
        if b is None:
            return i
        (off_k, cap, settle, off_db, a_rise, a_fall, a_spread, rhythm_on, w, step, gate, smax) = (
            self._idle_constants
        )
        if self._since_flat < settle:  # still settling after a flat stretch
            return i
        ended, valid = self._ended, self._valid_from
        n = len(levels)
        # Up to the first flat or unusable frame: no need to look at each.
        at = bisect.bisect_left(blocked, i)
        stop = blocked[at] if at < len(blocked) else n
        hp = self._blk_hp
        spread, since_flat, wsum = self.spread_db, self._since_flat, self._wsum
        rest_p = self._rest_p
        # Frame j is first_frame + j; the frame leaving the rhythm window is hp[j + leave];
        # from j_full on the window is full of usable frames; the rhythm test may run at
        # frames j_check, j_check + step, ... from j_test on.
        leave = first_frame - self._blk_base - w
        j_full = valid + w - first_frame
        j_test = max(ended + w, valid + w - 1) - first_frame
        j_check = i + (-(first_frame + i)) % step
        j = i
        for j in range(i, stop):
            x = levels[j]
            margin = off_k * spread
            if x > b + (margin if margin > off_db else off_db):
                break
            p = frames[j]
            ws = wsum + p
            if j >= j_full:
                ws -= hp[j + leave]
            if rhythm_on:
                rp = rest_p + (p - rest_p) * a_rise
                if j == j_check:
                    j_check += step
                    if j >= j_test and ws > w * rp * gate:
                        break
                rest_p = rp
            wsum = ws
            dev = x - b
            size = -dev if dev < 0 else dev
            limit = cap * spread
            if size > limit:
                size = limit
            spread = spread + (size - spread) * a_spread
            if spread > smax:
                spread = smax
            b = b + dev * (a_rise if dev > 0 else a_fall)
        else:
            j = stop
        since_flat += j - i
        if j > i:
            self.baseline_db, self.spread_db, self._since_flat = b, spread, since_flat
            self._flat_frames = 0
            self._wsum, self._rest_p = wsum, rest_p
            self.level_db = levels[j - 1]
            self._rise = None
            self._quiet_at = first_frame + j - 1
            self._unusable = 0
        return j

    def flush(self, next_frame: int) -> list[Episode]:
        """Close an episode still open at the end of the stream (as interrupted)."""
        events = []
        if self._held:
            events.append(self._finish("ended", next_frame))
        elif self.state == ACTIVE:
            events.append(self._finish("interrupted", next_frame))
        self._idle(next_frame)
        return events

    # -- the stream's start -------------------------------------------------------------------

    def _end_start_check(self) -> None:
        self._start_from = None
        self._start_m = []
        self._drop = None

    def _start_check(self, k: int, x: float, b: float) -> list[Episode] | None:
        """Whether the stream began in a contraction; if so, its episodes (else None).

        The warm-up takes whatever it sees for rest, and a contraction there also inflates the
        spread it learns, so this check keeps to the fixed margins. Within ``START_S`` after
        the warm-up, when the envelope has stayed ``off_db`` under the resting level for the
        merge gap, those frames are a rest candidate (their median and median deviation); it
        must lie at most ``off_db`` over the warm-up's quietest frame (a contraction that
        eases off is not rest). If the level the warm-up learnt clears the on threshold over
        it, the warm-up saw a contraction, and the frames since the stream's first usable one
        are run again from that rest (:meth:`_restart`).
        """
        assert self._start_from is not None
        if k >= self._start_from + self._start_frames:
            self._end_start_check()
            return None
        off_db = self.config.threshold.off_db
        if x >= b - off_db:
            self._drop = None
            return None
        if self._drop is None:
            self._drop = (k, b)
        first, b0 = self._drop
        if k - first + 1 < self._gap_frames:
            return None
        hi = self._pos(k) + 1
        lo = hi - self._gap_frames
        levels = np.asarray(self._blk_hdb[lo:hi])
        rest = float(np.median(levels))
        spread = max(INITIAL_SPREAD_DB, MAD_TO_MEAN * float(np.median(np.abs(levels - rest))))
        spread = min(spread, self._spread_max)
        if rest > self._warm_min + off_db or self._on_db(rest, spread) >= b0:
            return None  # not as low as the warm-up's quietest, or not under its level
        return self._restart(k, rest, spread, float(np.median(self._blk_hp[lo:hi])))

    def _warm_end_check(self, k: int) -> list[Episode] | None:
        """Whether a contraction the stream began in ended within the warm-up (frame ``k``,
        its last); if so, its episodes (else None).

        The warm-up's resting level follows the signal down within it, so a contraction
        that ends there leaves no drop under that level for :meth:`_start_check` to see: a
        monitor started in the last seconds of a spasm missed it. The warm-up's first merge
        gap of frames (their median: a contraction, not a spike) is compared with its last
        (their median and spread, a rest candidate, as in :meth:`_start_check`); when the
        first clears the on threshold over the last, the stream began in a contraction, and
        the frames since its first usable one are run again from that rest.
        """
        start = self._start_from
        gap = self._gap_frames
        if start is None or k - start + 1 < 2 * gap:
            return None
        lo, hi = self._pos(start), self._pos(k) + 1
        began = float(np.median(self._blk_hdb[lo : lo + gap]))
        levels = np.asarray(self._blk_hdb[hi - gap : hi])
        rest = float(np.median(levels))
        spread = max(INITIAL_SPREAD_DB, MAD_TO_MEAN * float(np.median(np.abs(levels - rest))))
        spread = min(spread, self._spread_max)
        if self._on_db(rest, spread) >= began:
            return None
        return self._restart(k, rest, spread, float(np.median(self._blk_hp[hi - gap : hi])))

    def _restart(self, k: int, rest_db: float, spread: float, rest_p: float) -> list[Episode]:
        """Run the frames since the stream's first usable one again, from the rest ``rest_db``.

        The detector starts afresh at that rest and is fed the frames it kept (none are
        forgotten while the start is checked); what it finds is said now, at frame ``k``.
        """
        start = self._start_from
        assert start is not None
        lo, hi = self._pos(start), self._pos(k) + 1
        hp, hdb = self._blk_hp[lo:hi], self._blk_hdb[lo:hi]
        tail_hp, tail_hdb = self._blk_hp[hi:], self._blk_hdb[hi:]
        # The movement kept begins at the warm-up's first frame.
        move = np.concatenate(self._start_m)[: k + 1 - start] if self._start_m else None
        beats = self._beat_frames
        self.reset()
        self._beat_frames = beats
        self.baseline_db, self.spread_db, self._rest_p = rest_db, spread, rest_p
        self._valid_from = self._quiet_at = start
        n = len(hp)
        events = self.process(start, hp, hdb, move, [True] * n, [False] * n)
        self._blk_hp.extend(tail_hp)
        self._blk_hdb.extend(tail_hdb)
        decided = (k + 1) * self.timing.hop
        return [dataclasses.replace(e, decided_index=decided) for e in events]

    # -- episode bookkeeping ------------------------------------------------------------------

    def _idle(self, k: int) -> None:
        if self.state == ACTIVE:  # not a candidate that fell short: clonus makes many
            self._ended = k
        self.state = IDLE
        self._rise = None
        self._by_rhythm = False
        self._held = 0

    def _hold(self, k: int) -> None:
        """Hold an episode whose signal fell under the off threshold: clonus may follow.

        The detector goes on as if it had ended (the resting level follows the signal, a new
        contraction may start); its end is reported once another contraction starts or twice
        ``RhythmConfig.window_s`` has passed, unless clonus follows. Its type is judged up to
        its offset now, while the window ending there is still in the frame history (by the
        time a held end is reported it may not be, and the windows reaching into the rest
        after it would decide the type).
        """
        self._judge_to_offset(k)
        self._snapshot = (self.baseline_db, self.spread_db)
        self._idle(k)
        self._held = k

    def _pos(self, k: int) -> int:
        """Where frame ``k`` is in this call's frame history."""
        return k - self._blk_base

    def _recent_p(self, k: int) -> float:
        """Mean frame power of the last ``PEAK_WINDOW_S`` of usable frames up to ``k``."""
        pos = self._pos(k)
        lo = max(pos - self._peak_frames + 1, self._pos(self._valid_from), 0)
        part = self._blk_hp[lo : pos + 1]
        return sum(part) / len(part)

    def _window(self, k: int) -> list[float] | None:
        """The rhythm window's frame powers up to frame ``k`` (None when not all usable)."""
        if k - self._rhythm_frames + 1 < self._valid_from:
            return None
        pos = self._pos(k)
        return self._blk_hp[pos - self._rhythm_frames + 1 : pos + 1]

    def _over_rest(self, k: int) -> bool:
        """Whether the rhythm window (all usable) has a mean frame power ``gate_db`` over rest's."""
        if k - self._rhythm_frames + 1 < self._valid_from:
            return False
        return self._wsum > self._rhythm_frames * self._rest_p * self._gate

    def _gap_over_rest(self, k: int) -> bool:
        """Whether the merge gap of frames up to ``k`` has a mean power ``gate_db`` over rest's
        (True while fewer than that are usable)."""
        if k - self._gap_frames + 1 < self._valid_from:
            return True
        pos = self._pos(k)
        part = self._blk_hp[pos - self._gap_frames + 1 : pos + 1]
        return sum(part) > self._gap_frames * self._rest_p * self._gate

    def _rest_end(self, first: int, last: int) -> int | None:
        """The last frame, up to ``last``, that ends a merge gap of frames (from ``first`` on,
        all usable) whose mean power is no more than rest's: None when there is none."""
        first = max(first, self._valid_from)
        g = self._gap_frames
        if last - first + 1 < g:
            return None
        p = np.asarray(self._blk_hp[self._pos(first) : self._pos(last) + 1])
        c = np.concatenate([[0.0], np.cumsum(p)])
        at_rest = np.flatnonzero(c[g:] - c[:-g] <= g * self._rest_p)
        return None if len(at_rest) == 0 else first + g - 1 + int(at_rest[-1])

    def _beats(self, k: int) -> bool:
        """Whether the rhythm window's frames beat like clonus."""
        window = self._window(k)
        if window is None:
            return False
        contrast = self._contrast(np.asarray(window, dtype=np.float64))
        return contrast is not None and contrast > self.config.rhythm.contrast

    def _resume(self, k: int, held: int) -> None:
        """Take back an episode held at frame ``held``: the frames since then are part of it."""
        for j in range(held + 1, k):
            pos = self._pos(j)
            self._accumulate(j, self._blk_hp[pos], self._blk_hdb[pos], None, self._recent_p(j))
        self._held = 0
        self._last_above = self._last_rest = k
        self._end_at = None
        self._by_rhythm = True
        self.state = ACTIVE
        self.baseline_db, self.spread_db = self._snapshot

    def _rhythm_start(self, k: int, base_p: float, keep_db: float) -> bool:
        """Start an episode at frame ``k`` if the recent frames beat like clonus.

        The window can beat on clonus that has already stopped: a short clonic spasm whose
        envelope did not stay over the threshold for the minimum duration, found a second
        after it ended. An episode by rhythm lasts while the envelope stays over ``keep_db``
        (1 dB over rest), which rest's envelope itself crosses now and then, and half of the
        time at 200-250 Hz. When the last merge gap's frames are no longer over rest (their
        mean power under ``gate_db`` over rest's, as the rhythm window's must be), the
        clonus is over at frame ``k``: it is taken up to where the envelope stepped down
        (the change point between its onset and ``k``) and then fell to ``keep_db``, and
        held there, as it would have been had it started at its onset (and if that leaves
        it shorter than the minimum duration, it is no episode). Taken up to frame ``k``,
        its end was the first merge gap of rest with no frame over ``keep_db``: a clonic
        spasm of 0.6 s was logged as 3.8 s, and tonic, its seconds of rest judged with it.
        While the frames are over rest the clonus goes on, and the episode with it (a weak
        clonus dips under ``keep_db`` for a merge gap now and then: cut at its first dip, a
        5 s clonus at 3 dB was lost).
        """
        if not self._beats(k):
            return False
        onset = self._change_point(k)
        last = k
        if not self._gap_over_rest(k):  # over, not going on at frame k
            last = self._step(onset, k, up=False) - 1
            while last < k and self._blk_hdb[self._pos(last + 1)] > keep_db:
                last += 1
        end = min(k, last + self._gap_frames)
        if end < k and self._span(onset, last) < self._min_duration:
            return False  # over, and shorter than the minimum duration: not an episode
        self._begin(onset, base_p)
        self._onset = onset
        for j in range(onset, end + 1):
            pos = self._pos(j)
            self._accumulate(j, self._blk_hp[pos], self._blk_hdb[pos], None, self._recent_p(j))
        self._last_above = self._last_rest = last
        self.state = ACTIVE
        self._by_rhythm = True
        self._onset_sample = self._onset_index()
        if end < k:
            self._hold(end)
        return True

    def _change_point(self, k: int) -> int:
        """Where the envelope stepped up, within twice the rhythm window before frame ``k``
        and after the last merge gap at rest before the window."""
        lo = max(self._valid_from, self._ended + 1, k - 2 * self._rhythm_frames + 1)
        rest = self._rest_end(lo, k - self._rhythm_frames)
        if rest is not None:
            lo = rest + 1  # not back across rest, to an earlier contraction
        return self._step(lo, k, up=True)

    def _step(self, lo: int, k: int, up: bool) -> int:
        """The first frame after the envelope's step up (or down) between frames ``lo`` and
        ``k``: the least-squares change point of one shift in mean."""
        x = np.asarray(self._blk_hdb[self._pos(lo) : self._pos(k) + 1])
        n = len(x)
        if n < 2:
            return lo
        c = np.cumsum(x - x.mean())[:-1]
        j = np.arange(1, n)
        return lo + 1 + int(np.argmax((-c if up else c) / np.sqrt(j * (n - j))))

    def _live(self, k: int, frame_p: float, level_db: float) -> None:
        """Follow the last frame of the contraction's own activity: one over the on threshold
        (the frame and the envelope) whose power stands ``LIVE_MARGIN_DB`` over what the
        chain's ring of the frames before it could still hold (the highest of them, falling
        at the ring's rate), and not a heartbeat's (a frame the QRS gate capped at the
        envelope: soon after a twitch the envelope is still high, so the cap left it)."""
        y = 10 * math.log10(frame_p) if frame_p > POWER_FLOOR else -200.0
        ring = self._live_top - self._ring_db
        floor = self._live_floor
        if (
            y > ring + LIVE_MARGIN_DB
            and y > floor
            and level_db > floor
            and k not in self._beat_frames
        ):
            if k - self._live_k > self._live_pause:
                self._live_from = k  # a pause longer than clonus leaves: activity anew
            self._live_k = k
        self._live_top = y if y > ring else ring

    def _ring_carries(self) -> bool:
        """Whether the chain's ring could carry a twitch (``TWITCH_S``) over the on threshold
        to the minimum duration: its envelope's top stands that far over the threshold."""
        ring_s = (self._top_db - self._live_floor) / self._ring_db * self.timing.hop
        return ring_s + self._live_min >= self._min_duration

    def _live_span(self) -> float:
        """How long the latest stretch of activity has lasted, samples (from the onset, when
        it has not paused)."""
        t = self.timing
        if self._live_from >= 0:
            return (self._live_k + 1 - self._live_from) * t.hop
        return (self._live_k + 1) * t.hop - t.delay - self._onset_index()

    def _is_twitch(self) -> bool:
        """A brief jerk that only looks long: most of its energy lies within a twitch's length.

        Filters ring and the envelope window smears, so a jerk of 0.2 s can stay over the
        threshold for 0.5 s; its energy stays packed into one short stretch, while a spasm's
        is spread over its duration.
        """
        p = np.asarray(self._cand_p)
        n = len(p)
        total = float(p.sum())
        if total <= 0 or n <= self._twitch_frames:
            return False
        c = np.concatenate([[0.0], np.cumsum(p)])
        sums = c[self._twitch_frames :] - c[: -self._twitch_frames]
        densest = float(np.max(sums))
        if sums[-1] >= TWITCH_LATEST * densest:
            return False  # the latest stretch is as strong: still going, not over like a jerk
        return densest / total > TWITCH_SHARE

    def _begin(self, k: int, base_p: float) -> None:
        self.state = CANDIDATE
        self._unbroken = True
        self._onset = self._rise if self._rise is not None else k
        # The twitch rule's frames, from the rise on: those before the on threshold count too.
        self._cand_p = (
            self._blk_hp[max(0, self._pos(self._onset)) : self._pos(k)][-self._cand_max :]
            if self._check_twitch
            else []
        )
        self._last_above = k
        self._begin_k = k
        self._base_p = base_p
        self._live_top = -math.inf
        self._live_k = self._onset - 1
        self._live_from = -1  # activity began again here, after a pause (-1: at the onset)
        self._live_floor = 10 * math.log10(max(self._on_power(base_p), POWER_FLOOR))
        for j in range(self._onset, k):
            pos = self._pos(j)
            if pos >= 0:
                self._live(j, self._blk_hp[pos], self._blk_hdb[pos])
        self._sum_p = 0.0
        self._top_db = -math.inf
        self._n = 0
        self._tail.clear()
        self._last_rest = 0
        self._end_at = None
        self._peak_p = 0.0
        self._ep_frames = 0
        self._windows = 0
        self._curves = []
        self._curve_n = []
        self._curve_end = []

    def _accumulate(
        self,
        k: int,
        frame_p: float,
        level_db: float,
        move: npt.NDArray[np.float64] | None,
        recent_p: float,
    ) -> None:
        if self.state == CANDIDATE:
            if self._check_twitch and len(self._cand_p) < self._cand_max:
                self._cand_p.append(frame_p)
            self._live(k, frame_p, level_db)  # read only until the candidate is confirmed
        self._sum_p += frame_p
        self._acc_k = k
        self._tail.append((k, frame_p))
        if level_db > self._top_db:
            self._top_db = level_db
        self._n += 1
        self._peak_p = max(self._peak_p, recent_p)
        j = self._ep_frames % self._type_frames
        self._win_p[j] = frame_p
        if move is not None:
            self._win_m[j] = move
        self._ep_frames += 1
        over = self._ep_frames - self._type_frames
        if over >= 0 and over % self._type_hop == 0:
            self._judge_window()

    def _contrast(self, p: npt.NDArray[np.float64], cap: bool = False) -> float | None:
        """How strongly frame powers beat at 3-8 Hz: clonus, bursts at a steady rate.

        From the autocorrelation of the (detrended) amplitudes: a rhythm of period T gives a
        peak at T and a trough at T/2, while a slow swell or plain noise does not. The largest
        difference over the periods of 3-8 Hz (see :meth:`_contrasts`); None when the window
        is too short to tell (under two periods of the slowest rhythm).
        """
        curve = self._contrasts(p, cap)
        return None if curve is None else float(np.max(curve))

    def _contrasts(
        self, p: npt.NDArray[np.float64], cap: bool = False
    ) -> npt.NDArray[np.float64] | None:
        """The rhythm contrast at each period of 3-8 Hz (in frames, as many as fit twice in
        the window): the autocorrelation there less the one at half of it. ``cap``:
        amplitudes capped at ``TYPE_CAP_QUANTILE`` of the window first (the type test)."""
        if self._smooth > 1 and len(p) >= self._smooth:
            p = np.convolve(p, np.ones(self._smooth) / self._smooth, mode="valid")
        p = np.sqrt(p)  # amplitude: a spike does not outweigh the rhythm
        n = len(p)
        if cap and n:
            k = min(n - 1, int(TYPE_CAP_QUANTILE * n))
            p = np.minimum(p, np.partition(p, k)[k])
        lags = self._lags[self._lags * 2 <= n]
        if len(lags) == 0:
            return None
        # Least-squares line through the amplitudes (closed form), taken off.
        t = np.arange(n, dtype=np.float64) - (n - 1) / 2
        x = p - p.mean()
        x -= t * (float(np.dot(t, x)) / float(np.dot(t, t)))
        energy = float(np.dot(x, x))
        if energy <= 0:
            return np.zeros(len(lags))
        top = int(lags[-1])
        acf = np.correlate(x, x, mode="full")[n - 1 : n + top] / energy
        out: npt.NDArray[np.float64] = acf[lags] - acf[lags // 2]
        return out

    def _judge_window(self) -> None:
        """Judge the episode's last type window (or all of it, when shorter)."""
        n = min(self._ep_frames, self._type_frames)
        j = self._ep_frames % self._type_frames
        order = np.r_[j : self._type_frames, 0:j] if n == self._type_frames and j else np.arange(n)
        curve = (
            self._contrasts(self._win_p[order], cap=True)
            if self._use_rhythm
            else self._spectrum(self._win_m[order])
        )
        if curve is None:
            return
        self._windows += 1
        if self._curves and len(self._curves[-1]) != len(curve):
            # Only an episode shorter than a window is judged on a shorter one, and then it is
            # its only window.
            return
        self._curves.append(curve)
        self._curve_n.append(1)
        self._curve_end.append(self._acc_k)
        if len(self._curves) > MAX_TYPE_WINDOWS:
            pairs = range(0, len(self._curves) - 1, 2)
            curves = [self._curves[i] + self._curves[i + 1] for i in pairs]
            counts = [self._curve_n[i] + self._curve_n[i + 1] for i in pairs]
            ends = [self._curve_end[i + 1] for i in pairs]
            if len(self._curves) % 2:
                curves.append(self._curves[-1])
                counts.append(self._curve_n[-1])
                ends.append(self._curve_end[-1])
            self._curves, self._curve_n, self._curve_end = curves, counts, ends

    def _judge_to_offset(self, k: int) -> None:
        """sEMG: judge the episode's end on the window that ends where it ended.

        Windows are judged every half window while an episode lasts, and also during the
        merge gap after its last frame above the threshold, so the last of them can reach up
        to half a window into the rest that follows: read as a rhythm that stopped, it made
        clonic spasms mixed, and mixed ones (tonic, then clonic) tonic. The windows that
        reach a whole period of the fastest clonus (1 / ``band_high_hz``) or more past the
        offset are replaced by the one window ending at the offset, when the episode is long
        enough to fill it and the window is still in the history kept (so as at frame ``k``,
        however the stream was cut). On simulated calf and lower-back recordings apart from the
        benchmark's (seeds 99401-99406, 200 Hz-2 kHz, 6-15 dB, 486 episodes): type agreement
        80.2 -> 81.7 % and 89.7 -> 92.4 % (1000 and 500-2000 Hz: 88.6 -> 89.8 %, 87.4 -> 92.0 %);
        detection itself is untouched.
        """
        last = self._last_above if self._end_at is None else self._end_at
        first = last - self._type_frames + 1
        if first < self._begin_k or k - first >= self._keep:
            return
        ends, counts = self._curve_end, self._curve_n
        drop = 0
        while (
            drop < len(ends) - 1
            and counts[-1 - drop] == 1
            and ends[-1 - drop] - last >= self._tail_frames
        ):
            drop += 1
        if not drop:
            return
        pos = self._pos(last)
        window = np.asarray(self._blk_hp[pos - self._type_frames + 1 : pos + 1])
        curve = self._contrasts(window, cap=True)
        if curve is None or len(curve) != len(self._curves[-1]):
            return
        del self._curves[-drop:], self._curve_n[-drop:], self._curve_end[-drop:]
        self._curves.append(curve)
        self._curve_n.append(1)
        self._curve_end.append(last)

    def _spectrum(self, move: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
        """Accelerometer: a window's movement spectrum over the band, the three axes summed.

        Hann-windowed and zero-padded (``_nfft``). Left in power, not scaled, so that pooled
        windows weigh by their movement; None when the window did not move at all.
        """
        if len(move) < 2:
            return None
        x = move - move.mean(axis=0)
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x))[:, None], self._nfft, axis=0)) ** 2
        power: npt.NDArray[np.float64] = spec[self._spec_bins].sum(axis=1)
        return power if float(power.sum()) > 0 else None

    # The envelope shows a contraction once it fills ``fill`` of the window, and lets go once
    # less than ``fill`` of it is left in the window: onset and offset are back-dated by that,
    # by half a frame (the crossing lies somewhere in the frame) and by the filters' delay.

    def _onset_index(self) -> int:
        t = self.timing
        end = (self._onset + 1) * t.hop
        return max(0, round(end - t.fill * t.window - t.hop / 2 - t.delay))

    def _offset_index(self) -> int:
        t = self.timing
        last = self._last_above if self._end_at is None else self._end_at
        end = (last + 1) * t.hop
        return round(end - (1 - t.fill) * t.window + t.hop / 2 - t.delay)

    def _on_db(self, b: float, spread: float) -> float:
        """The on threshold, dB, over the resting level ``b`` with rest spread ``spread``."""
        in_db, on_k, _, _, _, _, on_db = self._constants[:7]
        if in_db:
            margin = on_k * spread
            return b + (margin if margin > on_db else on_db)
        return 10 * math.log10(self._on_power(10 ** (b / 10)))

    def _lasted(self, k: int, on_db: float) -> float:
        """How long the contraction has lasted, samples, if it is still going (else 0).

        The envelope lags the end of a contraction by up to ``(1 - fill)`` of its window, so
        :meth:`_run_duration` must assume it may have just ended. When the envelope has stayed
        over the off threshold since the rise and the latest frames themselves are over the on
        threshold, it has not, and its length so far is known now: a start confirmed this way
        is reported that much sooner.
        """
        m = self._now_frames
        if k - self._valid_from + 1 < m:
            return 0.0
        pos = self._pos(k)
        latest = sorted(self._blk_hp[pos - m + 1 : pos + 1])
        if 10 * math.log10(max(latest[m // 2], POWER_FLOOR)) <= on_db:
            return 0.0
        t = self.timing
        now = (k + 1 - m) * t.hop - t.delay
        return now - self._onset_index()

    def _run_duration(self) -> float:
        """Estimated duration so far, samples (from the back-dated onset to the last frame above)."""
        return self._span(self._onset, self._last_above)

    def _span(self, first: int, last: int) -> float:
        """Estimated duration, samples, of a contraction whose envelope crossed the threshold
        up at frame ``first`` and was last over it at frame ``last``."""
        t = self.timing
        return (last - first + 1) * t.hop - (1 - 2 * t.fill) * t.window

    def _type(self, k: int) -> EpisodeType:
        if self._windows == 0:  # a short episode: judge the part there is
            self._judge_window()
        elif self._use_rhythm:
            self._judge_to_offset(k)
        if self._windows == 0:
            return "unknown"
        if self._use_rhythm:
            return self._rhythm_type()
        return self._spectrum_type()

    def _clonus(self, spectrum: npt.NDArray[np.float64]) -> float:
        """How clonic a (pooled) movement spectrum is: the share of its power within
        ``PEAK_HZ`` of its highest peak when that peak lies in the clonus band, else 0."""
        k = int(np.argmax(spectrum))
        f = float(self._spec_hz[k])
        if f > self.config.type.band_high_hz + PEAK_SLACK_HZ:
            return 0.0
        near = np.abs(self._spec_hz - f) <= PEAK_HZ
        return float(spectrum[near].sum() / spectrum.sum())

    def _spectrum_type(self) -> EpisodeType:
        """Accelerometer: tonic, clonic or mixed from the movement's spectrum, pooled.

        Clonus moves the limb at one rate in 3-8 Hz, so a stretch of windows is clonic when
        its pooled spectrum peaks in that band and the peak holds ``clonic_ratio`` of the
        power (tremor peaks over 8 Hz, a tonic spasm's broadband movement has no peak); the
        verdict as :meth:`_pooled_type` gives it.
        """
        return self._pooled_type(lambda total, _: self._clonus(total), lambda _: self.clonic_ratio)

    def _rhythm_type(self) -> EpisodeType:
        """sEMG: tonic, clonic or mixed from the type windows' contrast curves, pooled.

        One window is noisy, so stretches of windows are judged together: a stretch beats
        when its pooled contrast (the best period of the windows' mean curve) clears
        ``rhythm_contrast * N ** -POOL_EXPONENT`` for its N windows (N at most
        ``POOL_MAX_WINDOWS``); the verdict as :meth:`_pooled_type` gives it. On 16 simulated
        recordings apart from the suite (seeds 77001-77016): 78 -> 84 % agreement with the
        truth (against one window at a time, the verdict by share of windows).
        """
        threshold = self.config.type.rhythm_contrast
        return self._pooled_type(
            lambda total, windows: float(np.max(total / windows)),
            lambda windows: threshold * min(windows, POOL_MAX_WINDOWS) ** -POOL_EXPONENT,
            MIXED_PART,
        )

    def _pooled_type(
        self,
        score: Callable[[npt.NDArray[np.float64], float], float],
        limit: Callable[[float], float],
        part: float | None = None,
    ) -> EpisodeType:
        """The verdict from the type windows' curves, pooled in stretches.

        ``score(summed curve, windows)`` says how clonic a stretch is, ``limit(windows)`` how
        clonic a stretch of that many windows must be. The episode is split in two where the
        stretches' scores differ most (each at least ``mixed_share`` of the windows): mixed
        when the more clonic one clears its limit clearly (``MIXED_STRICT``: the split is the
        best of many) and the other does not clear it (Thomas et al. 2014: both components);
        otherwise clonic when the whole episode clears its limit, else tonic. With ``part``,
        an episode of one window is mixed when its score reaches ``part`` of its limit but not
        the limit (:data:`MIXED_PART`).
        """
        sums = np.cumsum(np.vstack(self._curves), axis=0)
        seen = np.cumsum(np.asarray(self._curve_n, dtype=np.float64))
        n = float(seen[-1])
        least = self.config.type.mixed_share * n
        best: tuple[float, bool] | None = None
        for j in range(len(seen) - 1):
            a, b = float(seen[j]), n - float(seen[j])
            if a < least or b < least:
                continue
            sa, sb = score(sums[j], a), score(sums[-1] - sums[j], b)
            if best is None or abs(sa - sb) > best[0]:
                (hi, n_hi), (lo, n_lo) = ((sa, a), (sb, b)) if sa > sb else ((sb, b), (sa, a))
                best = (abs(sa - sb), hi > MIXED_STRICT * limit(n_hi) and lo <= limit(n_lo))
        if best is not None and best[1]:
            return "mixed"  # both components, each a real part of it
        whole, needed = score(sums[-1], n), limit(n)
        if part is not None and n == 1 and part * needed < whole <= needed:
            return "mixed"  # one window, beating over part of it
        return "clonic" if whole > needed else "tonic"

    def _episode(self, state: str, k: int, offset: int | None) -> Episode:
        mean_p = self._sum_p / max(self._n, 1)
        if offset is not None:
            # The frames taken in after the offset (the envelope lets go late, then the merge
            # gap) were rest: the mean is of the contraction alone.
            cut = math.ceil((offset + self.timing.delay) / self.timing.hop)
            after = [p for j, p in self._tail if j >= cut]
            if 0 < len(after) < self._n:
                mean_p = (self._sum_p - sum(after)) / (self._n - len(after))
        done = state != "open"
        return Episode(
            channel=self.channel,
            location=self.location,
            state=state,  # type: ignore[arg-type]
            onset_index=self._onset_sample,
            offset_index=offset,
            decided_index=(k + 1) * self.timing.hop,
            fs=self.timing.fs,
            units=self.units,
            peak=math.sqrt(self._peak_p),
            mean=math.sqrt(mean_p),
            strength_db=10 * math.log10(max(mean_p, POWER_FLOOR) / max(self._base_p, POWER_FLOOR)),
            type=self._type(k) if done else "unknown",
        )

    def _finish(self, state: str, k: int) -> Episode:
        offset = max(self._onset_sample + 1, self._offset_index())
        return self._episode(state, k, offset)
