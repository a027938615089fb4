"""Biometrics DataLOG text exports (``replay.datalog``), a real one and made-up ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from detect import DetectorConfig, Pipeline
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import concat

GAIT = Path(__file__).resolve().parent.parent / "recordings" / "uci_thigh_gait_5n.txt"


def export(path: Path, rows: list[str], channels: list[str] | None = None) -> Path:
    head = channels or [
        f"Channel 1: 'RF', {len(rows)} values, engineering units: mV, no filters.",
        f"Channel 2: 'KNEE', {len(rows)} values, engineering units: deg, no filters, "
        "extrapolated from 50 to 1000 samples per second.",
    ]
    path.write_text("File Name: test.log\n" + "\n".join(head) + "\n\n" + "".join(rows))
    return path


def test_a_real_export_replays_its_muscles_and_leaves_the_goniometer_out() -> None:
    rec = open_recording(GAIT, "emg")
    assert rec.info.fs == 1000.0  # the knee angle's line: "extrapolated ... to 1000"
    assert rec.info.channels == ("RF", "BF", "VM", "ST")
    assert rec.info.units == ("mV",) * 4
    assert getattr(rec, "left_out", None) == ("FX",)
    x = concat(list(rec.blocks()))
    assert x.n_samples == 6563  # the muscles' count, not the goniometer's longer column
    assert not x.lost.any()
    np.testing.assert_allclose(x.samples[0], [0.0037, -0.0015, -0.0008, -0.0173], rtol=1e-6)
    np.testing.assert_allclose(x.samples[-1], [0.0, -0.0015, -0.0105, -0.0181], rtol=1e-6)


def test_walking_is_not_a_heartbeat() -> None:
    """The semitendinosus bursts with each step, as regularly as a heart beats, and its
    bursts stand 20-28 dB over the ECG band's median: only their shapes, which never
    repeat, tell it from a heart."""
    x = concat(list(open_recording(GAIT, "emg", fs=1000.0).blocks()))
    pipe = Pipeline(DetectorConfig(), x.fs, x.channels, x.units)
    pipe.process(x)
    pipe.flush()
    assert pipe.heart_rates == {}
    shapeless = DetectorConfig(ecg={"alike": -1.0})  # the shape test left out
    pipe = Pipeline(shapeless, x.fs, x.channels, x.units)
    pipe.process(x)
    pipe.flush()
    assert set(pipe.heart_rates) == {"ST"}


def test_an_export_that_does_not_say_its_rate_asks_for_it(tmp_path: Path) -> None:
    rows = GAIT.read_text().splitlines(keepends=True)
    said = [n for n, line in enumerate(rows) if "extrapolated" in line]
    assert said == [5]
    rows[5] = rows[5].replace(", extrapolated from 50 to 1000 samples per second", "")
    f = tmp_path / "sitting.txt"
    f.write_text("".join(rows))
    with pytest.raises(ReplayError, match="does not say its sampling rate: give it with --fs"):
        open_recording(f, "emg")
    out = run_cli("replay", str(f), "--fs", "1000")
    assert out.returncode == 0, out.stderr
    assert "left out FX" in out.stderr
    assert "episodes in " + str(f) in out.stderr or "episode in " + str(f) in out.stderr


def test_a_rate_the_export_says_is_its_rate(tmp_path: Path) -> None:
    f = export(tmp_path / "a.txt", [f"{i * 0.001:.3f}\t{i}\n" for i in range(3000)])
    rec = open_recording(f, "emg")
    assert rec.info.fs == 1000.0
    assert concat(list(rec.blocks())).n_samples == 3000
    with pytest.raises(
        ReplayError, match="says its rows are 1000 samples per second, not --fs 500"
    ):
        open_recording(f, "emg", fs=500.0)


def test_bad_rows_are_named_by_line_and_field(tmp_path: Path) -> None:
    rows = [f"{i * 0.001:.3f}\t{i}\n" for i in range(100)]
    rows[40] = "0.04x\t40\n"
    rec = open_recording(export(tmp_path / "a.txt", rows), "emg")
    with pytest.raises(ReplayError, match=r"a\.txt:45: field 1 is not a number: '0\.04x'"):
        list(rec.blocks())
    rows[40] = "\t40\n"
    rec = open_recording(export(tmp_path / "b.txt", rows), "emg")
    with pytest.raises(ReplayError, match=r"b\.txt:45: field 1 is empty"):
        list(rec.blocks())
    rec = open_recording(export(tmp_path / "c.txt", rows[:40]), "emg")
    rec._left += 5  # the head promised more rows than there are
    with pytest.raises(ReplayError, match="ends 5 values short"):
        list(rec.blocks())


def test_a_last_line_cut_mid_row_is_left_out_with_a_warning(tmp_path: Path) -> None:
    rows = [f"{i * 0.001:.3f}\t{i}\n" for i in range(100)]
    f = export(tmp_path / "a.txt", [*rows[:99], "-"])  # its writer stopped after a sign
    rec = open_recording(f, "emg")
    assert concat(list(rec.blocks())).n_samples == 99
    assert rec.cut is not None
    assert rec.cut.line == 104


def test_channels_chosen_must_be_volts_of_one_rate(tmp_path: Path) -> None:
    head = [
        "Channel 1: 'RF', 100 values, engineering units: mV, no filters.",
        "Channel 2: 'VM', 90 values, engineering units: mV, no filters.",
        "Channel 3: 'KNEE', 100 values, engineering units: deg, no filters.",
    ]
    f = export(tmp_path / "a.txt", [f"{i}\t{i}\t{i}\n" for i in range(100)], head)
    with pytest.raises(ReplayError, match=r"different numbers of values \(RF 100, VM 90\)"):
        open_recording(f, "emg", fs=1000.0)
    with pytest.raises(ReplayError, match="channel 'KNEE' is in deg, not a muscle's signal"):
        open_recording(f, "emg", ["KNEE"], fs=1000.0)
    rec = open_recording(f, "emg", ["RF"], fs=1000.0)
    assert concat(list(rec.blocks())).n_samples == 100
    with pytest.raises(ReplayError, match="replays as sEMG"):
        open_recording(f, "acc", fs=1000.0)
