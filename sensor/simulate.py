"""The simulated wearable: seeded sEMG or accelerometer signals with known spasm episodes.

It stands in for a real device in the demo, the tests and the benchmarks. It knows its own
ground truth, adds the contamination real recordings carry, and emits its samples as open
frames (``sensor.frame``) so that everything downstream of the radio runs as it would live.

Where the numbers come from
---------------------------
- Resting sEMG of a few uV RMS: skin-electrode plus amplifier noise of surface EMG systems is
  1-5 uV RMS (SENIAM recommendations, Hermens et al. 2000); spasm strength is given as an SNR
  over that resting level, as in the detection literature (Bonato et al. 1998).
- sEMG power lies in 20-450 Hz (SENIAM), the carrier is band-limited Gaussian noise
  (the standard surface EMG model, De Luca 1979).
- Spasm types and durations follow long-term EMG of people with spinal cord injury
  (Thomas et al. 2014): tonic (sustained), clonic (rhythmic bursts at 3-8 Hz) and mixed,
  lasting from under a second to minutes.
- ECG on trunk sites: R waves of a few hundred uV reach back and abdominal sEMG electrodes
  (Drake and Callaghan 2006). Mains hum at 50 or 60 Hz with odd harmonics.
- Accelerometer: MEMS noise of a few mg RMS; clonus at 4-8 Hz; slow posture changes rotate
  gravity between axes and are not spasms.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import signal

from sensor.block import ACC, EMG
from sensor.frame import HEADER_SIZE, MAX_PAYLOAD, encode_frame

#: Locations whose sEMG carries ECG (the same list the detector uses for ECG suppression).
TRUNK_WORDS = (
    *("neck", "back", "chest", "abdom", "trunk", "shoulder", "torso"),
    *("lumbar", "thorac", "cervical", "spin", "erector", "intercostal"),
    *("trapez", "pector", "oblique", "latissimus", "rhomboid", "sternocleido"),
)

#: Resting sEMG level, uV RMS (band-limited), see the module docstring.
REST_EMG_UV = 5.0
#: Accelerometer white noise per axis, g RMS (typical of consumer MEMS parts).
ACC_NOISE_G = 0.004
#: Counts-to-units scales of the simulated device: +-8191 uV and +-16 g in int16.
EMG_SCALE_UV = 0.25
ACC_SCALE_G = 1.0 / 2048.0

EpisodeType = Literal["tonic", "clonic", "mixed"]


class _Timed(Protocol):
    @property
    def start(self) -> float: ...


_T = TypeVar("_T", bound=_Timed)


def is_trunk(location: str) -> bool:
    """True when a body location is on the trunk, where sEMG picks up the heart's ECG."""
    name = location.lower()
    return any(word in name for word in TRUNK_WORDS)


class SimConfig(BaseModel):
    """Settings of the simulated wearable. Every random choice flows from ``seed``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal: Literal["emg", "acc"] = "emg"
    fs_hz: float = Field(gt=0)
    channels: int = Field(default=1, ge=1, le=8)
    seconds: float = Field(gt=0)
    seed: int = 0
    snr_db: float = Field(default=20.0, ge=-10, le=60)
    mains_hz: Literal[50, 60] = 50
    location: str = "left calf"
    episodes_per_min: float = Field(default=2.0, ge=0, le=20)
    noise: bool = True
    mains: bool = True
    ecg: bool | None = None  # None: on at trunk locations
    motion: bool = True
    twitches: bool = True
    #: Faults on demand: the battery runs down at this many percent an hour, and this share
    #: of frames never arrives (the sequence number still counts them, as on a real link).
    battery_drain_per_h: float = Field(default=0.0, ge=0)
    drop_fraction: float = Field(default=0.0, ge=0, le=0.5)
    #: How a spasm's strength runs. "steady": it holds its level (within 15 %) from its
    #: rise to its fall. "flexor": a tonic or mixed spasm opens with a phasic burst of
    #: 0.2-1 s at its peak, then holds a tonic phase 6-14 dB under it that weakens by up to
    #: 6 dB more by its end, the shape of flexor spasms after spinal cord injury (a strong
    #: withdrawal, then a long weaker hold) and of spasms fading as the muscle tires.
    profile: Literal["steady", "flexor"] = "steady"

    @model_validator(mode="after")
    def _check_rate(self) -> SimConfig:
        if self.signal == EMG and not 200 <= self.fs_hz <= 4000:
            raise ValueError(f"simulated sEMG runs at 200-4000 Hz, not {self.fs_hz:g}")
        if self.signal == ACC and not 25 <= self.fs_hz <= 200:
            raise ValueError(f"simulated accelerometer runs at 25-200 Hz, not {self.fs_hz:g}")
        return self

    @property
    def with_ecg(self) -> bool:
        """Whether ECG is added: explicitly set, or on at trunk locations."""
        return is_trunk(self.location) if self.ecg is None else self.ecg


@dataclass(frozen=True)
class TruthEpisode:
    """One simulated spasm episode, with the keys ``spasmwatch replay --json`` prints."""

    start: float
    end: float
    channel: str
    location: str
    type: EpisodeType
    peak: float
    units: str
    freq_hz: float
    rise_s: float
    fall_s: float
    tonic_fraction: float
    #: The "flexor" profile: the phasic burst's length (0: none), the tonic phase's level
    #: under the burst and its further decline by the end, dB.
    burst_s: float = 0.0
    tonic_db: float = 0.0
    decline_db: float = 0.0

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    def as_dict(self) -> dict[str, object]:
        """The episode as the JSON object replay prints."""
        return {
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "duration": round(self.duration, 4),
            "channel": self.channel,
            "location": self.location,
            "type": self.type,
            "peak": round(self.peak, 4),
            "units": self.units,
        }


@dataclass(frozen=True)
class _Event:
    """A short contamination event: a twitch or a motion artefact."""

    start: float
    duration: float
    channel: int
    amplitude: float
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)


def _overlapping(items: Sequence[_T], ends: Sequence[float], t0: float, t1: float) -> Sequence[_T]:
    """Items (sorted, not overlapping each other) that overlap ``[t0, t1]``."""
    lo = bisect.bisect_left(ends, t0)
    hi = lo
    while hi < len(items) and items[hi].start <= t1:
        hi += 1
    return items[lo:hi]


def _raised_cosine(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """0 at x <= 0, 1 at x >= 1, smooth between."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


class SimulatedWearable:
    """A seeded simulated sensor that knows its ground truth.

    Parameters
    ----------
    config : SimConfig
        What to simulate.

    Notes
    -----
    Samples are made one second at a time from one random generator in a fixed order, so a
    seed always gives the same signal whatever the caller does with it.
    """

    CHUNK_S = 1.0

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        fs = config.fs_hz
        self.fs = fs
        self.n_total = round(config.seconds * fs)
        if config.signal == EMG:
            self.channels = tuple(f"ch{i + 1}" for i in range(config.channels))
            self.units = "uV"
            self.scale = EMG_SCALE_UV
            self.rest_level = REST_EMG_UV
        else:
            self.channels = tuple(
                f"acc{i + 1}_{axis}" if config.channels > 1 else f"acc_{axis}"
                for i in range(config.channels)
                for axis in "xyz"
            )
            self.units = "g"
            self.scale = ACC_SCALE_G
            # In-band (3-12 Hz) noise of the three axes together, g RMS.
            band = min(12.0, 0.45 * fs) - 3.0
            self.rest_level = ACC_NOISE_G * math.sqrt(3 * 2 * band / fs)
        self.sensor_names = (
            self.channels if config.signal == EMG else tuple(c[:-2] for c in self.channels[::3])
        )
        self._rng = np.random.default_rng(config.seed)
        self.truth = self._schedule_episodes()
        self._truth_ends = [e.end for e in self.truth]
        self._twitches = self._schedule_events(1 / 30, (0.05, 0.25), spasm_like=True)
        self._motions = self._schedule_events(1 / 40, (0.2, 1.0), spasm_like=False)
        self._twitch_ends = [e.start + e.duration for e in self._twitches]
        self._motion_ends = [e.start + e.duration for e in self._motions]
        self._beats = self._schedule_beats() if config.signal == EMG and config.with_ecg else None
        self._postures = self._schedule_postures() if config.signal == ACC else None
        n_sources = len(self.channels)
        # The acceleration simulation draws no EMG carrier; a band-pass at its rate is never used.
        band_hi = min(450.0, 0.45 * fs) if config.signal == EMG else 0.45 * fs
        band_lo = 20.0 if config.signal == EMG else 0.1 * fs
        self._emg_sos = signal.butter(4, [band_lo, band_hi], btype="bandpass", fs=fs, output="sos")
        self._emg_gain = self._noise_gain(self._emg_sos)
        self._rest_zi = np.zeros((self._emg_sos.shape[0], 2, n_sources))
        self._spasm_zi = np.zeros((self._emg_sos.shape[0], 2, n_sources))
        self._offset = self._rng.uniform(-50.0, 50.0, size=n_sources)
        self._mains_phase = self._rng.uniform(0, 2 * np.pi, size=3)
        self._ecg_amplitude = float(self._rng.uniform(200.0, 400.0))
        self._produced = 0

    # -- schedules ---------------------------------------------------------------------------

    def _amplitude(self) -> float:
        return self.rest_level * 10 ** (self.config.snr_db / 20)

    def _schedule_episodes(self) -> list[TruthEpisode]:
        cfg, rng = self.config, self._rng
        # The flexor profile's draws have their own stream, so both profiles place the same
        # spasms at the same times.
        shape_rng = np.random.default_rng([cfg.seed, 2])
        episodes: list[TruthEpisode] = []
        if cfg.episodes_per_min <= 0:
            return episodes
        cycle = 60.0 / cfg.episodes_per_min
        mean_duration = 8.5  # of the duration mixture below, in s
        mean_gap = max(2.0, cycle - mean_duration)
        t = 3.0 + float(rng.exponential(min(cycle, 5.0)))
        end_limit = cfg.seconds - 1.0
        while True:
            if rng.random() < 0.9:
                duration = math.exp(rng.uniform(math.log(0.6), math.log(15.0)))
            else:
                duration = math.exp(rng.uniform(math.log(15.0), math.log(120.0)))
            kind: EpisodeType = rng.choice(
                np.array(["tonic", "clonic", "mixed"]), p=[0.4, 0.3, 0.3]
            )
            channel = int(rng.integers(len(self.sensor_names)))
            freq = float(rng.uniform(3.0, 8.0))
            rise = float(rng.uniform(0.05, 0.2))
            fall = float(rng.uniform(0.1, 0.4))
            tonic_fraction = float(rng.uniform(0.3, 0.6))
            burst, tonic_db, decline_db = 0.0, 0.0, 0.0
            if cfg.profile == "flexor" and kind != "clonic":
                burst = min(float(shape_rng.uniform(0.2, 1.0)), duration / 3)
                tonic_db = float(shape_rng.uniform(6.0, 14.0))
                decline_db = float(shape_rng.uniform(0.0, 6.0))
            if t + duration > end_limit:
                break
            peak = self._amplitude() * (1.15 if kind != "clonic" else 1.0)
            episodes.append(
                TruthEpisode(
                    start=t,
                    end=t + duration,
                    channel=self.sensor_names[channel],
                    location=cfg.location,
                    type=str(kind),  # type: ignore[arg-type]
                    peak=peak,
                    units=self.units,
                    freq_hz=freq,
                    rise_s=min(rise, duration / 4),
                    fall_s=min(fall, duration / 4),
                    tonic_fraction=tonic_fraction,
                    burst_s=burst,
                    tonic_db=tonic_db,
                    decline_db=decline_db,
                )
            )
            t += duration + 2.0 + float(rng.exponential(mean_gap - 2.0 if mean_gap > 2.0 else 0.1))
        return episodes

    def _busy(self, start: float, end: float, channel: str, margin: float) -> bool:
        return any(
            e.channel == channel
            for e in _overlapping(self.truth, self._truth_ends, start - margin, end + margin)
        )

    def _schedule_events(
        self, rate_hz: float, duration_range: tuple[float, float], *, spasm_like: bool
    ) -> list[_Event]:
        cfg, rng = self.config, self._rng
        on = cfg.twitches if spasm_like else cfg.motion
        events: list[_Event] = []
        t = float(rng.exponential(1 / rate_hz))
        while t < cfg.seconds - 1.0:
            duration = float(rng.uniform(*duration_range))
            channel = int(rng.integers(len(self.sensor_names)))
            direction = rng.normal(size=3)
            direction /= np.linalg.norm(direction)
            if spasm_like:
                amplitude = self._amplitude() * float(rng.uniform(0.5, 1.5))
            elif cfg.signal == EMG:
                amplitude = float(rng.uniform(200.0, 1000.0))
            else:
                amplitude = float(rng.uniform(0.05, 0.2))
            # Twitches keep clear of episodes and of each other so they stay isolated (< 0.3 s).
            if (
                on
                and not self._busy(t, t + duration, self.sensor_names[channel], 1.5)
                and (not events or t - (events[-1].start + events[-1].duration) > 1.5)
            ):
                d = (float(direction[0]), float(direction[1]), float(direction[2]))
                events.append(_Event(t, duration, channel, amplitude, d))
            t += duration + float(rng.exponential(1 / rate_hz))
        return events

    def _schedule_beats(self) -> npt.NDArray[np.float64]:
        rng = self._rng
        rr = 60.0 / float(rng.uniform(60.0, 80.0))
        beats = []
        t = float(rng.uniform(0, rr))
        while t < self.config.seconds + 1.0:
            beats.append(t)
            t += rr * float(rng.normal(1.0, 0.04))
        return np.asarray(beats)

    def _schedule_postures(self) -> list[tuple[float, float, npt.NDArray[np.float64]]]:
        """Posture changes: (start, duration, new gravity direction)."""
        rng = self._rng
        changes = []
        t = float(rng.exponential(60.0))
        while t < self.config.seconds:
            duration = float(rng.uniform(1.0, 3.0))
            tilt = float(rng.uniform(0, np.radians(60)))
            azimuth = float(rng.uniform(0, 2 * np.pi))
            direction = np.array(
                [np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth), np.cos(tilt)]
            )
            changes.append((t, duration, direction))
            t += duration + float(rng.exponential(60.0))
        return changes

    @staticmethod
    def _noise_gain(sos: npt.NDArray[np.float64]) -> float:
        impulse = np.zeros(8192)
        impulse[0] = 1.0
        return float(np.sqrt(np.sum(signal.sosfilt(sos, impulse) ** 2)))

    # -- signal ------------------------------------------------------------------------------

    def _envelope(
        self, e: TruthEpisode, t: npt.NDArray[np.float64], *, smooth: bool = False
    ) -> npt.NDArray[np.float64]:
        """Amplitude envelope (peak about 1) of an episode at times ``t`` (s).

        With ``smooth``, the bursts of clonus are left out (the accelerometer carries them in
        its waveform instead).
        """
        ramp = _raised_cosine((t - e.start) / e.rise_s) * _raised_cosine((e.end - t) / e.fall_s)
        drift = 1.0 + 0.15 * np.sin(2 * np.pi * 0.5 * (t - e.start))
        level: npt.NDArray[np.float64] | float = 1.0
        if e.burst_s > 0:
            # Down from the burst to the tonic phase over 0.2 s, then declining to the end.
            since = t - e.start - e.burst_s
            down = np.clip(since / 0.2, 0.0, 1.0)
            after = np.clip(since / (e.duration - e.burst_s), 0.0, 1.0)
            level = 10 ** (-(e.tonic_db * down + e.decline_db * after) / 20)
            drift = drift * level
        if smooth:
            smooth_out: npt.NDArray[np.float64] = ramp * drift
            return smooth_out
        phase = (t - e.start) * e.freq_hz % 1.0
        bursts = np.where(phase < 0.5, np.sin(2 * np.pi * phase) ** 2, 0.0)
        if e.type == "tonic":
            shape = drift
        elif e.type == "clonic":
            shape = bursts
        else:
            split = e.start + e.tonic_fraction * e.duration
            shape = np.where(t < split, drift, (0.2 + 0.8 * bursts) * level)
        out: npt.NDArray[np.float64] = ramp * shape
        return out

    def _chunk(self, i0: int, n: int) -> npt.NDArray[np.float64]:
        """Samples ``i0 .. i0+n`` in units, shape (n, n_columns)."""
        if self.config.signal == EMG:
            return self._emg_chunk(i0, n)
        return self._acc_chunk(i0, n)

    def _emg_chunk(self, i0: int, n: int) -> npt.NDArray[np.float64]:
        cfg, rng, fs = self.config, self._rng, self.fs
        n_ch = len(self.channels)
        t = (i0 + np.arange(n)) / fs
        rest, self._rest_zi = signal.sosfilt(
            self._emg_sos, rng.standard_normal((n, n_ch)), axis=0, zi=self._rest_zi
        )
        carrier, self._spasm_zi = signal.sosfilt(
            self._emg_sos, rng.standard_normal((n, n_ch)), axis=0, zi=self._spasm_zi
        )
        x = rest * (REST_EMG_UV / self._emg_gain)
        carrier *= 1.0 / self._emg_gain
        amp = np.zeros((n, n_ch))
        t0, t1 = t[0], t[-1]
        for e in _overlapping(self.truth, self._truth_ends, t0, t1):
            amp[:, self.sensor_names.index(e.channel)] += self._amplitude() * self._envelope(e, t)
        for tw in _overlapping(self._twitches, self._twitch_ends, t0, t1):
            shape = np.sin(np.pi * np.clip((t - tw.start) / tw.duration, 0, 1)) ** 2
            amp[:, tw.channel] += tw.amplitude * shape
        x += amp * carrier
        if cfg.noise:
            x += rng.standard_normal((n, n_ch)) * 1.0 + self._offset
        if cfg.mains:
            hum = np.zeros(n)
            for k, (harmonic, level) in enumerate(((1, 1.0), (3, 0.3), (5, 0.15))):
                f = cfg.mains_hz * harmonic
                if f < 0.5 * fs:
                    hum += 15.0 * level * np.sin(2 * np.pi * f * t + self._mains_phase[k])
            x += hum[:, None]
        if cfg.motion:
            for m in _overlapping(self._motions, self._motion_ends, t0, t1):
                bump = np.sin(np.pi * np.clip((t - m.start) / m.duration, 0, 1))
                x[:, m.channel] += m.amplitude * bump
        if self._beats is not None:
            x += self._ecg(t)[:, None]
        out: npt.NDArray[np.float64] = x
        return out

    def _ecg(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """A QRS-T waveform at each scheduled beat, uV."""
        beats = self._beats
        assert beats is not None
        out = np.zeros_like(t)
        lo, hi = np.searchsorted(beats, [t[0] - 0.5, t[-1] + 0.1])
        for b in beats[lo:hi]:
            d = t - b
            out += self._ecg_amplitude * (
                -0.12 * np.exp(-0.5 * ((d + 0.025) / 0.008) ** 2)
                + 1.0 * np.exp(-0.5 * (d / 0.01) ** 2)
                - 0.25 * np.exp(-0.5 * ((d - 0.03) / 0.01) ** 2)
                + 0.3 * np.exp(-0.5 * ((d - 0.25) / 0.04) ** 2)
            )
        return out

    def _acc_chunk(self, i0: int, n: int) -> npt.NDArray[np.float64]:
        cfg, rng, fs = self.config, self._rng, self.fs
        n_sensors = len(self.sensor_names)
        t = (i0 + np.arange(n)) / fs
        x = np.zeros((n, 3 * n_sensors))
        assert self._postures is not None
        starts = [p[0] for p in self._postures]
        first = max(0, bisect.bisect_right(starts, t[0]) - 1)
        last = bisect.bisect_right(starts, t[-1])
        before = self._postures[first - 1][2] if first > 0 else np.array([0.0, 0.0, 1.0])
        gravity = np.tile(before, (n, 1))
        for start, duration, direction in self._postures[first:last]:
            w = _raised_cosine((t - start) / duration)[:, None]
            gravity = (1 - w) * gravity + w * direction
        gravity /= np.linalg.norm(gravity, axis=1, keepdims=True)
        for s in range(n_sensors):
            x[:, 3 * s : 3 * s + 3] = gravity
        if cfg.noise:
            x += rng.standard_normal(x.shape) * ACC_NOISE_G
        tremor_hz = min(10.0, 0.4 * fs)
        for e in _overlapping(self.truth, self._truth_ends, t[0], t[-1]):
            s = self.sensor_names.index(e.channel)
            direction = np.array([1.0, 0.3, 0.5])
            direction /= np.linalg.norm(direction)
            env = self._envelope(e, t)
            if e.type == "tonic":
                wave = np.sin(2 * np.pi * tremor_hz * (t - e.start))
            else:
                wave = np.sin(2 * np.pi * e.freq_hz * (t - e.start))
                if e.type == "mixed":
                    split = e.start + e.tonic_fraction * e.duration
                    wave = np.where(t < split, np.sin(2 * np.pi * tremor_hz * (t - e.start)), wave)
                env = self._envelope(e, t, smooth=True)
            # A sinusoid of amplitude sqrt(2) * A has RMS A.
            x[:, 3 * s : 3 * s + 3] += (np.sqrt(2) * self._amplitude() * env * wave)[
                :, None
            ] * direction
        for tw in _overlapping(self._twitches, self._twitch_ends, t[0], t[-1]):
            jerk = np.sin(2 * np.pi * np.clip((t - tw.start) / tw.duration, 0, 1))
            x[:, 3 * tw.channel : 3 * tw.channel + 3] += (3 * tw.amplitude * jerk)[
                :, None
            ] * np.asarray(tw.direction)
        return x

    # -- output ------------------------------------------------------------------------------

    def samples(self) -> Iterator[npt.NDArray[np.int16]]:
        """Quantised device counts, one second at a time, shape (n, n_columns), int16."""
        chunk = max(1, round(self.CHUNK_S * self.fs))
        i0 = self._produced
        while i0 < self.n_total:
            n = min(chunk, self.n_total - i0)
            values = self._chunk(i0, n)
            counts = np.clip(np.round(values / self.scale), -32768, 32767).astype(np.int16)
            i0 += n
            self._produced = i0
            yield counts

    @property
    def samples_per_frame(self) -> int:
        """Samples per channel in each frame: as many as fit one BLE payload, at most 50 ms."""
        fit = (MAX_PAYLOAD - HEADER_SIZE) // (2 * len(self.channels))
        return max(1, min(fit, 255, int(0.05 * self.fs)))

    def battery_at(self, seconds: float) -> int:
        """Battery level after ``seconds`` of streaming, percent."""
        return max(0, min(100, int(100 - self.config.battery_drain_per_h * seconds / 3600)))

    def frames(self) -> Iterator[bytes]:
        """The stream as open frames, in order, ready for the decoder.

        With ``drop_fraction`` set, some frames are left out (their sequence numbers are
        skipped), as a radio link loses them.
        """
        per_frame = self.samples_per_frame
        drops = np.random.default_rng([self.config.seed, 1])
        seq = 0
        index = 0
        pending = np.zeros((0, len(self.channels)), dtype=np.int16)
        for counts in self.samples():
            pending = np.concatenate([pending, counts]) if len(pending) else counts
            while len(pending) >= per_frame or (self._produced >= self.n_total and len(pending)):
                take = pending[:per_frame]
                pending = pending[per_frame:]
                if not (self.config.drop_fraction and drops.random() < self.config.drop_fraction):
                    yield encode_frame(
                        seq,
                        round(index / self.fs * 1e6),
                        self.fs,
                        self.scale,
                        self.units,
                        take,
                        battery=self.battery_at(index / self.fs),
                    )
                seq = (seq + 1) & 0xFFFF
                index += len(take)
