"""OpenSignals text recordings (BITalino, biosignalsplux, RespiBAN) replay as they are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import run_cli

from detect.config import DetectorConfig
from detect.pipeline import detect
from replay.csvio import CsvRecording
from replay.errors import ReplayError
from replay.run import open_recording
from replay.timefmt import parse_time
from sensor.block import Block, concat

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
#: A chest strap's sensors, as a RespiBAN's header lists them.
SENSORS = ["ECG", "EDA", "EMG", "XYZ", "XYZ", "XYZ"]


def biceps() -> Block:
    """A real biosignalsplux recording (16-bit counts), from spasmwatch's own CSV."""
    return concat(list(CsvRecording(RECORDINGS / "biceps_bursts_1khz.csv", "emg").blocks()))


def write_opensignals(
    path: Path,
    emg: npt.NDArray[np.float32],
    *,
    skip: range = range(0),
    devices: int = 1,
    seq_modulus: int = 16,
) -> Path:
    """``emg`` as channel CH3 of a six-channel device, beside other sensors, with the samples
    in ``skip`` never written (their sequence numbers missing, as a lost packet's are)."""
    n = len(emg)
    rng = np.random.default_rng(42)
    other = rng.integers(30000, 34000, (n, 6))
    other[:, 2] = emg
    device = {
        "sensor": SENSORS,
        "device name": "00:07:80:3B:46:61",
        "column": ["nSeq", "DI", "CH1", "CH2", "CH3", "CH4", "CH5", "CH6"],
        "sync interval": 2,
        "time": "10:28:51.69",
        "date": "2017-1-23",
        "device": "biosignalsplux",
        "sampling rate": 1000,
        "label": ["CH1", "CH2", "CH3", "CH4", "CH5", "CH6"],
        "resolution": [16] * 6,
    }
    header = {f"00:07:80:3B:46:6{d}": device for d in range(devices)}
    rows = [
        f"{i % seq_modulus}\t0\t" + "\t".join(str(int(v)) for v in other[i]) + "\t"
        for i in range(n)
        if i not in skip
    ]
    return write_file(path, header, rows)


def write_file(path: Path, header: dict[str, object], rows: list[str]) -> Path:
    """An OpenSignals text file: the header's JSON (one object per device), then the rows."""
    path.write_text(
        f"# OpenSignals Text File Format. Version 1\n# {json.dumps(header)}\n# EndOfHeader\n"
        + "\n".join(rows)
        + "\n"
    )
    return path


def test_the_emg_sensor_replays_as_spasmwatch_s_own_csv(tmp_path: Path) -> None:
    """Only the sensor the header calls EMG, in uV by PLUX's transfer function (16 bits,
    3 V, gain 1000), the same episodes as the counts."""
    ours = biceps()
    p = write_opensignals(tmp_path / "plux.txt", ours.samples[:, 0])
    rec = open_recording(p, "emg")
    assert rec.info.channels == ("CH3",)
    assert rec.info.units == ("uV",)
    assert rec.info.fs == 1000.0
    assert rec.info.start == parse_time("2017-01-23T10:28:51.690000")
    theirs = concat(list(rec.blocks()))
    assert not theirs.lost.any()
    uv = (ours.samples.astype(np.float64) / 2**16 - 0.5) * 3.0 / 1000 * 1e6
    np.testing.assert_allclose(theirs.samples, uv, rtol=1e-6, atol=1e-3)
    found = [
        [
            (e.onset_index, e.offset_index, e.type)
            for e in detect(DetectorConfig(), b, "right arm")
            if e.state != "open"
        ]
        for b in (ours, theirs)
    ]
    assert len(found[0]) == 9  # the nine bursts spasmwatch finds in its own CSV of it
    assert found[1] == found[0]


def test_missing_sequence_numbers_are_lost_samples_in_their_place(tmp_path: Path) -> None:
    """A 4-bit counter: 5 samples missing at 10 s are 5 lost samples there, and every later
    sample keeps its time."""
    ours = biceps()
    p = write_opensignals(tmp_path / "gap.txt", ours.samples[:, 0], skip=range(10000, 10005))
    theirs = concat(list(open_recording(p, "emg").blocks()))
    assert theirs.n_samples == ours.n_samples
    assert np.flatnonzero(theirs.lost).tolist() == list(range(10000, 10005))
    keep = ~theirs.lost
    uv = (ours.samples.astype(np.float64) / 2**16 - 0.5) * 3.0 / 1000 * 1e6
    np.testing.assert_allclose(theirs.samples[keep], uv[keep], rtol=1e-6, atol=1e-3)
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert "every channel: 5 samples lost" in rep.stdout
    assert "1 stretch without usable signal" in rep.stderr


def test_a_wider_counter_gives_exact_gaps_and_goes_round(tmp_path: Path) -> None:
    """A counter past 15 (bioplux) shows exactly how many samples are missing, and going
    round at a power of two (here 12 bits) loses none."""
    x = biceps().samples[:10000, 0]
    p = write_opensignals(tmp_path / "wide.txt", x, skip=range(1000, 1040), seq_modulus=1 << 12)
    b = concat(list(open_recording(p, "emg").blocks()))
    assert b.n_samples == 10000
    assert np.flatnonzero(b.lost).tolist() == list(range(1000, 1040))
    assert b.units == ("uV",)
    kept = np.delete(x, range(1000, 1040)).astype(np.float64)
    np.testing.assert_allclose(b.samples[~b.lost, 0], (kept / 2**16 - 0.5) * 3e3, atol=1e-3)


def test_an_older_file_without_a_column_list(tmp_path: Path) -> None:
    """Older OpenSignals files (bioplux) name no columns: the sequence number, then the
    channel."""
    device = {
        "sensor": ["CUSTOM/0.5/1.0/V"],
        "label": ["CH1"],
        "sampling rate": 1000,
        "resolution": 12,
        "device": "bioplux",
        "date": "2015-4-27",
        "time": "17:53:44.456",
    }
    x = biceps().samples[:500, 0]
    p = write_file(
        tmp_path / "old.txt", {"00:07": device}, [f"{i}\t{int(v)}" for i, v in enumerate(x)]
    )
    rec = open_recording(p, "emg")
    assert rec.info.channels == ("CH1",)
    assert rec.info.units == ("counts",)  # a sensor not named EMG: its counts as they are
    np.testing.assert_array_equal(concat(list(rec.blocks())).samples[:, 0], x)


def test_accelerometer_and_named_channels(tmp_path: Path) -> None:
    p = write_opensignals(tmp_path / "strap.txt", biceps().samples[:2000, 0])
    acc = open_recording(p, "acc")
    assert acc.info.channels == ("CH4", "CH5", "CH6")
    acc.close()
    named = open_recording(p, "emg", ["CH1", "CH3"])
    assert named.info.channels == ("CH1", "CH3")
    assert concat(list(named.blocks())).samples.shape == (2000, 2)
    with pytest.raises(ReplayError, match=r"no signal named 'EMG1'; it has CH1, CH2"):
        open_recording(p, "emg", ["EMG1"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# OpenSignals Text File Format\n# {}\n", r"x.txt:2: no '# EndOfHeader' line"),
        (
            "# OpenSignals Text File Format\n# {bad\n# EndOfHeader\n",
            r"x.txt:2: the header's JSON is unreadable",
        ),
        (
            '# OpenSignals Text File Format\n# {"d": {"column": ["nSeq", "A1"], "label": ["A1"]}}'
            "\n# EndOfHeader\n",
            r"x.txt: the header lacks 'sampling rate'",
        ),
    ],
)
def test_malformed_headers_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "x.txt"
    p.write_text(text)
    with pytest.raises(ReplayError, match=message):
        list(open_recording(p, "emg").blocks())


def test_bad_rows_and_two_devices_are_refused(tmp_path: Path) -> None:
    x = biceps().samples[:100, 0]
    two = write_opensignals(tmp_path / "two.txt", x, devices=2)
    with pytest.raises(ReplayError, match=r"two.txt: holds 2 devices .* save each device"):
        open_recording(two, "emg")
    p = write_opensignals(tmp_path / "bad.txt", x)
    lines = p.read_text().splitlines()
    lines[10] = lines[10].rsplit("\t", 2)[0]  # a row cut short
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReplayError, match=r"bad.txt:11: 7 fields, the header has 8"):
        list(open_recording(p, "emg").blocks())


def test_a_recording_cut_mid_row_replays_to_its_last_whole_row(tmp_path: Path) -> None:
    """The device's app stopped while writing a row: the replay finds the nine bursts, and
    says which line it left out, as a cut-short BDF file's replay does."""
    ours = biceps()
    p = write_opensignals(tmp_path / "cut.txt", ours.samples[:, 0])
    text = p.read_text().rstrip("\n")
    p.write_text(text.rsplit("\t", 4)[0])
    last = text.count("\n") + 1
    rec = open_recording(p, "emg")
    assert concat(list(rec.blocks())).n_samples == ours.n_samples - 1
    assert rec.cut is not None
    assert rec.cut.line == last
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert len(rep.stdout.splitlines()) == 9
    warning = f"warning: {p}:{last}: the last line ends mid-row (5 fields, the header has 8)"
    assert warning in rep.stderr
    assert "9 episodes in" in rep.stderr


@pytest.mark.parametrize(("sensor", "unit"), [("EMG", "uV"), ("RAW", "counts")])
def test_a_bitalino_s_emg_reads_in_uv(tmp_path: Path, sensor: str, unit: str) -> None:
    """BITalino: a resolution for every column (10 bits on A1), 3.3 V, gain 1009; a channel
    its header does not call EMG keeps its counts."""
    device = {
        "sensor": [sensor],
        "column": ["nSeq", "I1", "I2", "O1", "O2", "A1"],
        "sampling rate": 1000,
        "label": ["A1"],
        "resolution": [4, 1, 1, 1, 1, 10],
        "device": "bitalino",
    }
    counts = [505, 512, 1023, 0]
    rows = [f"{i + 1}\t1\t1\t1\t0\t{v}\t" for i, v in enumerate(counts)]
    p = write_file(tmp_path / "bitalino.txt", {"20:16": device}, rows)
    rec = open_recording(p, "emg")
    assert rec.info.units == (unit,)
    got = concat(list(rec.blocks())).samples[:, 0]
    want = np.array(counts, dtype=np.float64)
    if unit == "uV":
        want = (want / 1024 - 0.5) * 3.3 / 1009 * 1e6  # +-1635 uV at full scale
    np.testing.assert_allclose(got, want, rtol=1e-6)
