"""The UCI Myo gestures dataset's files replay as they are (``replay.myolog``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import run_cli

import replay.csvio
from detect.config import DetectorConfig
from detect.pipeline import detect
from replay.csvio import CsvRecording
from replay.errors import ReplayError
from replay.myolog import MyoLogRecording
from replay.run import open_recording
from sensor.block import Block, concat

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
STEM = "myo_forearm_s01_series1"


def converted() -> tuple[Block, list[dict[str, object]]]:
    """Series 1 of subject 01 as ``recordings/`` holds it: 200 Hz counts and its gestures."""
    block = concat(list(CsvRecording(RECORDINGS / f"{STEM}.csv", "emg").blocks()))
    truth = json.loads((RECORDINGS / f"{STEM}.truth.json").read_text())
    return block, truth


def write_log(
    path: Path, counts: npt.NDArray[np.float32], truth: list[dict[str, object]], gap: int = 0
) -> Path:
    """``counts`` (200 Hz) as the dataset's logger writes them: a row about every ms, its
    steps jittering between 1 and 3 ms (one on every 5 ms tick), each value held until the
    next sample; class 0 for the first second, then 1, and each gesture's number within it.
    ``gap``: the rows of the 300 ms from that ms on never written (the log stopped)."""
    rng = np.random.default_rng(7)
    end = len(counts) * 5
    marks = {round(1000 * float(str(t[k]))) for t in truth for k in ("start", "end")}
    times = [
        t
        for t in range(end + 1)
        if t % 5 == 0 or t in marks or rng.random() < 0.8
        if not gap <= t < gap + 300 or not gap
    ]
    t = np.array(times)
    x = counts[np.minimum(t // 5, len(counts) - 1)].astype(np.float64) * 1e-5
    label = np.where(t < 1000, 0, 1)
    for g in truth:
        inside = (t >= round(1000 * float(str(g["start"])))) & (
            t < round(1000 * float(str(g["end"])))
        )
        label[inside] = int(str(g["gesture"]))
    head = "time\t" + "\t".join(f"channel{i}" for i in range(1, 9)) + "\tclass\n"
    with path.open("w") as fh:
        fh.write(head)
        for ti, row, c in zip(t + 1, x, label, strict=True):  # the files' times start at 1
            fh.write(f"{ti}\t" + "\t".join(f"{v:g}" for v in row) + f"\t{c}\n")
    return path


@pytest.mark.parametrize("chunk", [997, 20_000])
def test_a_log_replays_as_its_converted_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(replay.csvio, "CHUNK_ROWS", chunk)
    block, truth = converted()
    p = write_log(tmp_path / "1_raw_data_13-12_22.03.16.txt", block.samples, truth)
    rec = open_recording(p, "emg")
    assert isinstance(rec, MyoLogRecording)
    assert rec.info.channels == tuple(f"channel{i}" for i in range(1, 9))
    assert rec.info.units == ("counts",) * 8
    assert rec.info.fs == 200.0
    assert rec.info.locations == dict.fromkeys(rec.info.channels, "forearm")
    got = concat(list(rec.blocks()))
    assert not got.lost.any()
    # The last tick: the file's last time is at none.
    np.testing.assert_array_equal(got.samples, block.samples[: got.n_samples])
    assert got.n_samples == block.n_samples
    assert rec.truth == truth

    # The same episodes (the CSV's rate comes from its times, 1e-16 off 200 Hz).
    def found(b: Block) -> list[tuple[str, int, int | None, str]]:
        return [
            (e.channel[-1], e.onset_index, e.offset_index, e.type)
            for e in detect(DetectorConfig(), b, "forearm")
        ]

    assert found(got) == found(block)


def test_the_cli_replays_a_log_with_no_sample_lost_at_a_skipped_millisecond(
    tmp_path: Path,
) -> None:
    # Read as a CSV (time in ms), each millisecond the logger skipped was a lost sample, and
    # a series gave hundreds of stretches without signal and no episode. The armband lost
    # nothing there.
    block, truth = converted()
    p = write_log(tmp_path / "s1.txt", block.samples[:4000], truth[:2])
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert "without usable signal" not in rep.stdout
    assert "spasm ended     forearm (channel" in rep.stdout


def test_where_the_log_stopped_the_ticks_after_the_flat_run_are_lost(tmp_path: Path) -> None:
    block, truth = converted()
    p = write_log(tmp_path / "g.txt", block.samples, truth, gap=30_001)
    got = concat(list(open_recording(p, "emg").blocks()))
    # The last row before the gap is at 30,000 ms and the next at 30,301: ticks 30,105-30,300
    # ms are over 100 ms after it, lost; the ones before hold its value.
    assert np.flatnonzero(got.lost).tolist() == list(range(30_105 // 5, 30_305 // 5))
    assert (got.samples[30_005 // 5 : 30_105 // 5] == block.samples[6000]).all()
    np.testing.assert_array_equal(got.samples[6061:], block.samples[6061:])
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    assert "every channel: 40 samples lost" in rep.stdout


def test_what_cannot_be_replayed_is_named(tmp_path: Path) -> None:
    block, truth = converted()
    p = write_log(tmp_path / "b.txt", block.samples[:2000], truth[:1])
    with pytest.raises(ReplayError, match=r"b.txt: a Myo armband's log replays as sEMG"):
        open_recording(p, "acc")
    with pytest.raises(ReplayError, match=r"b.txt: no signal named 'myo3'"):
        open_recording(p, "emg", ["myo3"])
    two = concat(list(open_recording(p, "emg", ["channel3", "channel5"]).blocks()))
    np.testing.assert_array_equal(two.samples, block.samples[: two.n_samples, [2, 4]])
    lines = p.read_text().splitlines()
    lines[500] = "3" + lines[500][lines[500].index("\t") :]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReplayError, match=r"b.txt:501: time goes back"):
        list(open_recording(p, "emg").blocks())
    p.write_text("\n".join(lines[:400]) + "\n" + lines[400][:12])  # the logger stopped mid-row
    rec = open_recording(p, "emg")
    assert concat(list(rec.blocks())).n_samples > 0
    assert rec.cut is not None
