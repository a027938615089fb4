"""Shimmer Consensys exports replay as they are (``replay.shimmer``)."""

from __future__ import annotations

from datetime import UTC, datetime
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
from sensor.block import Block, concat

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
#: When the test recordings start: 2023-08-02 14:26:29 UTC, in ms since 1970.
T0_MS = 1_690_986_389_000.0
#: Columns as a Shimmer3 EXG unit named "Shimmer_68ED" writes them, with their units.
COLUMNS = [
    ("Timestamp_Unix_CAL", "ms"),
    ("Accel_LN_X_CAL", "m/(s^2)"),
    ("Accel_LN_Y_CAL", "m/(s^2)"),
    ("Accel_LN_Z_CAL", "m/(s^2)"),
    ("Battery_CAL", "mV"),
    ("ECG_EMG_Status1_CAL", "no_units"),
    ("EMG_CH1_24BIT_RAW", "no_units"),
    ("EMG_CH1_24BIT_CAL", "mV"),
    ("EMG_CH2_24BIT_CAL", "mV"),
]


def biceps() -> Block:
    """A real biosignalsplux recording (16-bit counts), from spasmwatch's own CSV."""
    return concat(list(CsvRecording(RECORDINGS / "biceps_bursts_1khz.csv", "emg").blocks()))


def write_shimmer(
    path: Path,
    emg_mv: npt.NDArray[np.float64],
    *,
    fs: float = 1000.0,
    sep: str = ",",
    skip: range = range(0),
    acc_g: npt.NDArray[np.float64] | None = None,
) -> Path:
    """``emg_mv`` as EMG channel 1 of a Consensys export at ``fs``, beside the unit's other
    columns, with the rows in ``skip`` never written (lost on their way)."""
    n = len(emg_mv)
    rng = np.random.default_rng(7)
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) if acc_g is None else acc_g
    rows = []
    for i in range(n):
        if i in skip:
            continue
        values = [
            f"{T0_MS + i * 1000 / fs:.3f}",
            *(f"{a * 9.80665:.6f}" for a in acc[i]),
            "3712.5",
            "128",
            f"{round(emg_mv[i] * 1e4)}",
            f"{emg_mv[i]:.6f}",
            f"{rng.normal(0, 0.005):.6f}",
        ]
        rows.append(sep.join(values) + sep)
    names = sep.join(f"Shimmer_68ED_{c}" for c, _ in COLUMNS) + sep
    units = sep.join(u for _, u in COLUMNS) + sep
    path.write_text(f'"sep={sep}"\n{names}\n{units}\n' + "\n".join(rows) + "\n")
    return path


def biceps_mv() -> npt.NDArray[np.float64]:
    """The biceps recording in mV, by PLUX's transfer function (16 bits, 3 V, gain 1000)."""
    return (biceps().samples[:, 0].astype(np.float64) / 2**16 - 0.5) * 3.0


def test_the_emg_channels_replay_as_spasmwatch_s_own_csv(tmp_path: Path) -> None:
    """Both EMG channels, in mV, from the unit's clock; the battery, status and raw columns
    left out; the same nine bursts as the recording's own CSV."""
    mv = biceps_mv()
    p = write_shimmer(tmp_path / "shimmer.csv", mv)
    rec = open_recording(p, "emg")
    assert rec.info.channels == ("EMG_CH1_24BIT", "EMG_CH2_24BIT")
    assert rec.info.units == ("mV", "mV")
    assert rec.info.fs == pytest.approx(1000.0, rel=1e-9)
    assert rec.info.start == datetime(2023, 8, 2, 14, 26, 29, tzinfo=UTC)
    theirs = concat(list(rec.blocks()))
    assert not theirs.lost.any()
    np.testing.assert_allclose(theirs.samples[:, 0], mv, atol=1e-6)
    ch1 = Block(theirs.samples[:, :1], 1000.0, 0, ("EMG_CH1_24BIT",), ("mV",))
    found = [
        [
            (e.onset_index, e.offset_index, e.type)
            for e in detect(DetectorConfig(), b, "right arm")
            if e.state != "open"
        ]
        for b in (biceps(), ch1)
    ]
    assert len(found[0]) == 9
    assert found[1] == found[0]


def test_a_streamed_file_s_lost_packets_are_lost_samples_in_their_place(tmp_path: Path) -> None:
    """At 1024 Hz, tab-separated: 6 rows missing at 10000 are 6 lost samples there (the
    unit's clock says how many), and every later sample keeps its time."""
    mv = biceps_mv()[:20000]
    p = write_shimmer(tmp_path / "streamed.csv", mv, fs=1024.0, sep="\t", skip=range(10000, 10006))
    rec = open_recording(p, "emg")
    assert rec.info.fs == pytest.approx(1024.0, rel=1e-6)
    b = concat(list(rec.blocks()))
    assert b.n_samples == 20000
    assert np.flatnonzero(b.lost).tolist() == list(range(10000, 10006))
    keep = ~b.lost
    np.testing.assert_allclose(b.samples[keep, 0], mv[keep], atol=1e-6)
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert "every channel: 6 samples lost" in rep.stdout
    p.write_text(p.read_text()[:-40])  # the app stopped mid-row
    rec = open_recording(p, "emg")
    assert concat(list(rec.blocks())).n_samples == 19999
    assert rec.cut is not None


def test_the_low_noise_accelerometer_in_g(tmp_path: Path) -> None:
    acc = np.tile([0.1, -0.2, 0.97], (3000, 1))
    p = write_shimmer(tmp_path / "acc.csv", np.zeros(3000), acc_g=acc)
    rec = open_recording(p, "acc")
    assert rec.info.channels == ("Accel_LN_X", "Accel_LN_Y", "Accel_LN_Z")
    assert rec.info.units == ("g", "g", "g")
    np.testing.assert_allclose(concat(list(rec.blocks())).samples, acc, atol=1e-6)
    one = open_recording(p, "emg", ["Battery"])
    assert one.info.units == ("mV",)
    one.close()
    # A unit synchronised with others writes its time as TimestampSync.
    p.write_text(p.read_text().replace("_Timestamp_Unix_CAL", "_TimestampSync_Unix_CAL", 1))
    synced = open_recording(p, "acc")
    assert synced.info.start == datetime(2023, 8, 2, 14, 26, 29, tzinfo=UTC)
    np.testing.assert_allclose(concat(list(synced.blocks())).samples, acc, atol=1e-6)


def test_what_cannot_be_replayed_is_named(tmp_path: Path) -> None:
    p = write_shimmer(tmp_path / "s.csv", biceps_mv()[:2000])
    with pytest.raises(ReplayError, match=r"s.csv: no signal named 'EMG_CH3'; it has Accel_LN_X"):
        open_recording(p, "emg", ["EMG_CH3"])
    with pytest.raises(ReplayError, match=r"s.csv:3: column 'Accel_LN_X' is in g, .*--signal acc"):
        open_recording(p, "emg", ["Accel_LN_X"])
    with pytest.raises(ReplayError, match=r"s.csv:3: column 'ECG_EMG_Status1' is in 'no_units'"):
        open_recording(p, "emg", ["ECG_EMG_Status1"])
    with pytest.raises(ReplayError, match=r"s.csv:2: accelerometer data needs columns in groups"):
        open_recording(p, "acc", ["Accel_LN_X", "Accel_LN_Y"])
    lines = p.read_text().splitlines()
    p.write_text("\n".join([*lines[:2], lines[2].removesuffix("mV,mV,"), *lines[3:]]) + "\n")
    with pytest.raises(ReplayError, match=r"s.csv:3: 7 units for the 9 columns named above"):
        open_recording(p, "emg")
    t = float(lines[1003].split(",")[0])
    lines[1003] = lines[1003].replace(f"{t:.3f}", f"{t + 0.5:.3f}", 1)  # half a sample late
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReplayError, match=r"s.csv:1004: time .* 1.5 sample periods after"):
        list(open_recording(p, "emg").blocks())
    text = (
        p.read_text()
        .replace("_EMG_CH1_24BIT_CAL", "_EXG1_CH1_24BIT_CAL")
        .replace("_EMG_CH2_24BIT_CAL", "_EXG1_CH2_24BIT_CAL")
    )
    p.write_text(text)
    with pytest.raises(ReplayError, match=r"s.csv:2: no EMG_CH channel; it has .*EXG1_CH1_24BIT"):
        open_recording(p, "emg")
    rep = run_cli("replay", str(p), "--fs", "1000")
    assert rep.returncode != 0
    assert "says its own sampling rate" in rep.stderr


def test_a_spreadsheet_s_separator_line_in_a_csv(tmp_path: Path) -> None:
    """Excel's hint ("sep=;") before an ordinary header: the named separator is used."""
    rows = "".join(f"{i / 100:.2f};{i % 5},5\n" for i in range(300))
    p = tmp_path / "excel.csv"
    p.write_text(f'"sep=;"\ntime;calf (uV)\n{rows}')
    rec = open_recording(p, "emg")
    assert rec.info.channels == ("calf",)
    np.testing.assert_allclose(
        concat(list(rec.blocks())).samples[:, 0], [i % 5 + 0.5 for i in range(300)]
    )
