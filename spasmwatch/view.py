"""What the patient sees: a live view in a terminal, plain timestamped lines otherwise."""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from detect.events import Episode
from spasmwatch.alerts import Alert


@dataclass(frozen=True)
class ChannelStatus:
    """One channel as the live view shows it."""

    name: str
    location: str
    level_db: float | None  # envelope, dB
    rest_db: float | None  # resting level, dB
    threshold_db: float | None  # where a spasm starts, dB
    in_episode_s: float | None  # seconds into the current spasm, None when resting
    detached: bool


@dataclass(frozen=True)
class Status:
    """The monitor's state for the live view."""

    connection: str
    battery: int | None
    clock: datetime
    signal_s: float
    lost_s: float
    channels: tuple[ChannelStatus, ...]
    today: dict[str, tuple[int, float]] = field(default_factory=dict)  # location -> (count, s)


def describe(ev: Episode) -> str:
    """One line about an episode event."""
    where = f"{ev.location} ({ev.channel})"
    if ev.state == "open":
        return f"spasm started   {where}"
    peak = f", peak {ev.peak:.3g} {ev.units} RMS" if ev.peak is not None else ""
    end = "spasm ended    " if ev.state == "ended" else "spasm cut short"
    return f"{end} {where}: {ev.duration_s:.1f} s, {ev.type}{peak}"


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 05 min``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class View(Protocol):
    """Where the monitor reports."""

    def episode(self, ev: Episode, at: datetime) -> None: ...
    def alert(self, alert: Alert, at: datetime) -> None: ...
    def say(self, text: str) -> None: ...
    def update(self, status: Status) -> None: ...
    def close(self) -> None: ...


class PlainView:
    """Timestamped lines, one per event: for a pipe or a log file."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    def _line(self, at: datetime, text: str) -> None:
        print(f"{at.astimezone():%Y-%m-%d %H:%M:%S}  {text}", file=self.out, flush=True)

    def episode(self, ev: Episode, at: datetime) -> None:
        self._line(at, describe(ev))

    def alert(self, alert: Alert, at: datetime) -> None:
        self._line(at, f"ALERT: {alert.message}")

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def update(self, status: Status) -> None:
        pass

    def close(self) -> None:
        pass


class LiveView:
    """A live terminal view (rich): connection, battery, a level bar per channel, today's tally."""

    BAR = 30
    #: The bar shows this many dB of envelope above the resting level at full length.
    BAR_DB = 30.0

    def __init__(self, header: str, console: Console | None = None) -> None:
        self.console = console or Console()
        self.header = header
        self.events: deque[str] = deque(maxlen=6)
        self._status: Status | None = None
        self._live = Live(
            self._render(), console=self.console, refresh_per_second=4, transient=False
        )
        self._live.start()

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = [Text(self.header, style="bold")]
        st = self._status
        if st is not None:
            battery = f"{st.battery} %" if st.battery is not None else "unknown"
            parts.append(
                Text(
                    f"Sensor: {st.connection}    battery: {battery}    "
                    f"watching for {duration_text(st.signal_s)}    signal lost: {duration_text(st.lost_s)}"
                )
            )
            table = Table(box=None, pad_edge=False)
            table.add_column("where")
            table.add_column("level", no_wrap=True)
            table.add_column("state")
            for ch in st.channels:
                table.add_row(f"{ch.location} ({ch.name})", self._bar(ch), self._state(ch))
            parts.append(table)
            if st.today:
                tally = ", ".join(
                    f"{loc}: {n} spasm{'s' if n != 1 else ''}, {duration_text(s)}"
                    for loc, (n, s) in st.today.items()
                )
                parts.append(Text(f"Today: {tally}"))
            else:
                parts.append(Text("Today: no spasms so far"))
        for line in self.events:
            parts.append(Text(line))
        parts.append(Text("Press Ctrl-C to stop; everything is saved.", style="dim"))
        return Group(*parts)

    def _bar(self, ch: ChannelStatus) -> Text:
        if ch.level_db is None or ch.threshold_db is None or ch.rest_db is None:
            return Text("(learning the resting level)", style="dim")
        fill = int(max(0.0, min(1.0, (ch.level_db - ch.rest_db) / self.BAR_DB)) * self.BAR)
        mark = int(max(0.0, min(1.0, (ch.threshold_db - ch.rest_db) / self.BAR_DB)) * self.BAR)
        cells = ["█" if i < fill else ("|" if i == mark else "·") for i in range(self.BAR)]
        return Text("".join(cells), style="red" if ch.level_db > ch.threshold_db else "green")

    @staticmethod
    def _state(ch: ChannelStatus) -> str:
        if ch.detached:
            return "electrode looks detached"
        if ch.in_episode_s is not None:
            return f"spasm for {duration_text(ch.in_episode_s)}"
        return "resting"

    def episode(self, ev: Episode, at: datetime) -> None:
        self.events.append(f"{at.astimezone():%H:%M:%S}  {describe(ev)}")
        self._live.update(self._render())

    def alert(self, alert: Alert, at: datetime) -> None:
        self.console.bell()
        self.events.append(f"{at.astimezone():%H:%M:%S}  ALERT: {alert.message}")
        self._live.update(self._render())

    def say(self, text: str) -> None:
        self.events.append(text)
        self._live.update(self._render())

    def update(self, status: Status) -> None:
        self._status = status
        self._live.update(self._render())

    def close(self) -> None:
        self._live.stop()
