"""Writing to the episode log when the log may fail: nothing the monitor saw is lost.

When a write fails (disk full, an I/O error, a file-size limit), the monitor keeps
monitoring: the write waits in memory, in order, and is retried at every later write; each
waiting item is also appended to a named fallback file next to the log, so it survives even
if the process dies before the log works again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from detect.events import Episode
from episodes.log import EpisodeLog
from replay.files import open_private
from replay.timefmt import format_utc

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    what: str
    args: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)


class ResilientLog:
    """A session's writes to an :class:`EpisodeLog` that survive the log failing for a while.

    Parameters
    ----------
    episode_log : EpisodeLog
    warn : callable
        Told, in one line, when writing starts failing and when it works again.
    """

    def __init__(self, episode_log: EpisodeLog, warn: Callable[[str], None]) -> None:
        self.log = episode_log
        self.warn = warn
        self.fallback = episode_log.path.with_name(episode_log.path.name + ".unsaved.jsonl")
        self.session_id: int | None = None
        self._pending: list[_Pending] = []
        self._failing = False
        self.fallback_used = False

    @property
    def pending(self) -> int:
        """Writes waiting for the log."""
        return len(self._pending)

    def start_session(self, **kwargs: Any) -> None:
        """Start the session (see :meth:`EpisodeLog.start_session`)."""
        record = {**kwargs, "started_at": format_utc(kwargs["started_at"])}
        self._submit(_Pending("start_session", kwargs, {"session": record}))

    def record(self, session_start: datetime, episode: Episode) -> None:
        """An episode event (see :meth:`EpisodeLog.record`)."""
        record = {**episode.as_dict(), "start_utc": format_utc(session_start)}
        self._submit(
            _Pending(
                "record", {"session_start": session_start, "episode": episode}, {"episode": record}
            )
        )

    def alert(self, at: datetime, kind: str, channel: str | None, message: str) -> None:
        """An alert shown to the patient."""
        args = {"at": at, "kind": kind, "channel": channel, "message": message}
        self._submit(_Pending("alert", args, {"alert": {**args, "at": format_utc(at)}}))

    def signal_lost(
        self,
        start: datetime,
        end: datetime | None,
        reason: str,
        channel: str | None = None,
        samples: int | None = None,
    ) -> None:
        """A stretch without usable signal (see :meth:`EpisodeLog.signal_lost`)."""
        args = {
            "start": start,
            "end": end,
            "reason": reason,
            "channel": channel,
            "samples": samples,
        }
        record = {
            **args,
            "start": format_utc(start),
            "end": None if end is None else format_utc(end),
        }
        self._submit(_Pending("signal_lost", args, {"signal_lost": record}))

    def signal_back(self, end: datetime, reason: str, channel: str | None = None) -> None:
        """The signal is usable again (see :meth:`EpisodeLog.signal_back`)."""
        args = {"end": end, "reason": reason, "channel": channel}
        self._submit(
            _Pending("signal_back", args, {"signal_back": {**args, "end": format_utc(end)}})
        )

    def set_recording(self, path: str) -> None:
        """Name the session's raw-signal recording."""
        self._submit(_Pending("set_recording", {"path": path}, {"recording": path}))

    def heartbeat(self, at: datetime) -> None:
        """Say the session is alive; also retries what is waiting."""
        if self._pending:
            self._flush()
        if not self._pending and self.session_id is not None:
            self._try(lambda: self.log.heartbeat(self._sid(), at))

    def end_session(self, at: datetime) -> None:
        """Close the session."""
        self._submit(_Pending("end_session", {"at": at}, {"end": format_utc(at)}))

    # -- machinery ------------------------------------------------------------------------------

    def _sid(self) -> int:
        assert self.session_id is not None
        return self.session_id

    def _apply(self, item: _Pending) -> None:
        a = item.args
        if item.what == "start_session":
            self.session_id = self.log.start_session(**a)
        elif item.what == "record":
            self.log.record(self._sid(), a["session_start"], a["episode"])
        elif item.what == "alert":
            self.log.alert(self._sid(), a["at"], a["kind"], a["channel"], a["message"])
        elif item.what == "signal_lost":
            self.log.signal_lost(
                self._sid(),
                a["start"],
                a["end"],
                a["reason"],
                channel=a["channel"],
                samples=a["samples"],
            )
        elif item.what == "signal_back":
            self.log.signal_back(self._sid(), a["end"], a["reason"], a["channel"])
        elif item.what == "set_recording":
            self.log.set_recording(self._sid(), a["path"])
        elif item.what == "end_session":
            self.log.end_session(self._sid(), a["at"])

    def _try(self, action: Callable[[], object]) -> bool:
        try:
            action()
        except sqlite3.Error as exc:
            if not self._failing:
                self._failing = True
                self.warn(
                    f"cannot write the episode log {self.log.path} ({exc}); monitoring goes on, "
                    f"episodes are kept in memory and in {self.fallback}"
                )
            log.debug("log write failed: %s", exc)
            return False
        if self._failing and not self._pending:
            self._failing = False
            self.warn(f"the episode log {self.log.path} can be written again; nothing was lost")
        return True

    def _flush(self) -> None:
        while self._pending:
            item = self._pending[0]
            if not self._try(lambda item=item: self._apply(item)):  # type: ignore[misc]
                return
            self._pending.pop(0)
            if not self._pending and self._failing:
                self._failing = False
                self.warn(f"the episode log {self.log.path} can be written again; nothing was lost")

    def _submit(self, item: _Pending) -> None:
        self._pending.append(item)
        self._flush()
        if any(p is item for p in self._pending):
            self._to_fallback(item)

    def _to_fallback(self, item: _Pending) -> None:
        try:
            with open_private(self.fallback, "a") as fh:
                fh.write(json.dumps(item.record, default=str) + "\n")
            self.fallback_used = True
        except OSError as exc:
            log.warning("cannot write the fallback file %s either: %s", self.fallback, exc)


def fallback_records(path: Path) -> list[Mapping[str, Any]]:
    """What a fallback file holds, one record per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
