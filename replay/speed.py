"""``spasmwatch bench speed``: how fast recordings replay, how much memory, the live block cost.

Every number is printed beside a baseline measured in the same run on the same samples: a
bare 4th-order Butterworth 20-450 Hz band-pass (second-order sections, float32, scipy's
``sosfilt``), since machines are shared and noisy.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import signal

from detect.config import DetectorConfig
from detect.pipeline import Pipeline, detect
from replay.bdf import BdfWriter, EdfRecording
from sensor.block import Block, concat
from sensor.simulate import SimConfig, SimulatedWearable

FS = 2000.0
CHANNELS = 8
LONG_S = 3600.0
SHORT_S = 600.0
#: Runs of each ``detect()`` call timed, the fastest kept: two let one burst of another
#: process's work on a shared machine decide the ratio (0.65-1.15 in four runs of session 15).
WHOLE_RUNS = 3
BLOCK_S = 0.025


def make_recording(path: Path, seconds: float, seed: int = 1) -> None:
    """A simulated 8-channel 2 kHz sEMG recording with spasms, as BDF+."""
    sim = SimulatedWearable(SimConfig(fs_hz=FS, channels=CHANNELS, seconds=seconds, seed=seed))
    w = BdfWriter(
        path,
        sim.channels,
        ("uV",) * CHANNELS,
        FS,
        datetime(2026, 1, 1, tzinfo=UTC),
        recording="bench",
    )
    index = 0
    for counts in sim.samples():
        x = counts.astype(np.float32) * np.float32(sim.scale)
        w.write(Block(x, FS, index, sim.channels, ("uV",) * CHANNELS))
        index += len(x)
    w.close()


def bandpass_sos() -> np.ndarray:
    """The baseline filter."""
    sos: np.ndarray = signal.butter(4, [20.0, 450.0], "bandpass", fs=FS, output="sos").astype(
        np.float32
    )
    return sos


def replay_child(path: Path, whole: bool = False) -> dict[str, float]:
    """In a fresh process: replay ``path`` through the limb sEMG chain; then the baseline.

    ``whole``: also detect over the whole recording in one call (as a script would), which
    must find the same episodes as fast: its cost must not grow with the square of the
    length (a search repeated over the rest of the call once made 8 h take 16 min).
    """
    rec = EdfRecording(path, "emg")
    pipe = Pipeline(DetectorConfig(), rec.fs, rec.channels, rec.units, "left calf")
    t0 = time.perf_counter()
    n = 0
    events = []
    for block in rec.blocks():
        events += pipe.process(block)
        n += block.samples.size
    events += pipe.flush()
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "samples": float(n),
        "seconds": elapsed,
        "peak_rss_mb": peak_mb,
        "duration_s": rec.raw.n_times / rec.fs,
    }
    # The baseline: one sosfilt call over the same samples, in memory.
    x = np.concatenate([b.samples for b in rec.blocks()])
    t0 = time.perf_counter()
    signal.sosfilt(bandpass_sos(), x, axis=0)
    out["bandpass_seconds"] = time.perf_counter() - t0
    if whole:
        block = concat(list(rec.blocks()))
        quarter = block.slice(0, block.n_samples // 4)
        # The fastest of three of each, taken in turns (the first touches fresh memory, and
        # on a shared machine a burst of other work then slows both sizes alike, not one).
        times: dict[str, list[float]] = {"quarter_seconds": [], "whole_seconds": []}
        for _ in range(WHOLE_RUNS):
            for name, part in (("quarter_seconds", quarter), ("whole_seconds", block)):
                t0 = time.perf_counter()
                found = detect(DetectorConfig(), part, "left calf")
                times[name].append(time.perf_counter() - t0)
        out.update({name: min(t) for name, t in times.items()})
        out["whole_same"] = float(found == events)
        out["episodes"] = float(sum(e.state != "open" for e in events))
    return out


def live_blocks(seconds: float = 60.0) -> tuple[float, float]:
    """Median cost of one 25 ms block (8 channels at 2 kHz) through the pipeline and the
    baseline band-pass, microseconds."""
    rng = np.random.default_rng(2)
    step = round(BLOCK_S * FS)
    x = (rng.standard_normal((int(seconds * FS), CHANNELS)) * 5).astype(np.float32)
    names = tuple(f"ch{i + 1}" for i in range(CHANNELS))
    pipe = Pipeline(DetectorConfig(), FS, names, ("uV",) * CHANNELS, "left calf")
    sos = bandpass_sos()
    zi = np.zeros((sos.shape[0], 2, CHANNELS), dtype=np.float32)
    ours, base = [], []
    for i in range(0, len(x) - step + 1, step):
        b = Block(x[i : i + step], FS, i, names, ("uV",) * CHANNELS)
        t0 = time.perf_counter()
        pipe.process(b)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _, zi = signal.sosfilt(sos, x[i : i + step], axis=0, zi=zi)
        base.append(time.perf_counter() - t0)
    return float(np.median(ours) * 1e6), float(np.median(base) * 1e6)


def _child(path: Path, whole: bool = False) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "replay.speed", str(path), *(["--whole"] if whole else [])],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(workdir: Path | None = None, say: object = print) -> dict[str, float]:
    """The whole bench; returns the numbers ``--json`` prints."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        long_path, short_path = Path(tmp) / "hour.bdf", Path(tmp) / "ten-minutes.bdf"
        say("making a 1 h, 8-channel, 2 kHz BDF+ recording ...")  # type: ignore[operator]
        make_recording(long_path, LONG_S)
        make_recording(short_path, SHORT_S, seed=2)
        say("replaying it in a fresh process ...")  # type: ignore[operator]
        long = _child(long_path)
        short = _child(short_path, whole=True)
    live, live_bp = live_blocks()
    rate = long["samples"] / long["seconds"]
    return {
        "samples_per_s": rate,
        "realtime_factor": long["duration_s"] / long["seconds"],
        "ratio_to_bandpass": long["bandpass_seconds"] / long["seconds"],
        "bandpass_samples_per_s": long["samples"] / long["bandpass_seconds"],
        "peak_rss_mb": long["peak_rss_mb"],
        "peak_rss_mb_short": short["peak_rss_mb"],
        "live_block_us": live,
        "live_block_bandpass_us": live_bp,
        "whole_call_samples_per_s": short["samples"] / short["whole_seconds"],
        "quarter_call_samples_per_s": short["samples"] / 4 / short["quarter_seconds"],
        "whole_call_same_episodes": short["whole_same"],
    }


if __name__ == "__main__":
    os.environ.setdefault("MNE_LOGGING_LEVEL", "ERROR")
    print(json.dumps(replay_child(Path(sys.argv[1]), whole="--whole" in sys.argv[2:])))
