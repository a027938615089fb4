"""Alerts for the patient: a long episode, no signal, a low battery, an electrode off.

Each alert fires once when its condition starts and again only after the condition has
cleared, so a patient is told, not nagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spasmwatch.settings import AlertSettings

#: The battery alert re-arms once the level is this many percent above the limit again.
BATTERY_HYSTERESIS = 5


@dataclass(frozen=True)
class Alert:
    """One alert: what, where, and the line shown."""

    kind: str
    channel: str | None
    message: str


class AlertWatch:
    """Decides when to alert, from what the monitor sees.

    Parameters
    ----------
    settings : AlertSettings
        Limits; 0 turns an alert off.
    """

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings
        self._active: set[tuple[str, str | None]] = set()

    def _edge(self, kind: str, channel: str | None, condition: bool, message: str) -> list[Alert]:
        key = (kind, channel)
        if condition and key not in self._active:
            self._active.add(key)
            return [Alert(kind, channel, message)]
        if not condition:
            self._active.discard(key)
        return []

    def check(
        self,
        *,
        open_episodes: Iterable[tuple[str, str, float]],
        no_signal_s: float,
        battery: int | None,
        detached: Iterable[tuple[str, str]],
    ) -> list[Alert]:
        """Alerts that start now.

        Parameters
        ----------
        open_episodes : iterable of (channel, location, seconds so far)
        no_signal_s : float
            How long no signal has arrived, s.
        battery : int or None
            Battery level, percent.
        detached : iterable of (channel, location)
            Channels whose signal is flat.
        """
        s = self.settings
        out: list[Alert] = []
        long_now = {
            (ch, loc, d)
            for ch, loc, d in open_episodes
            if s.episode_longer_than_s and d > s.episode_longer_than_s
        }
        long_channels = {ch for ch, _, _ in long_now}
        for ch, loc, _ in sorted(long_now):
            out += self._edge(
                "long_episode",
                ch,
                True,
                f"spasm in {loc} has lasted over {s.episode_longer_than_s:g} s",
            )
        for kind, name in list(self._active):
            if kind == "long_episode" and name not in long_channels:
                self._active.discard((kind, name))
        if s.no_signal_longer_than_s:
            out += self._edge(
                "no_signal",
                None,
                no_signal_s > s.no_signal_longer_than_s,
                f"no signal from the sensor for over {s.no_signal_longer_than_s:g} s",
            )
        if s.battery_below_percent and battery is not None:
            low = battery < s.battery_below_percent
            if low or battery >= s.battery_below_percent + BATTERY_HYSTERESIS:
                out += self._edge("low_battery", None, low, f"sensor battery low: {battery} %")
        if s.electrode_detached:
            off = dict(detached)
            for ch, loc in sorted(off.items()):
                out += self._edge(
                    "electrode_detached", ch, True, f"electrode on {loc} ({ch}) looks detached"
                )
            for kind, name in list(self._active):
                if kind == "electrode_detached" and name not in off:
                    self._active.discard((kind, name))
        return out
