"""End-to-end tests of the ``spasmwatch`` command, run as a user would run it."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
from conftest import query, run_cli, start_cli, wait_for

from replay.score import score

# Seeds picked for these tests only; the detector was never tuned on them.
LIMB_SEED, TRUNK_SEED, MONITOR_SEED = 7001, 7002, 7003


def long_first_episode_seed() -> int:
    """A seed whose first simulated spasm starts early and lasts long, so a test can stop the
    monitor while it is surely still going."""
    from sensor.simulate import SimConfig, SimulatedWearable

    for seed in range(7300, 7400):
        first = SimulatedWearable(SimConfig(fs_hz=1000.0, seconds=120.0, seed=seed)).truth[0]
        if first.start < 20 and first.duration > 15:
            return seed
    raise AssertionError("no such seed")


def test_version_and_help_on_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_cli("--version")  # the command itself, as installed
    assert out.returncode == 0
    assert out.stdout.startswith("spasmwatch ")
    from spasmwatch.cli import build_parser, main

    subs = next(
        a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"
    ).choices
    assert subs is not None
    assert {"scan", "emulate", "report", "export", "mark", "treatment"} <= set(subs)
    for sub in subs:  # in this process: a new one for each costs seconds of imports
        with pytest.raises(SystemExit) as done:
            main([sub, "--help"])
        assert done.value.code == 0
        assert "usage: spasmwatch " + sub in capsys.readouterr().out


@pytest.mark.parametrize(
    ("location", "seed"), [("left calf", LIMB_SEED), ("lower back", TRUNK_SEED)]
)
def test_simulate_then_replay_finds_the_episodes(tmp_path: Path, location: str, seed: int) -> None:
    csv = tmp_path / "rec.csv"
    sim = run_cli(
        "simulate",
        "--out",
        str(csv),
        "--seconds",
        "300",
        "--seed",
        str(seed),
        "--snr-db",
        "20",
        "--location",
        location,
        "--mains-hz",
        "60",
    )
    assert sim.returncode == 0, sim.stderr
    truth = json.loads(csv.with_suffix(".truth.json").read_text())
    assert len(truth) >= 5
    rep = run_cli("replay", str(csv), "--json", "--location", location)
    assert rep.returncode == 0, rep.stderr
    detected = [json.loads(line) for line in rep.stdout.splitlines()]
    assert all(
        {"start", "end", "duration", "channel", "location", "type", "peak", "units"} <= d.keys()
        for d in detected
    )
    assert {d["location"] for d in detected} == {location}
    s = score(detected, truth)
    print(
        f"{location}: F1 {s.f1:.3f} ({s.true_positives} TP, {s.false_positives} FP, {s.false_negatives} FN)"
    )
    assert s.f1 >= 0.9


def test_replay_reads_a_csv_written_by_someone_else(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(11)
    fs = 500
    t = np.arange(30 * fs) / fs
    x = rng.standard_normal(len(t)) * 4
    x[10 * fs : 14 * fs] *= 15  # one strong 4 s contraction
    csv = tmp_path / "theirs.csv"
    csv.write_text(
        "time,tibialis\n" + "\n".join(f"{a:.3f},{b:.2f}" for a, b in zip(t, x, strict=True)) + "\n"
    )
    rep = run_cli("replay", str(csv), "--json")
    assert rep.returncode == 0, rep.stderr
    (ep,) = [json.loads(line) for line in rep.stdout.splitlines()]
    assert ep["channel"] == "tibialis"
    assert ep["location"] == "unspecified"
    assert ep["units"] == "uV"
    assert abs(ep["start"] - 10) < 0.1
    assert abs(ep["end"] - 14) < 0.3


def test_replay_says_where_there_was_no_signal(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(13)
    fs = 500
    t = np.arange(40 * fs) / fs
    x = rng.standard_normal((len(t), 2)) * 4
    x[5 * fs : 9 * fs] *= 15  # a contraction on both channels
    x[15 * fs : 27 * fs, 1] = 512.0  # the second electrode off for 12 s (held at a value)
    rows = [f"{a:.3f},{b:.2f},{c:.2f}" for a, (b, c) in zip(t, x, strict=True)]
    for i in range(30 * fs, 30 * fs + 150):
        rows[i] = f"{t[i]:.3f},nan,nan"  # a gap as pandas writes one: 0.3 s lost
    csv = tmp_path / "gaps.csv"
    csv.write_text("# location: left calf\ntime,soleus,gastrocnemius\n" + "\n".join(rows) + "\n")
    db = tmp_path / "log.db"
    rep = run_cli("replay", str(csv), "--db", str(db), "--start", "2026-11-26T10:00:00Z")
    assert rep.returncode == 0, rep.stderr
    lines = rep.stdout.splitlines()
    flat = [ln for ln in lines if "flat for" in ln]
    lost = [ln for ln in lines if "samples lost" in ln]
    assert len(flat) == 1, rep.stdout
    assert len(lost) == 1, rep.stdout
    assert "left calf (gastrocnemius): flat for 12.0 s" in flat[0]
    assert flat[0].split()[:4] == ["15.00", "s", "-", "27.00"]
    assert "every channel: 150 samples lost" in lost[0]
    assert lost[0].split()[:4] == ["30.00", "s", "-", "30.30"]
    assert "2 episodes in" in rep.stderr
    assert "; 2 stretches without usable signal (above)" in rep.stderr
    assert sum("spasm ended" in ln for ln in lines) == 2  # the contraction on each channel
    rows_db = query(db, "SELECT reason, channel, duration_s, samples FROM signal_lost ORDER BY id")
    assert rows_db == [("detached", "gastrocnemius", 12.0, 6000), ("packets", None, 0.3, 150)]
    # Only some fields missing is not a lost sample: one line naming the line.
    rows[100] = f"{t[100]:.3f},nan,1.0"
    csv.write_text("time,soleus,gastrocnemius\n" + "\n".join(rows) + "\n")
    rep = run_cli("replay", str(csv))
    assert rep.returncode == 1
    assert rep.stderr.strip().count("\n") == 0
    assert f"{csv}:102: field 2 is not a finite number" in rep.stderr


def test_the_aasm_preset_reads_its_uv_thresholds_in_the_recordings_units(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(12)
    fs = 500
    t = np.arange(30 * fs) / fs
    x = rng.standard_normal(len(t)) * 1.0
    x[10 * fs : 14 * fs] *= 12  # 4 s at about 12 uV RMS: over rest + 8 uV
    rows = "\n".join(f"{a:.3f},{b / 1000:.6f}" for a, b in zip(t, x, strict=True)) + "\n"
    in_mv = tmp_path / "mv.csv"
    in_mv.write_text("# units: mV\ntime,tibialis\n" + rows)
    rep = run_cli("replay", str(in_mv), "--json", "--preset", "aasm")
    assert rep.returncode == 0, rep.stderr
    (ep,) = [json.loads(line) for line in rep.stdout.splitlines()]
    assert abs(ep["start"] - 10) < 0.1  # 8 uV read as 8 mV found nothing
    counts = tmp_path / "counts.csv"
    counts.write_text("# units: counts\ntime,tibialis\n" + rows)
    rep = run_cli("replay", str(counts), "--json", "--preset", "aasm")
    assert rep.returncode == 1
    assert rep.stderr.strip().count("\n") == 0
    assert "channel tibialis is in 'counts'" in rep.stderr
    assert "aasm" in rep.stderr


def test_a_csv_timed_in_milliseconds_is_asked_about(tmp_path: Path) -> None:
    csv = tmp_path / "ms.csv"
    csv.write_text("time,tibialis\n" + "\n".join(f"{i},{i % 7 - 3}" for i in range(3000)) + "\n")
    rep = run_cli("replay", str(csv))
    assert rep.returncode == 1
    assert rep.stderr.strip().count("\n") == 0
    assert f"{csv}:1: time steps of 1 s (1 Hz) are too slow" in rep.stderr
    assert "if time is in milliseconds, name the column 'time (ms)'" in rep.stderr
    csv.write_text(csv.read_text().replace("time,", "time (ms),", 1))
    rep = run_cli("replay", str(csv), "--json")
    assert rep.returncode == 0, rep.stderr


def test_a_column_of_values_replays_at_the_rate_given(tmp_path: Path) -> None:
    """No time column: --fs says the rate; without it, one line says what to give."""
    import numpy as np

    rng = np.random.default_rng(5)
    x = rng.standard_normal(20000) * 5
    x[8000:11000] *= 10  # a 3 s contraction at 1 kHz
    values = tmp_path / "values.txt"
    values.write_text("\n".join(f"{v:.3f}" for v in x) + "\n")
    rep = run_cli("replay", str(values))
    assert rep.returncode == 1
    assert rep.stderr.strip().count("\n") == 0
    assert "no time column" in rep.stderr
    assert "give --fs" in rep.stderr
    rep = run_cli("replay", str(values), "--fs", "1000", "--json")
    assert rep.returncode == 0, rep.stderr
    found = [json.loads(line) for line in rep.stdout.splitlines()]
    assert [(e["channel"], round(e["start"]), round(e["end"])) for e in found] == [("ch1", 8, 11)]


def test_a_malformed_csv_gets_one_line_naming_file_and_line(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("time,ch1\n0.000,1\n0.001,2\n0.002,oops\n")
    rep = run_cli("replay", str(csv))
    assert rep.returncode == 1
    assert rep.stderr.strip().count("\n") == 0
    assert f"{csv}:4: field 2 is not a number: 'oops'" in rep.stderr


def test_logging_a_csv_without_a_start_asks_for_one(tmp_path: Path) -> None:
    csv = tmp_path / "nostart.csv"
    csv.write_text("time,ch1\n" + "\n".join(f"{i / 1000:.3f},1" for i in range(100)) + "\n")
    rep = run_cli("replay", str(csv), "--db", str(tmp_path / "l.db"))
    assert rep.returncode == 2
    assert "--start" in rep.stderr
    ok = run_cli(
        "replay", str(csv), "--db", str(tmp_path / "l.db"), "--start", "2026-01-02T03:04:05Z"
    )
    assert ok.returncode == 0, ok.stderr
    con = sqlite3.connect(tmp_path / "l.db")
    assert con.execute("SELECT started_at, state FROM sessions").fetchall() == [
        ("2026-01-02T03:04:05.000Z", "ended")
    ]
    con.close()


def test_monitor_needs_a_sensor() -> None:
    out = run_cli("monitor")
    assert out.returncode == 2
    assert "--simulate" in out.stderr


def test_monitor_at_high_speed_fills_the_log(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    csv = tmp_path / "same.csv"
    run_cli("simulate", "--out", str(csv), "--seconds", "180", "--seed", str(MONITOR_SEED))
    truth = json.loads(csv.with_suffix(".truth.json").read_text())
    out = run_cli(
        "monitor",
        "--simulate",
        "--seconds",
        "180",
        "--speed",
        "200",
        "--seed",
        str(MONITOR_SEED),
        "--db",
        str(db),
    )
    assert out.returncode == 0, out.stderr
    assert "spasm started" in out.stdout
    assert "spasm ended" in out.stdout
    assert "lost frames: 0" in out.stdout
    con = sqlite3.connect(db)
    rows = con.execute(
        """SELECT (julianday(e.start_utc) - julianday(s.started_at)) * 86400,
                  (julianday(e.end_utc) - julianday(s.started_at)) * 86400, e.channel, e.state, e.location
           FROM episodes e JOIN sessions s ON s.id = e.session_id"""
    ).fetchall()
    session = con.execute("SELECT state, source, version FROM sessions").fetchone()
    con.close()
    assert session[0] == "ended"
    assert session[1] == "simulated"
    assert all(r[3] == "ended" and r[4] == "left calf" for r in rows)
    detected = [{"start": r[0], "end": r[1], "channel": r[2]} for r in rows]
    s = score(detected, truth)
    assert s.f1 >= 0.9, s
    # The live monitor and replay of the same signal agree exactly.
    rep = run_cli("replay", str(csv), "--json", "--location", "left calf")
    replayed = [json.loads(line) for line in rep.stdout.splitlines()]
    assert len(replayed) == len(rows)
    for r, d in zip(sorted(rows), replayed, strict=True):
        assert abs(r[0] - d["start"]) < 0.002


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_a_monitor_stopped_during_an_episode_keeps_it(tmp_path: Path, how: signal.Signals) -> None:
    db = tmp_path / "log.db"
    proc = start_cli(
        "monitor",
        "--simulate",
        "--speed",
        "5",
        "--seed",
        str(long_first_episode_seed()),
        "--db",
        str(db),
    )
    try:
        (row_id, _), *_ = wait_for(
            lambda: query(db, "SELECT id, state FROM episodes WHERE state = 'open'"),
            90,
            "an open episode in the log",
        )
        proc.send_signal(how)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        assert proc.stdout is not None
        assert proc.stderr is not None
        stdout = proc.stdout.read()
        proc.stdout.close()
        proc.stderr.close()
    if how != signal.SIGKILL:
        assert proc.returncode == 0
        assert "spasm cut short" in stdout
        assert "Stopped after" in stdout
    out = run_cli("episodes", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["id"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert rows[row_id]["state"] == "interrupted"
    assert rows[row_id]["end_utc"] >= rows[row_id]["start_utc"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT state FROM sessions").fetchone()[0] == (
        "interrupted" if how == signal.SIGKILL else "ended"
    )
    con.close()


def test_episodes_on_an_empty_log_and_a_foreign_file(tmp_path: Path) -> None:
    missing = run_cli("episodes", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1
    assert "no episode log here yet" in missing.stderr
    foreign = tmp_path / "foreign.db"
    foreign.write_text("hello")
    out = run_cli("episodes", "--db", str(foreign))
    assert out.returncode == 1
    assert "not a spasmwatch log" in out.stderr
    assert foreign.read_text() == "hello"


def test_out_of_range_simulation_options_name_the_option(tmp_path: Path) -> None:
    out = run_cli(
        "monitor",
        "--simulate",
        "--channels",
        "12",
        "--seconds",
        "1",
        "--db",
        str(tmp_path / "l.db"),
    )
    assert out.returncode == 2
    assert "spasmwatch: error: --channels: Input should be less than or equal to 8" in out.stderr
    out = run_cli("simulate", "--out", str(tmp_path / "x.csv"), "--fs", "100")
    assert out.returncode == 2
    assert "simulated sEMG runs at 200-4000 Hz, not 100" in out.stderr


def test_replay_can_be_paced_like_the_live_session(tmp_path: Path) -> None:
    import time

    csv = tmp_path / "r.csv"
    assert (
        run_cli("simulate", "--out", str(csv), "--seconds", "30", "--seed", "7401").returncode == 0
    )
    t0 = time.monotonic()
    paced = run_cli("replay", str(csv), "--json", "--speed", "10")
    elapsed = time.monotonic() - t0
    fast = run_cli("replay", str(csv), "--json")
    assert paced.returncode == 0
    assert paced.stdout == fast.stdout  # the same episodes, only later
    assert elapsed >= 3.0  # 30 s of signal at 10x cannot take less than 3 s


def test_todays_tally_counts_a_spasm_seen_on_two_channels_once(tmp_path: Path) -> None:
    from datetime import datetime

    from detect.events import Episode
    from episodes.log import EpisodeLog
    from spasmwatch.cli import _today

    start = datetime.now().astimezone().replace(hour=0, minute=0, second=1, microsecond=0)
    with EpisodeLog(tmp_path / "log.db") as log:
        sid = log.start_session(
            source="test",
            signal="emg",
            fs=1000.0,
            started_at=start,
            locations={"ch1": "left calf", "ch2": "left calf"},
            config={},
            version="test",
        )
        for ch, a, b in (("ch1", 10_000, 20_000), ("ch2", 11_000, 22_000), ("ch1", 40_000, 41_000)):
            ep = Episode(ch, "left calf", "ended", a, b, a + 500, 1000.0, "uV", 9.0, 5.0, 12.0)
            log.record(sid, start, ep)
        assert _today(log).by_location == {"left calf": (2, 13.0)}


def test_a_replay_without_a_body_location_says_when_it_finds_a_heart(tmp_path: Path) -> None:
    """A trunk recording with no location: its heartbeat is found and named, and the
    heartbeats are not spasms."""
    from test_pipeline import simulated

    _sim, block = simulated(5401, location="lower back", seconds=60.0)
    x = block.samples[:, 0]
    csv = tmp_path / "site.csv"
    csv.write_text("time,ch1\n" + "".join(f"{i / 1000:.3f},{v:.3f}\n" for i, v in enumerate(x)))
    unknown = run_cli("replay", str(csv))
    assert unknown.returncode == 0, unknown.stderr
    assert "note: ch1: a heartbeat runs through it (" in unknown.stderr
    named = run_cli("replay", str(csv), "--location", "lower back")
    assert named.stdout.replace("lower back", "unspecified") == unknown.stdout
    assert "heartbeat" not in named.stderr
    calf = run_cli("replay", str(csv), "--location", "left calf")
    assert "heartbeat" not in calf.stderr
    assert len(calf.stdout.splitlines()) > len(named.stdout.splitlines())  # beats as spasms
