"""OpenBCI GUI recordings replay as they are (``replay.openbci``)."""

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
#: When the test recordings start: 2019-05-15 16:14:49.064 UTC, Unix seconds.
T0 = 1_557_936_889.064


def biceps_uv() -> npt.NDArray[np.float64]:
    """The biceps recording (a biosignalsplux channel) in uV, by PLUX's transfer function."""
    counts = concat(list(CsvRecording(RECORDINGS / "biceps_bursts_1khz.csv", "emg").blocks()))
    return (counts.samples[:, 0].astype(np.float64) / 2**16 - 0.5) * 3.0 / 1000 * 1e6


def write_openbci(
    path: Path,
    exg0: npt.NDArray[np.float64],
    *,
    fs: float,
    board: str = "BoardCytonWifi",
    skip: range = range(0),
    step: int = 1,
) -> Path:
    """``exg0`` as EXG channel 0 of an 8-channel recording as the OpenBCI GUI writes it,
    with the rows in ``skip`` never written (lost on their way); the sample index counts
    by ``step`` modulo 256."""
    rng = np.random.default_rng(3)
    names = [
        "Sample Index",
        *(f"EXG Channel {c}" for c in range(8)),
        *(f"Accel Channel {c}" for c in range(3)),
        "Timestamp",
        "Marker Channel",
        "Timestamp (Formatted)",
    ]
    rows = []
    for i, v in enumerate(exg0):
        if i in skip:
            continue
        exg = [v, *rng.normal(0, 5, 7)]
        # The computer's time, as packets arrive: in bursts; Java writes it as 1.557936889064E9.
        t = T0 + i // 12 * 12 / fs
        when = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        fields = [float(i * step % 256), *exg, 0.0, 0.0, 1.0, f"{t / 1e9:.12f}E9", 0.0]
        rows.append(", ".join(str(f) for f in fields) + f", {when}")
    path.write_text(
        f"%OpenBCI Raw EXG Data\n%Number of channels = 8\n%Sample Rate = {fs:g} Hz\n"
        f"%Board = OpenBCI_GUI${board}\n" + ", ".join(names) + "\n" + "\n".join(rows) + "\n"
    )
    return path


def test_the_exg_channels_replay_in_uv_with_the_same_bursts(tmp_path: Path) -> None:
    uv = biceps_uv()
    p = write_openbci(tmp_path / "OpenBCI-RAW-2019-05-15.txt", uv, fs=1000.0)
    rec = open_recording(p, "emg")
    assert rec.info.channels == tuple(f"EXG Channel {c}" for c in range(8))
    assert rec.info.units == ("uV",) * 8
    assert rec.info.fs == 1000.0
    assert rec.info.start == datetime.fromtimestamp(T0, UTC)
    b = concat(list(rec.blocks()))
    assert not b.lost.any()
    np.testing.assert_allclose(b.samples[:, 0], uv, rtol=1e-6, atol=1e-3)
    found = [
        [
            (e.onset_index, e.offset_index, e.type)
            for e in detect(DetectorConfig(), blk, "right arm")
            if e.state != "open"
        ]
        for blk in (
            Block(uv[:, None].astype(np.float32), 1000.0, 0, ("biceps",), ("uV",)),
            Block(b.samples[:, :1], 1000.0, 0, ("EXG Channel 0",), ("uV",)),
        )
    ]
    assert len(found[0]) == 9
    assert found[1] == found[0]


@pytest.mark.parametrize(("board", "step"), [("BoardCytonSerial", 1), ("BoardCytonSerialDaisy", 2)])
def test_a_skipped_sample_index_is_lost_samples_in_their_place(
    tmp_path: Path, board: str, step: int
) -> None:
    """A Cyton counts 0-255, with a Daisy even numbers: 7 rows missing at 1000 are 7 lost
    samples there, and the counter going round loses nothing."""
    x = np.arange(3000) % 13 * 1.0
    p = write_openbci(
        tmp_path / "gap.txt", x, fs=250.0, board=board, skip=range(1000, 1007), step=step
    )
    b = concat(list(open_recording(p, "emg").blocks()))
    assert b.n_samples == 3000
    assert np.flatnonzero(b.lost).tolist() == list(range(1000, 1007))
    keep = ~b.lost
    np.testing.assert_array_equal(b.samples[keep, 0], x[keep])
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert "every channel: 7 samples lost" in rep.stdout


def test_what_cannot_be_replayed_is_named(tmp_path: Path) -> None:
    x = np.zeros(600)
    ganglion = write_openbci(tmp_path / "g.txt", x, fs=200.0, board="BoardGanglionBLE")
    with pytest.raises(ReplayError, match=r"g.txt: board 'BoardGanglionBLE': its sample index"):
        open_recording(ganglion, "emg")
    still = write_openbci(tmp_path / "z.txt", x, fs=250.0, board="BoardCytonSerial")
    still.write_text(still.read_text().replace("%Sample Rate = 250 Hz", "%Sample Rate = 0 Hz"))
    with pytest.raises(ReplayError, match=r"z.txt: sampling rate 0 Hz is not a positive rate"):
        open_recording(still, "emg")
    unnamed = tmp_path / "n.txt"
    unnamed.write_text(still.read_text().replace("%Sample Rate = 0 Hz\n", ""))
    with pytest.raises(ReplayError, match=r"n.txt: no '%Sample Rate = <Hz> Hz' line"):
        open_recording(unnamed, "emg")
    p = write_openbci(tmp_path / "c.txt", x, fs=250.0, board="BoardCytonSerialDaisy", step=2)
    with pytest.raises(ReplayError, match=r"c.txt: an OpenBCI recording replays as sEMG"):
        open_recording(p, "acc")
    with pytest.raises(ReplayError, match=r"c.txt: no signal named 'EMG'"):
        open_recording(p, "emg", ["EMG"])
    lines = p.read_text().splitlines()
    lines[105] = "3.0" + lines[105][lines[105].index(",") :]  # odd: not a Daisy's
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReplayError, match=r"c.txt:106: sample index 3 is not one a Board"):
        list(open_recording(p, "emg").blocks())
    p.write_text("\n".join(lines[:100]) + "\n" + lines[100][:30])  # the GUI stopped mid-row
    rec = open_recording(p, "emg")
    assert concat(list(rec.blocks())).n_samples == 95
    assert rec.cut is not None
