from datetime import UTC, datetime
from pathlib import Path

from detect.events import Episode
from episodes.log import EpisodeLog
from episodes.resilient import ResilientLog, fallback_records

START = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)


def ep(onset: int, offset: int | None) -> Episode:
    return Episode(
        "ch1",
        "calf",
        "ended" if offset else "open",
        onset,
        offset,
        onset + 700,
        1000.0,
        "uV",
        peak=1.0,
        mean=1.0,
        strength_db=10.0,
        type="tonic" if offset else "unknown",
    )


def test_writes_wait_in_memory_and_a_fallback_file_then_reach_the_log(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    said: list[str] = []
    log = EpisodeLog(db)
    w = ResilientLog(log, said.append)
    w.start_session(
        source="t",
        signal="emg",
        fs=1000.0,
        started_at=START,
        locations={"ch1": "calf"},
        config={},
        version="x",
    )
    w.record(START, ep(1000, None))
    pages = log._db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own limit on the file's size: every further page is refused (SQLITE_FULL).
    log._db.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(300):
        w.record(START, ep(10_000 + 5000 * i, None))
        w.record(START, ep(10_000 + 5000 * i, 12_000 + 5000 * i))
    assert w.pending > 0
    assert len(said) == 1
    assert "cannot write the episode log" in said[0]
    assert str(w.fallback) in said[0]
    saved = fallback_records(w.fallback)
    assert len(saved) == w.pending
    assert saved[-1]["episode"]["state"] == "ended"
    assert w.fallback.stat().st_mode & 0o777 == 0o600
    log._db.execute("PRAGMA max_page_count = 1073741823")
    w.heartbeat(START)
    assert w.pending == 0
    assert "can be written again" in said[-1]
    rows = log.episodes()
    assert len(rows) == 301
    assert sum(r.state == "ended" for r in rows) == 300
    log.close()


def test_nothing_pending_when_the_log_works(tmp_path: Path) -> None:
    said: list[str] = []
    with EpisodeLog(tmp_path / "l.db") as log:
        w = ResilientLog(log, said.append)
        w.start_session(
            source="t",
            signal="emg",
            fs=1000.0,
            started_at=START,
            locations={},
            config={},
            version="x",
        )
        w.record(START, ep(1000, 3000))
        w.alert(START, "low_battery", None, "sensor battery low: 10 %")
        w.end_session(START)
        assert w.pending == 0
        assert not w.fallback.exists()
        assert said == []
        assert log.alerts()[0]["message"] == "sensor battery low: 10 %"
