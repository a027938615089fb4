from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from replay.csvio import CsvRecording, CsvWriter
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import Block, concat


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_round_trip_is_exact_for_float32_and_keeps_start(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((2500, 2)) * 50).astype(np.float32)
    start = datetime(2026, 3, 1, 22, 30, 0, 250000, tzinfo=UTC)
    w = CsvWriter(tmp_path / "r.csv", ["calf", "thigh"], 2000.0, start, "uV")
    w.write(Block(x[:1000], 2000.0, 0, ("calf", "thigh"), ("uV", "uV")))
    w.write(Block(x[1000:], 2000.0, 1000, ("calf", "thigh"), ("uV", "uV")))
    w.close()
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o600
    rec = CsvRecording(tmp_path / "r.csv", "emg")
    assert rec.info.fs == pytest.approx(2000.0)
    assert rec.info.start == start
    assert rec.info.channels == ("calf", "thigh")
    back = concat(list(rec.blocks()))
    np.testing.assert_array_equal(back.samples, x)


def test_reads_a_hand_written_accelerometer_file(tmp_path: Path) -> None:
    rows = "\n".join(f"{i / 50:.2f},0.01,-0.02,1.0" for i in range(100))
    p = write(tmp_path / "a.csv", f"# from a phone\ntime,ankle_x,ankle_y,ankle_z\n{rows}\n")
    rec = open_recording(p, "acc")
    assert rec.info.fs == pytest.approx(50.0)
    assert rec.info.units == ("g", "g", "g")
    assert rec.info.start is None
    assert rec.info.locations == {}
    assert sum(b.n_samples for b in rec.blocks()) == 100


def test_a_location_comment_names_every_channel_s_body_location(tmp_path: Path) -> None:
    p = write(tmp_path / "n.csv", "# location: neck\ntime,a,b\n0,1,2\n0.001,2,3\n")
    rec = open_recording(p, "emg")
    rec.close()
    assert rec.info.locations == {"a": "neck", "b": "neck"}


@pytest.mark.parametrize("written", ["µV", "μV", " uV "])
def test_micro_is_read_however_it_is_written(tmp_path: Path, written: str) -> None:
    """The micro sign and the Greek mu are both "uV", as the AASM preset needs it."""
    p = tmp_path / "u.csv"
    p.write_text(f"# units: {written}\ntime,a\n0,1\n0.001,2\n", encoding="utf-8")
    rec = open_recording(p, "emg")
    rec.close()
    assert rec.info.units == ("uV",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"x.csv:0: no header row"),
        ("t,a\n0,1\n0.001,2\n", r"x.csv:1: header must start with 'time'"),
        ("time,a,a\n0,1,2\n0.001,1,2\n", r"x.csv:1: channel names"),
        ("time,a\n0,1\n0.001,2\n0.002,x\n", r"x.csv:4: field 2 is not a number: 'x'"),
        ("time,a\n0,1\n0.001,2\n0.002,3,4\n", r"x.csv:4: 3 fields, the header has 2"),
        (
            "time,a\n0,1\n0.001,2\n0.002,2\n0.003,2\n0.0045,3\n",
            r"x.csv:6: time 0.0045 s breaks uniform sampling at 1000 Hz",
        ),
        ("time,a,b\n0,1,2\n0.001,nan,2\n", r"x.csv:3: field 2 is not a finite number"),
        ("time,a,b\n0,1,2\n0.001,inf,inf\n", r"x.csv:3: field 2 is not a finite number"),
        ("time,a\n0,1\n", r"x.csv: needs at least two samples"),
        (
            "# start: yesterday\ntime,a\n0,1\n0.001,2\n",
            r"x.csv: '# start:' is not an ISO-8601 time",
        ),
        (
            "time,a,b\n0,1,2\n0.02,1,2\n",
            r"x.csv:1: accelerometer data needs columns in groups of three",
        ),
    ],
)
def test_malformed_files_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path / "x.csv", text)
    signal = "acc" if "groups of three" in message else "emg"
    with pytest.raises(ReplayError, match=message):
        list(open_recording(p, signal).blocks())


def test_a_row_of_nan_is_a_lost_sample_as_an_empty_one(tmp_path: Path) -> None:
    rows = "\n".join(f"{i / 1000:.3f},{i % 5},{-i % 3}" for i in range(10))
    empty = rows.replace("0.004,4,2", "0.004,,").replace("0.005,0,1", "0.005,NaN,nan")
    block = concat(
        list(open_recording(write(tmp_path / "x.csv", "time,a,b\n" + empty), "emg").blocks())
    )
    assert block.lost.tolist() == [i in (4, 5) for i in range(10)]
    assert block.samples[4:6].tolist() == [[0.0, 0.0], [0.0, 0.0]]  # read as 0, as lost samples are
    assert block.samples[6].tolist() == [1.0, 0.0]


def test_binary_and_unknown_files_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ReplayError, match="not a text file"):
        open_recording(p, "emg")
    with pytest.raises(ReplayError, match=r"unknown recording type '\.xyz'"):
        open_recording(tmp_path / "x.xyz", "emg")
    with pytest.raises(ReplayError, match="cannot open"):
        open_recording(tmp_path / "missing.csv", "emg")
