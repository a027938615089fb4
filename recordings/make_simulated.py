"""Make the simulated recordings in this folder, from fixed seeds (run: python recordings/make_simulated.py).

Each is a BDF+ file whose annotations are the simulation's ground truth: ``spasm <channel>
<type>`` with the true onset and duration. Anyone can make them again, byte for byte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from replay.bdf import BdfWriter
from sensor.block import Block
from sensor.simulate import SimConfig, SimulatedWearable

HERE = Path(__file__).resolve().parent
START = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)

RECORDINGS = {
    "sim_calf_1khz_2ch": SimConfig(
        fs_hz=1000.0, channels=2, seconds=180.0, seed=61001, location="left calf", snr_db=15.0
    ),
    "sim_lower_back_2khz": SimConfig(
        fs_hz=2000.0, channels=1, seconds=240.0, seed=61002, location="lower back", snr_db=12.0
    ),
}


def make(name: str, config: SimConfig) -> Path:
    sim = SimulatedWearable(config)
    path = HERE / f"{name}.bdf"
    units = (sim.units,) * len(sim.channels)
    w = BdfWriter(
        path,
        sim.channels,
        units,
        sim.fs,
        START,
        recording=f"spasmwatch simulate seed {config.seed} snr {config.snr_db:g} dB",
        transducers=[config.location] * len(sim.channels),
    )
    for e in sim.truth:
        w.annotate(e.start, e.duration, f"spasm {e.channel} {e.type}")
    index = 0
    for counts in sim.samples():
        x = counts.astype(np.float32) * np.float32(sim.scale)
        w.write(Block(x, sim.fs, index, sim.channels, units))
        index += len(x)
    w.close()
    return path


if __name__ == "__main__":
    for name, config in RECORDINGS.items():
        print(make(name, config))
