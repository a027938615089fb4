"""What the detector says: an episode that has started, ended or been cut short."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EpisodeState = Literal["open", "ended", "interrupted"]
EpisodeType = Literal["tonic", "clonic", "mixed", "unknown"]
EPISODE_TYPES: tuple[EpisodeType, ...] = ("tonic", "clonic", "mixed", "unknown")


@dataclass(frozen=True)
class Episode:
    """One involuntary contraction episode on one channel (an sEMG pair or a 3-axis sensor).

    Times are sample indices since the stream began; wall-clock time is attached only when
    the episode is logged.

    Attributes
    ----------
    channel, location : str
        The channel (or accelerometer sensor) and its body location.
    state : {"open", "ended", "interrupted"}
        ``open`` when first confirmed; ``ended`` when it finished; ``interrupted`` when the
        signal was lost or the stream stopped during it, or the level stayed over rest for
        ``EpisodeConfig.max_duration_s`` (then learnt as the new rest).
    onset_index : int
        Estimated sample where the contraction began (back-dated for the chain's delays).
    offset_index : int or None
        Estimated sample where it ended; None while open.
    decided_index : int
        The sample at which the pipeline said this (the live latency is measured from it).
    fs : float
        Sampling rate, Hz.
    peak, mean : float or None
        Largest and average RMS amplitude over the episode, in ``units`` (uV RMS or g RMS).
    strength_db : float or None
        Mean power over the resting level, dB.
    type : {"tonic", "clonic", "mixed", "unknown"}
    """

    channel: str
    location: str
    state: EpisodeState
    onset_index: int
    offset_index: int | None
    decided_index: int
    fs: float
    units: str
    peak: float | None = None
    mean: float | None = None
    strength_db: float | None = None
    type: EpisodeType = "unknown"

    @property
    def start_s(self) -> float:
        """Onset, seconds since the stream began."""
        return self.onset_index / self.fs

    @property
    def end_s(self) -> float | None:
        """Offset, seconds since the stream began; None while open."""
        return None if self.offset_index is None else self.offset_index / self.fs

    @property
    def duration_s(self) -> float | None:
        """Length in seconds; None while open."""
        return (
            None if self.offset_index is None else (self.offset_index - self.onset_index) / self.fs
        )

    def as_dict(self) -> dict[str, object]:
        """The episode as one JSON object (the keys ``spasmwatch replay --json`` prints)."""
        return {
            "start": round(self.start_s, 4),
            "end": None if self.end_s is None else round(self.end_s, 4),
            "duration": None if self.duration_s is None else round(self.duration_s, 4),
            "channel": self.channel,
            "location": self.location,
            "type": self.type,
            "peak": None if self.peak is None else round(self.peak, 4),
            "units": self.units,
            "mean": None if self.mean is None else round(self.mean, 4),
            "strength_db": None if self.strength_db is None else round(self.strength_db, 2),
            "state": self.state,
            "decided": round(self.decided_index / self.fs, 4),
        }
