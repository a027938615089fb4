import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from detect.events import Episode
from replay.bdf import EdfRecording
from sensor.block import Block
from spasmwatch.recorder import Recorder, default_path, tidy

START = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


def block(start: int, n: int, lost: bool = False) -> Block:
    x = np.random.default_rng(start).standard_normal((n, 1)).astype(np.float32) * 5
    return Block(x * (not lost), 1000.0, start, ("ch1",), ("uV",), np.full(n, lost))


def test_episodes_and_signal_lost_become_annotations(tmp_path: Path) -> None:
    said: list[str] = []
    path = default_path(tmp_path / "recordings", START, "simulated")
    assert path.name == "20261125T220000Z-simulated.bdf"
    r = Recorder(
        path,
        block(0, 1),
        START,
        locations={"ch1": "left calf"},
        patient="P-1",
        recording="t",
        warn=said.append,
    )
    r.write(block(0, 2000))
    r.write(block(2000, 500, lost=True))
    r.write(block(2500, 3000))
    r.episode(Episode("ch1", "left calf", "open", 100, None, 700, 1000.0, "uV"))
    r.episode(Episode("ch1", "left calf", "ended", 100, 1600, 2100, 1000.0, "uV", type="clonic"))
    r.write(block(5500, 2000))
    r.close()
    rec = EdfRecording(path, "emg")
    assert rec.truth == [{"start": 0.1, "end": 1.6, "channel": "ch1", "type": "clonic"}]
    notes = {
        (round(a["onset"], 3), round(a["duration"], 3), a["description"])
        for a in rec.raw.annotations
    }
    assert (2.0, 0.5, "signal lost") in notes
    assert said == []
    assert (tmp_path / "recordings").stat().st_mode & 0o777 == 0o700


def test_recording_stops_when_the_disk_is_low_and_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    r = Recorder(
        tmp_path / "r.bdf",
        block(0, 1),
        START,
        locations={},
        patient=None,
        recording="t",
        warn=said.append,
        min_free_bytes=2**62,
    )
    r.write(block(0, 1000))  # nothing more is written, nothing raises
    r.close()
    assert len(said) == 1
    assert said[0].startswith("recording stopped: only")
    assert "monitoring and the episode log go on" in said[0]


def test_tidy_mends_unfinished_files_and_removes_old_ones_never_the_log(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    unfinished = Recorder(
        folder / "a.bdf", block(0, 1), START, locations={}, patient=None, recording="t", warn=print
    )
    unfinished.write(block(0, 3500))
    assert unfinished.writer is not None
    os.close(unfinished.writer._fd)  # as if the process had died: the count is still -1
    old = Recorder(
        folder / "b.bdf", block(0, 1), START, locations={}, patient=None, recording="t", warn=print
    )
    old.write(block(0, 1000))
    old.close()
    os.utime(folder / "b.bdf", (0, 0))
    log = folder / "spasmwatch.db"
    log.write_text("not a recording")
    done = tidy(folder, keep_days=30, now=datetime.now(UTC))
    assert done[0] == "mended a.bdf (3 whole records kept)"
    assert "removed b.bdf (older than 30 days)" in done
    assert not (folder / "b.bdf").exists()
    assert log.exists()
    assert not EdfRecording(folder / "a.bdf", "emg").damaged


def test_two_sessions_starting_in_the_same_second_get_two_files(tmp_path: Path) -> None:
    a = default_path(tmp_path / "recordings", START, "simulated")
    b = default_path(tmp_path / "recordings", START, "simulated")
    assert a != b
    assert b.name.endswith("-2.bdf")
    assert a.stat().st_mode & 0o777 == 0o600
