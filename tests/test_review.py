"""The patient's diary, treatments, the clinician's verdicts and the exports, through the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import edfio
import mne
from conftest import query, run_cli
from test_report import build

from episodes.export import FIELDS

TSV_HEAD = ["onset", "duration", "trial_type", "session", "channel", "location"]


def test_mark_is_stored_with_its_time_and_location(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    done = run_cli(
        "mark", "cramp woke me up", "--at", "2026-03-02T23:05Z", "--location", "left calf",
        "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cramp woke me up" in done.stdout
    assert query(db, "SELECT at_utc, location, text FROM marks") == [
        ("2026-03-02T23:05:00.000Z", "left calf", "cramp woke me up")
    ]
    assert db.stat().st_mode & 0o777 == 0o600
    bad = run_cli("mark", "x", "--at", "yesterday", "--db", str(db))
    assert bad.returncode == 2
    assert "not an ISO-8601" in bad.stderr


def test_treatments_add_and_list(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    assert run_cli("treatment", "add", "physio", "--from", "2026-03-01T00:00Z", "--db", str(db)).returncode == 0  # fmt: skip
    done = run_cli(
        "treatment", "add", "baclofen 10 mg", "--from", "2026-03-06T00:00Z",
        "--to", "2026-03-20T00:00Z", "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = query(db, "SELECT name, from_utc, to_utc FROM treatments ORDER BY id")
    assert rows == [
        ("physio", "2026-03-01T00:00:00.000Z", None),
        ("baclofen 10 mg", "2026-03-06T00:00:00.000Z", "2026-03-20T00:00:00.000Z"),
    ]
    listed = run_cli("treatment", "list", "--db", str(db))
    assert "baclofen 10 mg" in listed.stdout
    assert "ongoing" in listed.stdout
    backwards = run_cli(
        "treatment", "add", "x", "--from", "2026-03-06", "--to", "2026-03-01", "--db", str(db)
    )
    assert backwards.returncode == 1
    assert "ends before it starts" in backwards.stderr


def test_verdicts_live_beside_the_detectors_rows(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    ids = build(db)
    before = query(db, "SELECT * FROM episodes ORDER BY id")
    done = run_cli("episodes", "--db", str(db), "--reject", str(ids[0]), "--note", "was walking")
    assert done.returncode == 0, done.stderr
    assert run_cli("episodes", "--db", str(db), "--confirm", str(ids[0])).returncode == 0
    assert query(db, "SELECT * FROM episodes ORDER BY id") == before  # never overwritten
    rows = query(db, f"SELECT verdict, note FROM reviews WHERE episode_id = {ids[0]} ORDER BY id")
    assert rows == [("rejected", "was walking"), ("confirmed", None)]
    missing = run_cli("episodes", "--db", str(db), "--confirm", "9999")
    assert missing.returncode == 1
    assert "no episode with id 9999" in missing.stderr


def test_csv_and_jsonl_hold_episodes_marks_and_gaps(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    build(db)
    out = tmp_path / "all.csv"
    assert run_cli("export", "--format", "csv", "--db", str(db), "--out", str(out)).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    kinds = [r["kind"] for r in rows]
    assert kinds.count("episode") == query(db, "SELECT count(*) FROM episodes")[0][0]
    assert kinds.count("mark") == 2
    assert kinds.count("signal_lost") == 2
    rejected = next(r for r in rows if r["verdict"] == "rejected")
    assert rejected["location"] == "lower back"
    assert rejected["duration_s"] == "60.0"
    lines = run_cli("export", "--format", "jsonl", "--db", str(db)).stdout.splitlines()
    objs = [json.loads(x) for x in lines]
    assert [o["kind"] for o in objs] == kinds
    assert objs[0]["start_utc"] == "2026-03-02T21:30:00.000Z"


def test_events_tsv_per_session_follows_bids(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    build(db)
    folder = tmp_path / "events"
    folder.mkdir()
    done = run_cli("export", "--format", "events-tsv", "--db", str(db), "--out", str(folder))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "ses-1_events.json",
        "ses-1_events.tsv",
        "ses-2_events.json",
        "ses-2_events.tsv",
    ]
    lines = (folder / "ses-1_events.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    assert head[:6] == TSV_HEAD
    rows = [dict(zip(head, x.split("\t"), strict=True)) for x in lines[1:]]
    spasms = [r for r in rows if r["trial_type"] == "spasm"]
    # Session 1 began at 21:00; its first episode at 21:30 lasted 10 s.
    assert (spasms[0]["onset"], spasms[0]["duration"]) == ("1800.000", "10")
    mark = next(r for r in rows if r["trial_type"] == "mark")
    assert (mark["onset"], mark["duration"], mark["note"]) == (
        "7500.000",
        "n/a",
        "woke up with a cramp",
    )
    lost = [r for r in rows if r["trial_type"] == "signal_lost"]
    assert [(r["onset"], r["duration"], r["channel"]) for r in lost] == [
        ("14400.000", "1800", "n/a"),
        ("21600.000", "1200", "ch1"),
    ]
    sidecar = json.loads((folder / "ses-1_events.json").read_text())
    assert set(TSV_HEAD) <= set(sidecar)
    assert sidecar["GeneratedBy"][0]["Name"] == "spasmwatch"
    assert all((folder / n).stat().st_mode & 0o777 == 0o600 for n in ("ses-1_events.tsv",))

    one = tmp_path / "all_events.tsv"
    assert run_cli("export", "--format", "events-tsv", "--db", str(db), "--out", str(one)).returncode == 0  # fmt: skip
    sessions = {x.split("\t")[3] for x in one.read_text().splitlines()[1:]}
    assert sessions == {"1", "2"}
    assert one.with_suffix(".json").exists()


def test_edf_annotations_open_in_edfio_and_mne(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    build(db)
    out = tmp_path / "events.edf"
    done = run_cli("export", "--format", "edf-annotations", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    edf = edfio.read_edf(out)
    texts = [a.text for a in edf.annotations]
    assert sum(t.startswith("spasm ") for t in texts) == 8
    first = edf.annotations[0]
    assert (first.onset, first.duration) == (1800.0, 10.0)
    assert str(edf.startdate) == "2026-03-02"
    read = mne.read_annotations(out)
    assert list(read.description) == texts
    assert read.onset[0] == 1800.0


def test_exports_of_an_empty_log(tmp_path: Path) -> None:
    from episodes.log import EpisodeLog

    db = tmp_path / "log.db"
    EpisodeLog(db).close()
    csv_out = run_cli("export", "--format", "csv", "--db", str(db))
    assert csv_out.returncode == 0
    assert csv_out.stdout.splitlines() == [",".join(FIELDS)]
    tsv = run_cli("export", "--format", "events-tsv", "--db", str(db))
    assert tsv.stdout.splitlines()[0].split("\t")[:6] == TSV_HEAD
    edf = run_cli(
        "export", "--format", "edf-annotations", "--db", str(db), "--out", str(tmp_path / "e.edf")
    )
    assert edf.returncode == 1
    assert edf.stderr.strip().count("\n") == 0
    assert "nothing to export as EDF annotations" in edf.stderr
    assert not (tmp_path / "e.edf").exists()


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    build(db)
    for args in (
        ("report", "--out", str(tmp_path)),  # a folder, not a file
        ("export", "--format", "csv", "--out", str(tmp_path / "missing" / "x.csv")),
    ):
        done = run_cli(*args, "--db", str(db))
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().count("\n") == 0, done.stderr
        assert done.stderr.startswith("spasmwatch: error: ")
        assert str(tmp_path) in done.stderr
