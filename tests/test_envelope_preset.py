"""The ``envelope`` preset: sensors that send the sEMG's envelope (MyoWare's ENV output)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from scipy import signal
from test_pipeline import simulated, split

from detect import DetectorConfig, Pipeline, detect, preset
from replay.score import score
from sensor.block import Block
from sensor.simulate import SimulatedWearable
from spasmwatch.settings import load


def device_envelope(seed: int, rest_counts: float) -> tuple[SimulatedWearable, Block]:
    """A simulated forearm recording as an envelope sensor sends it: the sEMG rectified,
    smoothed (a 5 Hz low-pass) and sent in whole counts at 100 Hz, resting at
    ``rest_counts``."""
    sim, block = simulated(seed, location="right forearm", seconds=120.0)
    x = block.samples[:, 0].astype(np.float64)
    band = signal.butter(4, [20, 450], "bandpass", fs=block.fs, output="sos")
    smooth = signal.butter(2, 5, fs=block.fs, output="sos")
    env = signal.sosfilt(smooth, np.abs(signal.sosfilt(band, x)))[::10]
    counts = np.round(env / np.median(env) * rest_counts)
    lost = np.zeros(len(counts), dtype=bool)
    return sim, Block(counts[:, None].astype(np.float32), 100.0, 0, ("ch1",), ("counts",), lost)


@pytest.mark.parametrize("seed", [5201, 5202, 5203])
def test_an_envelope_in_counts_is_read_as_the_amplitude(seed: int) -> None:
    """Through the band-pass an envelope leaves only its ripple and rounding, and its runs
    of equal values read as a missing signal: the default chain missed most spasms."""
    sim, block = device_envelope(seed, rest_counts=5.0)
    truth = [t.as_dict() for t in sim.truth]
    assert len(truth) >= 2

    def f1(config: DetectorConfig) -> float:
        found = [e.as_dict() for e in detect(config, block, "right forearm") if e.state != "open"]
        return score(found, truth).f1

    assert f1(preset("envelope")) == 1.0
    assert f1(DetectorConfig()) < 0.7


def test_an_envelope_is_never_flat_and_any_chunking_gives_the_same() -> None:
    _sim, block = device_envelope(5201, rest_counts=5.0)
    pipe = Pipeline(preset("envelope"), block.fs, block.channels, block.units, "right forearm")
    feats = [pipe.features(b) for b in split(block, [1, 2, 777, 3000, 3001, 9000])]
    assert not any(f.flat.any() for f in feats)
    usable = np.concatenate([f.usable for f in feats])
    assert usable[round(2 * block.fs) :].all()  # after the first settling, all of it
    whole = detect(preset("envelope"), block, "right forearm")
    pipe.reset()
    parts = [e for b in split(block, [5, 1234, 5000, 5001]) for e in pipe.process(b)]
    parts += pipe.flush()
    assert [(e.state, e.onset_index, e.offset_index) for e in parts if e.state != "open"] == [
        (e.state, e.onset_index, e.offset_index) for e in whole if e.state != "open"
    ]


def test_an_envelope_gets_no_ecg_suppression_and_no_look() -> None:
    pipe = Pipeline(preset("envelope"), 100.0, ("ch1",), ("counts",), "lower back")
    assert pipe.lag_frames == 0
    unnamed = Pipeline(preset("envelope"), 100.0, ("ch1",), ("counts",))
    assert unnamed._look_n == 0  # no first seconds held back


def test_the_preset_is_for_semg_only() -> None:
    with pytest.raises(ValueError, match="envelope preset reads sEMG envelopes only"):
        preset("envelope", "acc")


def test_replay_and_settings_take_the_envelope_preset(tmp_path: Path) -> None:
    sim, block = device_envelope(5202, rest_counts=20.0)
    t = np.arange(block.n_samples) / block.fs
    csv = tmp_path / "myoware.csv"
    rows = "".join(f"{a:.2f},{int(v)}\n" for a, v in zip(t, block.samples[:, 0], strict=True))
    csv.write_text("time,ch1\n" + rows)
    truth = [t.as_dict() for t in sim.truth]
    out = run_cli("replay", str(csv), "--json", "--preset", "envelope", "--location", "forearm")
    assert out.returncode == 0, out.stderr
    found = [json.loads(line) for line in out.stdout.splitlines()]
    assert score(found, truth).f1 == 1.0
    settings = tmp_path / "settings.toml"
    settings.write_text('[detector]\npreset = "envelope"\n')
    loaded, _ = load(settings, required=True)
    assert loaded.detector.build("emg").input == "envelope"
    out = run_cli("replay", str(csv), "--json", "--config", str(settings), "--location", "forearm")
    assert out.returncode == 0, out.stderr
    assert [json.loads(line) for line in out.stdout.splitlines()] == found


def test_a_rate_too_low_for_semg_points_to_the_envelope_preset(tmp_path: Path) -> None:
    """Under 89 Hz no octave of the sEMG band fits: such a device sends an envelope."""
    sim, block = device_envelope(5203, rest_counts=20.0)
    x = block.samples[::2, 0]  # 50 Hz
    csv = tmp_path / "env50.csv"
    csv.write_text("time,ch1\n" + "".join(f"{i / 50:.2f},{int(v)}\n" for i, v in enumerate(x)))
    out = run_cli("replay", str(csv), "--json")
    assert out.returncode == 1
    assert "not 50 Hz; a sensor that sends the sEMG's envelope" in out.stderr
    assert "(--preset envelope)" in out.stderr
    assert out.stderr.strip().count("\n") == 0
    out = run_cli("replay", str(csv), "--json", "--preset", "envelope")
    assert out.returncode == 0, out.stderr
    found = [json.loads(line) for line in out.stdout.splitlines()]
    assert score(found, [t.as_dict() for t in sim.truth]).f1 == 1.0
