"""Lost samples survive a recording: a replay sees the gaps the live monitor saw."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from detect import DetectorConfig, detect
from replay.bdf import BdfWriter
from replay.csvio import CsvWriter
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import Block, concat
from sensor.frame import FrameAssembler, decode_frame
from sensor.simulate import SimConfig, SimulatedWearable

START = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


def lossy() -> Block:
    """40 s of a calf at 1 kHz with 3 % of notifications lost, and the last 0.3 s lost too."""
    sim = SimulatedWearable(
        SimConfig(fs_hz=1000.0, seconds=40.0, seed=5107, channels=2, drop_fraction=0.03)
    )
    asm = FrameAssembler(sim.channels)
    block = concat([b for f in sim.frames() for b in asm.push(decode_frame(f))])
    lost = np.array(block.lost)
    lost[-300:] = True
    samples = np.where(lost[:, None], 0.0, block.samples).astype(np.float32)
    return Block(samples, block.fs, 0, block.channels, block.units, lost)


def record(block: Block, path: Path) -> None:
    """Written the way the monitor writes: in blocks as they arrive (here 0.25 s)."""
    if path.suffix == ".csv":
        writer: CsvWriter | BdfWriter = CsvWriter(path, block.channels, block.fs, START, "uV")
    else:
        writer = BdfWriter(path, block.channels, block.units, block.fs, START)
    for a in range(0, block.n_samples, 250):
        writer.write(block.slice(a, min(a + 250, block.n_samples)))
    writer.close()


@pytest.mark.parametrize("suffix", [".csv", ".bdf"])
def test_a_replay_sees_the_same_gaps_and_finds_the_same_episodes(
    tmp_path: Path, suffix: str
) -> None:
    block = lossy()
    runs = np.flatnonzero(np.diff(np.r_[0, block.lost.astype(int), 0]))
    assert len(runs) // 2 > 20, "the simulation should lose notifications"
    path = tmp_path / f"r{suffix}"
    record(block, path)
    back = concat(list(open_recording(path, "emg").blocks()))
    assert back.n_samples == block.n_samples
    np.testing.assert_array_equal(back.lost, block.lost)
    kept = ~block.lost
    np.testing.assert_allclose(back.samples[kept], block.samples[kept], atol=0.02)  # 24 bits
    live = detect(DetectorConfig(), block, "left calf")
    replayed = detect(DetectorConfig(), back, "left calf")
    assert live, "the simulation should have spasms"
    assert [(e.channel, e.onset_index, e.offset_index, e.state) for e in replayed] == [
        (e.channel, e.onset_index, e.offset_index, e.state) for e in live
    ]


def test_a_row_with_some_fields_empty_is_named(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("time,a,b\n0.000,1,2\n0.001,,\n0.002,3,\n0.003,4,5\n")
    with pytest.raises(ReplayError, match=r"r.csv:4: field 3 is empty"):
        list(open_recording(p, "emg").blocks())
