"""The episode log: one SQLite file that keeps every confirmed episode, even after a crash.

An episode's row is written the moment it is confirmed (state ``open``) and completed when it
ends. Sessions beat a heartbeat; on start-up, the open episodes of sessions whose process is
gone are closed as ``interrupted`` at the session's last heartbeat.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from detect.events import Episode
from episodes.errors import ForeignFileError, LogError
from episodes.schema import APPLICATION_ID, LATEST, MIGRATIONS
from replay.files import private_dir
from replay.timefmt import at_offset, format_utc

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long a writer waits for another (a second monitor on the same log), ms.
BUSY_TIMEOUT_MS = 10_000
#: Between tries at opening a log another process is opening too (see ``EpisodeLog``), s.
OPEN_RETRY_S = 0.05


def default_db_path() -> Path:
    """``~/.local/share/spasmwatch/spasmwatch.db`` on Linux (the platform's user data directory)."""
    return Path(platformdirs.user_data_dir("spasmwatch", appauthor=False)) / "spasmwatch.db"


def _process_start(pid: int) -> str | None:
    """When a process started (Linux: clock ticks since boot), to tell a reused PID apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, proc_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _process_start(pid)
    return proc_start is None or now is None or now == proc_start


def check_header(path: Path) -> None:
    """Refuse a file that is not a spasmwatch log, without touching it.

    Raises
    ------
    ForeignFileError
        For a file that is not SQLite, or a SQLite file of another application.
    LogError
        For a log written by a newer spasmwatch.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LogError(path, f"cannot read: {exc.strerror}") from exc
    if len(head) == 0:
        return
    if len(head) < 100 or head[:16] != SQLITE_MAGIC:
        raise ForeignFileError(path, "not a spasmwatch log (not a SQLite database); left untouched")
    app_id = int.from_bytes(head[68:72], "big")
    wal = path.with_name(path.name + "-wal")
    if app_id == 0 and wal.exists() and wal.stat().st_size > 0:
        return  # a log whose creation was never checkpointed: SQLite reads the id through the WAL
    if app_id == 0 and int.from_bytes(head[28:32], "big") <= 1:
        # One page, no table: a log another spasmwatch is creating this instant (its WAL not
        # written yet). Opening checks again, under the lock, that no table is there.
        return
    if app_id != APPLICATION_ID:
        raise ForeignFileError(
            path,
            f"a SQLite database of another application (application_id {app_id:#x}); left untouched",
        )
    version = int.from_bytes(head[60:64], "big")
    if version > LATEST:
        raise LogError(
            path, f"made by a newer spasmwatch (log version {version}, this reads {LATEST})"
        )


@dataclass(frozen=True)
class EpisodeRow:
    """One row of the ``episodes`` table, as read back."""

    id: int
    session_id: int
    channel: str
    location: str
    start_utc: str
    end_utc: str | None
    duration_s: float | None
    peak: float | None
    mean: float | None
    units: str
    strength_db: float | None
    type: str
    state: str

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON object."""
        return dict(self.__dict__)


class EpisodeLog:
    """An open episode log.

    Parameters
    ----------
    path : path
        The SQLite file; created (0600, in a 0700 directory when spasmwatch makes it) if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        check_header(self.path)
        fresh = not self.path.exists()
        if fresh:
            private_dir(self.path.parent)
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise LogError(self.path, f"cannot create: {exc.strerror}") from exc
        # Two monitors opening one new log at once: SQLite answers "locked" at once, without
        # waiting, to a connection that would deadlock another (one moving the file to WAL
        # while the other holds a write lock in the old journal), so opening is tried again.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._db = self._connect()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise LogError(self.path, f"cannot open the log: {exc}") from exc
                time.sleep(OPEN_RETRY_S)
            except sqlite3.DatabaseError as exc:
                raise LogError(self.path, f"cannot open the log: {exc}") from exc
        self.recover()

    def _connect(self) -> sqlite3.Connection:
        """The log opened, in WAL mode and at the latest schema (closed again if that fails)."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            self._db = db
            self._migrate()
        except BaseException:
            db.close()
            raise
        return db

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version != 0):
                raise ForeignFileError(self.path, "not a spasmwatch log; left untouched")
            if app_id == 0:
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise ForeignFileError(
                        self.path, "a SQLite database of another application; left untouched"
                    )
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for v in range(version + 1, LATEST + 1):
                log.info("migrating %s to log version %d", self.path, v)
                for statement in MIGRATIONS[v].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {v}")
            db.execute("COMMIT")
            # Put the id and version into the main file's header, where check_header reads them.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @property
    def version(self) -> int:
        """The log's schema version."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- sessions -------------------------------------------------------------------------------

    def recover(self) -> int:
        """Close what dead processes left open; return how many episodes were closed."""
        host = socket.gethostname()
        closed = 0
        rows = self._db.execute(
            "SELECT id, pid, host, proc_start, last_heartbeat FROM sessions WHERE state = 'running'"
        ).fetchall()
        for row in rows:
            if (
                row["host"] == host
                and row["pid"] is not None
                and _alive(row["pid"], row["proc_start"])
            ):
                continue
            if row["host"] != host:
                continue  # cannot tell whether a process on another machine is alive
            closed += self._close_session(row["id"], row["last_heartbeat"], "interrupted")
            log.warning(
                "session %d had stopped without closing; closed at its last heartbeat", row["id"]
            )
        return closed

    def _close_session(self, session_id: int, at: str, state: str) -> int:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(
                """UPDATE episodes SET state = 'interrupted',
                       end_utc = max(start_utc, ?),
                       duration_s = round(max(0.0, (julianday(max(start_utc, ?)) - julianday(start_utc)) * 86400.0), 3)
                   WHERE session_id = ? AND state = 'open'""",
                (at, at, session_id),
            )
            db.execute(
                """UPDATE signal_lost SET end_utc = max(start_utc, ?),
                       duration_s = round(max(0.0, (julianday(max(start_utc, ?)) - julianday(start_utc)) * 86400.0), 3)
                   WHERE session_id = ? AND end_utc IS NULL""",
                (at, at, session_id),
            )
            db.execute(
                "UPDATE sessions SET state = ?, ended_at = ?, last_heartbeat = ? WHERE id = ?",
                (state, at, at, session_id),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return cur.rowcount

    def start_session(
        self,
        *,
        source: str,
        signal: str,
        fs: float,
        started_at: datetime,
        locations: Mapping[str, str],
        config: Mapping[str, Any],
        version: str,
        device: str | None = None,
        patient: str | None = None,
    ) -> int:
        """Record a new running session and return its id."""
        pid = os.getpid()
        now = format_utc(started_at)
        cur = self._db.execute(
            """INSERT INTO sessions (source, device, signal, fs_hz, started_at, last_heartbeat, state,
                   locations, config, version, pid, host, proc_start, patient)
               VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)""",
            (
                source,
                device,
                signal,
                fs,
                now,
                now,
                json.dumps(dict(locations), sort_keys=True),
                json.dumps(config, sort_keys=True),
                version,
                pid,
                socket.gethostname(),
                _process_start(pid),
                patient,
            ),
        )
        return int(cur.lastrowid or 0)

    def heartbeat(self, session_id: int, at: datetime) -> None:
        """Say the session is alive and has processed signal up to ``at``."""
        self._db.execute(
            "UPDATE sessions SET last_heartbeat = ? WHERE id = ?", (format_utc(at), session_id)
        )

    def end_session(self, session_id: int, at: datetime, *, interrupted: bool = False) -> None:
        """Close a session (and any episode still open in it, as interrupted)."""
        self._close_session(session_id, format_utc(at), "interrupted" if interrupted else "ended")

    # -- episodes -------------------------------------------------------------------------------

    def record(self, session_id: int, session_start: datetime, episode: Episode) -> int:
        """Write an episode event: insert it when it opens, complete the row when it ends."""
        start = at_offset(session_start, episode.start_s)
        end = None if episode.end_s is None else format_utc(at_offset(session_start, episode.end_s))
        cur = self._db.execute(
            """INSERT INTO episodes (session_id, channel, location, start_utc, end_utc, duration_s,
                   onset_index, offset_index, peak, mean, units, strength_db, type, state)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (session_id, channel, onset_index) DO UPDATE SET
                   end_utc = excluded.end_utc, duration_s = excluded.duration_s,
                   offset_index = excluded.offset_index, peak = excluded.peak,
                   mean = excluded.mean, strength_db = excluded.strength_db,
                   type = excluded.type, state = excluded.state
               RETURNING id""",
            (
                session_id,
                episode.channel,
                episode.location,
                format_utc(start),
                end,
                episode.duration_s,
                episode.onset_index,
                episode.offset_index,
                episode.peak,
                episode.mean,
                episode.units,
                episode.strength_db,
                episode.type,
                episode.state,
            ),
        )
        row = cur.fetchone()
        return int(row[0])

    def alert(
        self, session_id: int, at: datetime, kind: str, channel: str | None, message: str
    ) -> int:
        """Store an alert the patient was shown (an audit trail for the clinician)."""
        cur = self._db.execute(
            "INSERT INTO alerts (session_id, at_utc, kind, channel, message) VALUES (?, ?, ?, ?, ?)",
            (session_id, format_utc(at), kind, channel, message),
        )
        return int(cur.lastrowid or 0)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert, oldest first."""
        return [
            dict(r) for r in self._db.execute("SELECT * FROM alerts ORDER BY at_utc, id").fetchall()
        ]

    def set_recording(self, session_id: int, path: str) -> None:
        """Name the file that holds the session's raw signal."""
        self._db.execute("UPDATE sessions SET recording = ? WHERE id = ?", (path, session_id))

    def signal_lost(
        self,
        session_id: int,
        start: datetime,
        end: datetime | None,
        reason: str,
        *,
        channel: str | None = None,
        samples: int | None = None,
    ) -> int:
        """Record a stretch without usable signal (``end`` None while it lasts).

        ``reason`` is ``packets`` (frames lost on the way), ``link`` (the sensor disconnected),
        ``detached`` (a flat channel: electrode off or clipped) or ``unusable``. ``channel``
        None means every channel of the session.
        """
        duration = None if end is None else round((end - start).total_seconds(), 3)
        cur = self._db.execute(
            """INSERT INTO signal_lost (session_id, channel, start_utc, end_utc, duration_s,
                   reason, samples) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                session_id,
                channel,
                format_utc(start),
                None if end is None else format_utc(end),
                duration,
                reason,
                samples,
            ),
        )
        return int(cur.lastrowid or 0)

    def signal_back(
        self, session_id: int, end: datetime, reason: str, channel: str | None = None
    ) -> int:
        """Close the open signal-lost stretch of this session, reason and channel."""
        cur = self._db.execute(
            """UPDATE signal_lost SET end_utc = max(start_utc, ?),
                   duration_s = round(max(0.0, (julianday(?) - julianday(start_utc)) * 86400.0), 3)
               WHERE session_id = ? AND reason = ? AND channel IS ? AND end_utc IS NULL""",
            (format_utc(end), format_utc(end), session_id, reason, channel),
        )
        return cur.rowcount

    def lost(self) -> list[dict[str, Any]]:
        """Every signal-lost stretch, oldest first."""
        return [
            dict(r)
            for r in self._db.execute("SELECT * FROM signal_lost ORDER BY start_utc, id").fetchall()
        ]

    # -- the patient's and the clinician's entries ----------------------------------------------

    def add_mark(self, at: datetime, text: str, location: str | None = None) -> int:
        """The patient's own note of a spasm."""
        if not text.strip():
            raise LogError(self.path, "a mark needs some text")
        cur = self._db.execute(
            "INSERT INTO marks (at_utc, location, text, created_at) VALUES (?, ?, ?, ?)",
            (format_utc(at), location, text.strip(), format_utc(datetime.now(UTC))),
        )
        return int(cur.lastrowid or 0)

    def marks(self) -> list[dict[str, Any]]:
        """Every diary mark, oldest first."""
        return [
            dict(r) for r in self._db.execute("SELECT * FROM marks ORDER BY at_utc, id").fetchall()
        ]

    def add_treatment(self, name: str, start: datetime, end: datetime | None = None) -> int:
        """A treatment period (``end`` None: still going)."""
        if not name.strip():
            raise LogError(self.path, "a treatment needs a name")
        if end is not None and end <= start:
            raise LogError(self.path, f"treatment {name!r} ends before it starts")
        cur = self._db.execute(
            "INSERT INTO treatments (name, from_utc, to_utc, created_at) VALUES (?, ?, ?, ?)",
            (
                name.strip(),
                format_utc(start),
                None if end is None else format_utc(end),
                format_utc(datetime.now(UTC)),
            ),
        )
        return int(cur.lastrowid or 0)

    def treatments(self) -> list[dict[str, Any]]:
        """Every treatment, by start."""
        return [
            dict(r)
            for r in self._db.execute("SELECT * FROM treatments ORDER BY from_utc, id").fetchall()
        ]

    def review(self, episode_id: int, verdict: str, note: str | None = None) -> int:
        """A clinician's verdict on an episode, kept beside the detector's row (never over it).

        The latest verdict on an episode is the one that counts.
        """
        if verdict not in ("confirmed", "rejected"):
            raise LogError(self.path, f"unknown verdict {verdict!r}")
        found = self._db.execute("SELECT 1 FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if found is None:
            raise LogError(self.path, f"no episode with id {episode_id}")
        cur = self._db.execute(
            "INSERT INTO reviews (episode_id, verdict, at_utc, note) VALUES (?, ?, ?, ?)",
            (episode_id, verdict, format_utc(datetime.now(UTC)), note),
        )
        return int(cur.lastrowid or 0)

    def verdicts(self) -> dict[int, str]:
        """Episode id -> its latest verdict."""
        rows = self._db.execute(
            """SELECT episode_id, verdict FROM reviews r WHERE id =
                   (SELECT max(id) FROM reviews WHERE episode_id = r.episode_id)"""
        ).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def episodes(self, since: datetime | None = None) -> list[EpisodeRow]:
        """Every episode (from ``since`` on), oldest first."""
        query = """SELECT id, session_id, channel, location, start_utc, end_utc, duration_s, peak,
                          mean, units, strength_db, type, state FROM episodes"""
        args: tuple[Any, ...] = ()
        if since is not None:
            query += " WHERE start_utc >= ?"
            args = (format_utc(since),)
        query += " ORDER BY start_utc, id"
        return [EpisodeRow(**dict(r)) for r in self._db.execute(query, args).fetchall()]

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (for reports and exports)."""
        return self._db.execute(sql, args).fetchall()

    def sessions(self) -> list[dict[str, Any]]:
        """Every session, oldest first."""
        return [dict(r) for r in self._db.execute("SELECT * FROM sessions ORDER BY id").fetchall()]

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> EpisodeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
