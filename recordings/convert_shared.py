"""Convert the public recordings in ``../shared/data`` into spasmwatch CSV files here.

Run once by a developer (``python recordings/convert_shared.py ../shared/data``); the tests
and the bench read only the converted files in this folder. Each conversion keeps the
original numbers (device counts) and says where they came from in the file's comments.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.io

from replay.myolog import MYO_FS, MyoLogRecording
from sensor.block import concat

HERE = Path(__file__).resolve().parent


def write_csv(
    path: Path,
    fs: float,
    channels: list[str],
    x: np.ndarray,
    comments: dict[str, str],
    fmt: str = "%d",
) -> None:
    t = np.arange(len(x)) / fs
    with path.open("w", encoding="utf-8", newline="") as fh:
        for k, v in comments.items():
            fh.write(f"# {k}: {v}\n")
        fh.write("time," + ",".join(channels) + "\n")
        np.savetxt(fh, np.column_stack([t, x]), fmt=["%.3f"] + [fmt] * x.shape[1], delimiter=",")


def emggo(shared: Path) -> None:
    m = scipy.io.loadmat(
        shared / "emggo_ta_sample" / "sample_data_TA_250Hz.mat",
        squeeze_me=True,
        struct_as_record=False,
    )
    x = np.asarray(m["EMG"].channelData, dtype=float)
    fs = float(m["EMG"].fs)
    write_csv(
        HERE / "emggo_ta_250hz.csv",
        fs,
        ["tibialis_anterior"],
        x[:, None],
        {
            "source": "emgGO sample recording (GallVp/emgGO, samples/Sample Data.mat), MIT licence, Rashid et al. 2019",
            "signal": "emg",
            "location": "right shin (tibialis anterior)",
            "units": "au",
            "truth": "56 activation bursts (emgGO detection tutorial); count only",
        },
        fmt="%.5g",
    )


def myo(shared: Path) -> None:
    folder = shared / "myo_gestures_s01"
    for series, name in (
        (1, "1_raw_data_13-12_22.03.16.txt.gz"),
        (2, "2_raw_data_13-13_22.03.16.txt.gz"),
    ):
        # Read as a replay reads the dataset's files (``replay.myolog``): the value held at
        # each 5 ms tick, in counts; the cued gestures (classes 2-7) are the truth.
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / name.removesuffix(".gz")
            raw.write_bytes(gzip.decompress((folder / name).read_bytes()))
            rec = MyoLogRecording(raw, "emg")
            x = np.asarray(concat(list(rec.blocks())).samples).astype(int)
            truth = rec.truth
        stem = f"myo_forearm_s01_series{series}"
        write_csv(
            HERE / f"{stem}.csv",
            MYO_FS,
            [f"myo{i}" for i in range(1, 9)],
            x,
            {
                "source": "UCI 'EMG data for gestures', subject 01 (Lobov et al. 2018, Sensors 18:1122), CC BY 4.0",
                "signal": "emg",
                "location": "right forearm",
                "units": "counts",
                "conversion": "Myo int8 counts (file values x 1e5), held values taken every 5 ms",
            },
        )
        (HERE / f"{stem}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")


#: The biceps fatigue recording's first minute, to the end of its 15th cycle.
BICEPS_S = 61.0


def rms_marks(x: np.ndarray, fs: float, over: float, channel: str) -> list[dict[str, object]]:
    """Contractions marked from the signal itself (no expert marked them): 0.25 s windows
    whose RMS, after removing the mean of the first second, exceeds ``over`` counts, runs of
    them joined across a single quieter window."""
    w = round(0.25 * fs)
    y = x - x[: round(fs)].mean()
    rms = np.sqrt(np.mean(y[: len(y) // w * w].reshape(-1, w).astype(float) ** 2, axis=1))
    on = rms > over
    on[1:-1] |= on[:-2] & on[2:]
    edges = np.flatnonzero(np.diff(np.r_[0, on.astype(int), 0]))
    return [
        {"start": a * w / fs, "end": b * w / fs, "channel": channel}
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def biceps(shared: Path) -> None:
    """Two biceps recordings from PLUX: cycles to fatigue (12 bit) and bursts (16 bit)."""
    folder = shared / "biosignalsnotebooks_emg"
    fs = 1000.0
    # (file, name here, seconds kept, RMS over which a window is a contraction, what it is):
    # the fatigue recording's rest holds 3-20 counts and its contractions 100-800; the
    # bursts' rest 95-385 (tone left after a burst) and its bursts 500-4000.
    for source, stem, seconds, over, what in (
        ("emg_fatigue", "biceps_fatigue_1khz", BICEPS_S, 100, "cycles of flexion and extension"),
        ("emg_bursts", "biceps_bursts_1khz", None, 500, "bursts of contraction"),
    ):
        with gzip.open(folder / f"{source}.csv.gz", "rt") as fh:
            x = np.loadtxt(fh, comments="#").astype(int)
        if seconds is not None:
            x = x[: round(seconds * fs)]
        kept = f"the first {seconds:g} s" if seconds is not None else "all of it"
        bits = 12 if source == "emg_fatigue" else 16
        write_csv(
            HERE / f"{stem}.csv",
            fs,
            ["biceps"],
            x[:, None],
            {
                "source": f"biosignalsnotebooks 0.6.14 (PLUX), signal_samples/{source}.h5, MIT licence",
                "signal": "emg",
                "location": "right arm (biceps brachii)",
                "units": "counts",
                "conversion": f"{bits}-bit ADC counts as recorded, {kept}",
                "truth": f"{what}, marked from the RMS (not by an expert)",
            },
        )
        truth = rms_marks(x, fs, over, "biceps")
        (HERE / f"{stem}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
    emggo(root)
    myo(root)
    biceps(root)
