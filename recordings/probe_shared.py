"""Run the detector over the unlabelled real recordings in ``../shared/data``; print what it finds.

For developers (``python recordings/probe_shared.py [../shared/data] [name filter]``): the
recordings have no marked episodes, so this is read by eye against what each folder's README
says the subject did (cycles of contraction, knee extensions, gait). It is how the rest
spread's ceiling (``ThresholdConfig.on_max_db``) was found. Nothing here is used by the
tests or the bench.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from detect import DetectorConfig
from detect.pipeline import Pipeline
from replay.run import open_recording
from sensor.block import Block, concat

Loaded = tuple[np.ndarray, float, tuple[str, ...], str]


def uci(path: Path) -> Loaded:
    """UCI lower limb, as Biometrics DataLOG exported it: four thigh muscles in mV (the knee
    angle left out), 1 kHz (which the subject 3 files do not say)."""
    rec = open_recording(path, "emg", fs=1000.0)
    x = concat(list(rec.blocks())).samples.astype(np.float64)
    return x * 1000.0, rec.info.fs, rec.info.channels, "uV"


def counts(path: Path) -> Loaded:
    """One channel of ADC counts at 1 kHz (gzip CSV or plain text, last column)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        x = np.loadtxt(fh, comments="#")
    if x.ndim > 1:
        x = x[:, -1]
    return x[:, None], 1000.0, ("ch1",), "counts"


def cases(root: Path) -> list[tuple[str, Callable[[], Loaded], str]]:
    out: list[tuple[str, Callable[[], Loaded], str]] = []
    for name in ("3Asen", "3Apie", "3Amar", "5Nsen", "5Npie", "5Nmar"):
        out.append(
            (f"uci {name}", lambda n=name: uci(root / "uci_emg_lower_limb" / f"{n}.txt"), "thigh")
        )
    for name in ("emg_bursts", "emg_fatigue", "emg_1000_hz_16_bits_solo"):
        path = root / "biosignalsnotebooks_emg" / f"{name}.csv.gz"
        out.append((f"biosignalsnotebooks {name}", lambda p=path: counts(p), "arm"))
    for name in ("emg", "emg_1"):
        path = root / "biosppy_examples" / f"{name}.txt"
        out.append((f"biosppy {name}", lambda p=path: counts(p), "arm"))
    return out


def main() -> None:
    root = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    for name, load, location in cases(root):
        if only not in name:
            continue
        x, fs, channels, units = load()
        block = Block(x.astype(np.float32), fs, 0, channels, (units,) * len(channels))
        pipe = Pipeline(DetectorConfig(), fs, channels, block.units, location)
        step = round(0.025 * fs)  # live-sized blocks
        found = []
        for i in range(0, block.n_samples, step):
            found += pipe.process(block.slice(i, min(i + step, block.n_samples)))
        found += pipe.flush()
        done = [e for e in found if e.state != "open"]
        print(f"{name}: {block.n_samples / fs:.1f} s")
        for ch in channels:
            eps = [e for e in done if e.channel == ch]
            print(
                f"  {ch}: {len(eps)} episodes "
                + " ".join(
                    f"{e.start_s:.1f}+{e.end_s - e.start_s:.1f}s/{e.strength_db:.0f}dB" for e in eps
                )
            )


if __name__ == "__main__":
    main()
