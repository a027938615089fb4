"""MATLAB .mat files (``replay.matfile``): laid out as research datasets and tools keep sEMG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from scipy import io as sio
from test_pipeline import simulated

from detect import DetectorConfig, detect
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import concat


@pytest.fixture
def calf(tmp_path: Path) -> tuple[Path, object]:
    _sim, block = simulated(5701, location="left calf", seconds=60.0)
    path = tmp_path / "calf.mat"
    sio.savemat(path, {"EMG": {"channelData": block.samples[:, 0].astype(np.float64), "fs": 1000}})
    return path, block


def test_a_struct_holding_its_rate_replays_as_its_samples(calf: tuple[Path, object]) -> None:
    """As emgGO keeps its sample recording: ``EMG.channelData`` and ``EMG.fs``."""
    path, block = calf
    rec = open_recording(path, "emg")
    assert rec.info.channels == ("EMG.channelData",)
    assert rec.info.fs == 1000.0
    x = concat(list(rec.blocks()))
    np.testing.assert_array_equal(x.samples[:, 0], block.samples[:, 0])  # type: ignore[attr-defined]
    found = [(e.onset_index, e.offset_index) for e in detect(DetectorConfig(), x, "left calf")]
    assert found
    assert found == [
        (e.onset_index, e.offset_index)
        for e in detect(DetectorConfig(), block, "left calf")  # type: ignore[arg-type]
    ]
    out = run_cli("replay", str(path), "--location", "left calf")
    assert out.returncode == 0, out.stderr
    assert f"{sum(1 for e in found if e[1] is not None)} episode" in out.stderr


def test_a_dataset_matrix_without_a_rate_asks_for_it(tmp_path: Path) -> None:
    """As NinaPro keeps its recordings: ``emg`` (samples x 12), labels beside it, no rate."""
    rng = np.random.default_rng(3)
    path = tmp_path / "S1_E1_A1.mat"
    emg = rng.standard_normal((5000, 12))
    sio.savemat(path, {"emg": emg, "restimulus": np.zeros((5000, 1)), "subject": 1})
    with pytest.raises(ReplayError, match=r"does not say its sampling rate.*--fs"):
        open_recording(path, "emg")
    rec = open_recording(path, "emg", fs=2000.0)
    assert rec.info.channels == tuple(f"emg {c}" for c in range(1, 13))
    assert rec.info.fs == 2000.0
    np.testing.assert_allclose(concat(list(rec.blocks())).samples, emg, rtol=1e-6)
    assert rec.left_out == ("restimulus",)  # type: ignore[union-attr]
    two = open_recording(path, "emg", ["emg 3", "emg 12"], fs=2000.0)
    np.testing.assert_allclose(concat(list(two.blocks())).samples, emg[:, [2, 11]], rtol=1e-6)
    assert two.left_out == ()  # type: ignore[union-attr]
    out = run_cli("replay", str(path), "--fs", "2000")
    assert out.returncode == 0, out.stderr
    assert "left out restimulus (choose others with --channels)" in out.stderr


def test_several_unnamed_signals_are_listed_to_choose_from(tmp_path: Path) -> None:
    path = tmp_path / "trial.mat"
    sio.savemat(path, {"left": np.ones((300, 2)), "right": np.ones(300), "fs": 500.0})
    with pytest.raises(ReplayError, match=r"several signals: left \(300 x 2\), right \(300 x 1\)"):
        open_recording(path, "emg")
    rec = open_recording(path, "emg", ["right"])
    assert rec.info.channels == ("right",)
    assert rec.info.fs == 500.0
    with pytest.raises(ReplayError, match="no signal named 'middle'"):
        open_recording(path, "emg", ["middle"])
    with pytest.raises(ReplayError, match=r"says its rate is 500 Hz, not --fs 1000"):
        open_recording(path, "emg", ["right"], fs=1000.0)
    uneven = tmp_path / "uneven.mat"
    sio.savemat(uneven, {"emg": np.ones((300, 1)), "acc": np.ones((280, 1)), "fs": 500.0})
    with pytest.raises(ReplayError, match=r"different numbers of samples: acc 280, emg 300$"):
        open_recording(uneven, "emg", ["emg", "acc"])


def test_nan_values_are_lost_samples(tmp_path: Path) -> None:
    x = np.ones((1000, 1))
    x[400:450] = np.nan
    path = tmp_path / "gap.mat"
    sio.savemat(path, {"emg": x, "Fs": 1000})
    b = concat(list(open_recording(path, "emg").blocks()))
    assert np.flatnonzero(b.lost).tolist() == list(range(400, 450))
    assert not np.isnan(b.samples).any()


def test_files_it_cannot_read_say_why_in_one_line(tmp_path: Path) -> None:
    v73 = tmp_path / "big.mat"
    head = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Fri Nov 27 12:00:00 2026 HDF5"
    v73.write_bytes(head.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM" + b"\0" * 400)
    with pytest.raises(ReplayError, match=r"v7\.3 file \(HDF5\).*save\(name, '-v7'\)"):
        open_recording(v73, "emg")
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a mat file at all" * 20)
    with pytest.raises(ReplayError, match=r"junk\.mat: not a MATLAB file spasmwatch reads"):
        open_recording(junk, "emg")
    short = tmp_path / "params.mat"
    sio.savemat(short, {"gain": 1000.0, "fs": 1000.0})
    with pytest.raises(ReplayError, match=r"no signal among its variables \(gain, fs\)"):
        open_recording(short, "emg")
    with pytest.raises(ReplayError, match="replays as sEMG"):
        open_recording(short, "acc")
