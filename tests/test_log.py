import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detect.events import Episode
from episodes.errors import ForeignFileError, LogError
from episodes.log import EpisodeLog
from episodes.schema import APPLICATION_ID, LATEST

START = datetime(2026, 5, 4, 22, 0, 0, tzinfo=UTC)


def episode(state: str, onset: int = 2000, offset: int | None = None) -> Episode:
    return Episode(
        channel="ch1",
        location="left calf",
        state=state,  # type: ignore[arg-type]
        onset_index=onset,
        offset_index=offset,
        decided_index=onset + 600,
        fs=1000.0,
        units="uV",
        peak=80.0 if offset else None,
        mean=50.0 if offset else None,
        strength_db=18.0 if offset else None,
        type="tonic" if offset else "unknown",
    )


def new_session(log: EpisodeLog) -> int:
    return log.start_session(
        source="test",
        signal="emg",
        fs=1000.0,
        started_at=START,
        locations={"ch1": "left calf"},
        config={"preset": "default"},
        version="0.1.0",
    )


def test_new_log_is_private_and_marked_as_ours(tmp_path: Path) -> None:
    db = tmp_path / "data" / "spasmwatch.db"
    with EpisodeLog(db) as log:
        assert log.version == LATEST
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "episodes"} <= tables
    con.close()


def test_an_episode_is_written_open_then_completed(tmp_path: Path) -> None:
    with EpisodeLog(tmp_path / "l.db") as log:
        sid = new_session(log)
        a = log.record(sid, START, episode("open"))
        rows = log.episodes()
        assert [(r.state, r.start_utc, r.end_utc) for r in rows] == [
            ("open", "2026-05-04T22:00:02.000Z", None)
        ]
        b = log.record(sid, START, episode("ended", offset=6500))
        assert a == b
        (row,) = log.episodes()
        assert (row.state, row.end_utc, row.duration_s, row.type, row.peak, row.units) == (
            "ended",
            "2026-05-04T22:00:06.500Z",
            4.5,
            "tonic",
            80.0,
            "uV",
        )
        assert log.episodes(since=START + timedelta(seconds=3)) == []
        session = log.sessions()[0]
        assert session["state"] == "running"
        assert session["pid"] == os.getpid()


def test_sessions_of_dead_processes_are_closed_at_their_heartbeat(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    with EpisodeLog(db) as log:
        sid = new_session(log)
        log.record(sid, START, episode("open"))
        log.heartbeat(sid, START + timedelta(seconds=4))
    # Pretend the process died: a PID that cannot be running.
    con = sqlite3.connect(db)
    con.execute("UPDATE sessions SET pid = ?", (2**22 + 12345,))
    con.commit()
    con.close()
    with EpisodeLog(db) as log:
        (row,) = log.episodes()
        assert (row.state, row.end_utc, row.duration_s) == (
            "interrupted",
            "2026-05-04T22:00:04.000Z",
            2.0,
        )
        assert log.sessions()[0]["state"] == "interrupted"


def test_a_running_session_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    with EpisodeLog(tmp_path / "l.db") as log:
        sid = new_session(log)
        log.record(sid, START, episode("open"))
        with EpisodeLog(tmp_path / "l.db") as other:
            assert other.episodes()[0].state == "open"


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    p = tmp_path / "notes.db"
    p.write_bytes(b"my diary, not a database" * 10)
    before = p.read_bytes()
    with pytest.raises(ForeignFileError, match="not a spasmwatch log"):
        EpisodeLog(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["notes.db"]


def test_another_applications_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(ForeignFileError, match="another application"):
        EpisodeLog(p)
    assert p.read_bytes() == before


def test_a_log_another_monitor_is_creating_this_instant_is_opened(tmp_path: Path) -> None:
    # Two monitors started together on a new log: one has put the file in WAL mode (a
    # one-page header, no id yet, no WAL written) when the other looks at it.
    p = tmp_path / "shared.db"
    first = sqlite3.connect(p, isolation_level=None)
    first.execute("PRAGMA journal_mode = WAL")
    log = EpisodeLog(p)
    assert log._db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    log.close()
    first.close()


def test_a_log_from_a_newer_spasmwatch_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "l.db"
    EpisodeLog(p).close()
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version = {LATEST + 1}")
    con.commit()
    con.close()
    with pytest.raises(LogError, match="newer spasmwatch"):
        EpisodeLog(p)


def test_migrations_run_from_an_older_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from episodes import log as log_module
    from episodes import schema

    p = tmp_path / "l.db"
    EpisodeLog(p).close()
    migrations = {**schema.MIGRATIONS, LATEST + 1: "CREATE TABLE extra (x INTEGER)"}
    monkeypatch.setattr(log_module, "MIGRATIONS", migrations)
    monkeypatch.setattr(log_module, "LATEST", LATEST + 1)
    with EpisodeLog(p) as log:
        assert log.version == LATEST + 1
    con = sqlite3.connect(p)
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 1
    con.close()


def test_integrity_after_a_writer_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    code = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_log import EpisodeLog, episode, new_session, START
log = EpisodeLog({str(db)!r})
sid = new_session(log)
log.record(sid, START, episode("open"))
os.kill(os.getpid(), 9)
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -9
    with EpisodeLog(db) as log:
        assert [r.state for r in log.episodes()] == ["interrupted"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_a_log_another_process_is_opening_is_waited_for(tmp_path: Path) -> None:
    """Two monitors starting on one new log: the one moving the file to WAL while the other
    held a write lock in the old journal got "database is locked" at once (SQLite does not
    wait where waiting could deadlock), and its monitor ended."""
    import threading

    db = tmp_path / "new.db"
    db.touch(mode=0o600)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the other monitor, opening it in the old journal
    done = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    done.start()
    try:
        with EpisodeLog(db) as log:
            assert log.sessions() == []
    finally:
        done.join()
        other.close()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
