"""The episode log's schema and its migrations (documented in ``docs/log.md``)."""

from __future__ import annotations

#: ``PRAGMA application_id``: the ASCII bytes "SPSM", marks a SQLite file as a spasmwatch log.
APPLICATION_ID = 0x5350534D

#: Each entry takes a log from version ``n - 1`` to ``n``. Never edit a released entry: add one.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE sessions (
        id             INTEGER PRIMARY KEY,
        source         TEXT NOT NULL,
        device         TEXT,
        signal         TEXT NOT NULL CHECK (signal IN ('emg', 'acc')),
        fs_hz          REAL NOT NULL CHECK (fs_hz > 0),
        started_at     TEXT NOT NULL,
        ended_at       TEXT,
        last_heartbeat TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('running', 'ended', 'interrupted')),
        locations      TEXT NOT NULL,
        config         TEXT NOT NULL,
        version        TEXT NOT NULL,
        pid            INTEGER,
        host           TEXT,
        proc_start     TEXT
    );
    CREATE TABLE episodes (
        id           INTEGER PRIMARY KEY,
        session_id   INTEGER NOT NULL REFERENCES sessions (id),
        channel      TEXT NOT NULL,
        location     TEXT NOT NULL,
        start_utc    TEXT NOT NULL,
        end_utc      TEXT,
        duration_s   REAL,
        onset_index  INTEGER NOT NULL,
        offset_index INTEGER,
        peak         REAL,
        mean         REAL,
        units        TEXT NOT NULL,
        strength_db  REAL,
        type         TEXT NOT NULL CHECK (type IN ('tonic', 'clonic', 'mixed', 'unknown')),
        state        TEXT NOT NULL CHECK (state IN ('open', 'ended', 'interrupted')),
        UNIQUE (session_id, channel, onset_index)
    );
    CREATE INDEX episodes_by_start ON episodes (start_utc);
    CREATE INDEX sessions_by_state ON sessions (state);
    """,
    2: """
    ALTER TABLE sessions ADD COLUMN patient TEXT;
    CREATE TABLE alerts (
        id         INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        at_utc     TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN
                       ('long_episode', 'no_signal', 'low_battery', 'electrode_detached')),
        channel    TEXT,
        message    TEXT NOT NULL
    );
    CREATE INDEX alerts_by_time ON alerts (at_utc);
    """,
    3: """
    ALTER TABLE sessions ADD COLUMN recording TEXT;
    CREATE TABLE signal_lost (
        id         INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id),
        channel    TEXT,
        start_utc  TEXT NOT NULL,
        end_utc    TEXT,
        duration_s REAL,
        reason     TEXT NOT NULL CHECK (reason IN ('packets', 'link', 'detached', 'unusable')),
        samples    INTEGER
    );
    CREATE INDEX signal_lost_by_start ON signal_lost (start_utc);
    CREATE TABLE marks (
        id         INTEGER PRIMARY KEY,
        at_utc     TEXT NOT NULL,
        location   TEXT,
        text       TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX marks_by_time ON marks (at_utc);
    CREATE TABLE treatments (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        from_utc   TEXT NOT NULL,
        to_utc     TEXT,
        created_at TEXT NOT NULL,
        CHECK (to_utc IS NULL OR to_utc > from_utc)
    );
    CREATE TABLE reviews (
        id         INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL REFERENCES episodes (id),
        verdict    TEXT NOT NULL CHECK (verdict IN ('confirmed', 'rejected')),
        at_utc     TEXT NOT NULL,
        note       TEXT
    );
    CREATE INDEX reviews_by_episode ON reviews (episode_id);
    """,
}

LATEST = max(MIGRATIONS)
