"""``spasmwatch bench accuracy``: how well the detector finds spasms, beside other tools.

A suite of simulated cases with known answers (seeds fixed here, never used for tuning)
and the real recordings in ``recordings/``, each scored one to one by overlap (splits and
merges count as errors). NeuroKit2 and BioSPPy run on the same signals when the ``bench``
extra is installed; they are imported here, inside the bench, never by the package.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from detect.config import DetectorConfig
from detect.events import Episode
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording
from replay.csvio import CsvRecording
from replay.score import Score, merge_channels, score
from sensor.block import Block, concat
from sensor.frame import FrameAssembler, decode_frame
from sensor.simulate import SimConfig, SimulatedWearable

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
#: First seed of the suite's simulated cases.
SEED_BASE = 31_000
#: First seed of the study set: recordings apart from the suite, to choose constants on
#: (``spasmwatch bench accuracy --study``), so the suite stays a test of what was chosen.
STUDY_SEED_BASE = 77_001


@dataclass
class Case:
    """One recording to score: its signal, where it was taken, and the answers."""

    name: str
    what: str
    block: Block
    location: str
    signal: str = "emg"
    truth: list[dict[str, object]] | None = None
    count: int | None = None  # when only the number of bursts is known
    tolerance_s: float = 0.0
    merge: bool = False  # truth says when, not on which channel
    seed: int | None = None  # of a simulated case


@dataclass
class Result:
    """The numbers for one method on one case."""

    method: str
    case: str
    f1: float | None = None
    precision: float | None = None
    recall: float | None = None
    onset_med_ms: float | None = None
    onset_p95_ms: float | None = None
    offset_med_ms: float | None = None
    offset_p95_ms: float | None = None
    false_per_h: float | None = None
    type_pct: float | None = None
    latency_med_ms: float | None = None
    detected: int | None = None
    expected: int | None = None
    seconds: float = 0.0
    error: str | None = None
    extra: dict[str, float] = field(default_factory=dict)


# -- the suite ---------------------------------------------------------------------------------


def _simulate(**kw: object) -> tuple[SimulatedWearable, Block]:
    sim = SimulatedWearable(SimConfig.model_validate(kw))
    asm = FrameAssembler(sim.channels)
    return sim, concat([b for f in sim.frames() for b in asm.push(decode_frame(f))])


def _with_samples(
    block: Block, samples: npt.NDArray[np.float32], units: str | None = None
) -> Block:
    return Block(
        samples,
        block.fs,
        block.start_index,
        block.channels,
        (units,) * block.n_channels if units else block.units,
        block.lost,
    )


def _sim_case(
    name: str, what: str, i: int, location: str, *, base: int = SEED_BASE, **kw: object
) -> Case:
    sim, block = _simulate(seed=base + i, location=location, **kw)
    return Case(
        name,
        what,
        block,
        location,
        str(kw.get("signal", "emg")),
        [t.as_dict() for t in sim.truth],
        seed=base + i,
    )


def _no_site(i: int, seconds: float) -> Case:
    """A back recording replayed with no body location: its heart must be found in it."""
    case = _sim_case(
        "back-no-site",
        "lower back (ECG), 1 kHz, 10 dB, no body location given",
        i,
        "lower back",
        fs_hz=1000.0,
        snr_db=10.0,
        seconds=seconds,
    )
    case.location = "unspecified"
    return case


def _electrode_off(i: int) -> Case:
    """A 20 s stretch with the electrode off (flat): nothing there can be found or invented."""
    case = _sim_case(
        "electrode-off",
        "limb, 1 kHz, 12 dB, electrode off for 20 s",
        i,
        "left calf",
        fs_hz=1000.0,
        snr_db=12.0,
        seconds=600.0,
    )
    fs = case.block.fs
    a, b = int(200 * fs), int(220 * fs)
    x = np.array(case.block.samples)
    x[a:b] = x[a]
    case.block = _with_samples(case.block, x)
    assert case.truth is not None
    case.truth = [t for t in case.truth if not (_num(t["start"]) < 221 and _num(t["end"]) > 199)]
    return case


def _saturated(i: int) -> Case:
    """A device whose range ends just above the spasms' typical amplitude: strong ones clip."""
    case = _sim_case(
        "saturation",
        "limb, 1 kHz, 20 dB, clipping at +-120 uV",
        i,
        "left calf",
        fs_hz=1000.0,
        snr_db=20.0,
        seconds=600.0,
    )
    case.block = _with_samples(
        case.block, np.clip(case.block.samples, -120.0, 120.0).astype(np.float32)
    )
    return case


def _quantised(i: int) -> Case:
    """12-bit ADC counts with a mid-scale offset, resting at a few counts."""
    case = _sim_case(
        "12-bit counts",
        "limb, 500 Hz, 12 dB, 12-bit counts (2 uV/count, offset 2048)",
        i,
        "left thigh",
        fs_hz=500.0,
        snr_db=12.0,
        seconds=600.0,
    )
    counts = np.clip(np.round(case.block.samples / 2.0) + 2048, 0, 4095).astype(np.float32)
    case.block = _with_samples(case.block, counts, "counts")
    return case


def _real(
    stem: str,
    what: str,
    location: str,
    *,
    count: int | None = None,
    tolerance_s: float = 0.0,
    merge: bool = False,
) -> Case | None:
    path = RECORDINGS / f"{stem}.csv"
    if not path.exists():
        path = path.with_suffix(".bdf")
    if not path.exists():
        return None
    rec = CsvRecording(path, "emg") if path.suffix == ".csv" else EdfRecording(path, "emg")
    block = concat(list(rec.blocks()))
    truth_path = RECORDINGS / f"{stem}.truth.json"
    truth = json.loads(truth_path.read_text()) if truth_path.exists() else None
    if isinstance(rec, EdfRecording) and rec.truth:
        truth = list(rec.truth)
    return Case(
        stem, what, block, location, truth=truth, count=count, tolerance_s=tolerance_s, merge=merge
    )


def suite(quick: bool = False) -> Iterator[Case]:
    """The cases, built one at a time (so only one signal is in memory)."""
    minutes = 5.0 if quick else 10.0
    s = minutes * 60
    yield _sim_case(
        "limb-20dB",
        "calf, 1 kHz, 20 dB, 50 Hz mains",
        1,
        "left calf",
        fs_hz=1000.0,
        snr_db=20.0,
        seconds=s,
    )
    yield _sim_case(
        "trunk-20dB",
        "lower back (ECG), 2 kHz, 20 dB, 60 Hz",
        2,
        "lower back",
        fs_hz=2000.0,
        snr_db=20.0,
        mains_hz=60,
        seconds=s,
    )
    yield _sim_case(
        "limb-10dB",
        "thigh, 1 kHz, 10 dB, 60 Hz mains",
        3,
        "right thigh",
        fs_hz=1000.0,
        snr_db=10.0,
        mains_hz=60,
        seconds=s,
    )
    yield _sim_case(
        "neck-10dB", "neck (ECG), 1 kHz, 10 dB", 4, "neck", fs_hz=1000.0, snr_db=10.0, seconds=s
    )
    yield _sim_case(
        "limb-6dB", "calf, 1 kHz, 6 dB", 5, "left calf", fs_hz=1000.0, snr_db=6.0, seconds=s
    )
    yield _sim_case(
        "limb-3dB", "calf, 2 kHz, 3 dB", 6, "left calf", fs_hz=2000.0, snr_db=3.0, seconds=s
    )
    yield _sim_case(
        "armband-200Hz",
        "forearm, 200 Hz (Myo-like), 2 channels, 12 dB",
        7,
        "right forearm",
        fs_hz=200.0,
        snr_db=12.0,
        channels=2,
        seconds=s,
    )
    yield _sim_case(
        "shin-250Hz", "shin, 250 Hz, 8 dB", 8, "right shin", fs_hz=250.0, snr_db=8.0, seconds=s
    )
    yield _sim_case(
        "packet-loss",
        "calf, 1 kHz, 12 dB, 2 % of Bluetooth notifications lost",
        14,
        "left calf",
        fs_hz=1000.0,
        snr_db=12.0,
        drop_fraction=0.02,
        seconds=s,
    )
    yield _sim_case(
        "flexor-25dB",
        "calf, 1 kHz, flexor spasms: a phasic burst 25 dB over rest, then a tonic phase "
        "6-14 dB under it",
        15,
        "left calf",
        fs_hz=1000.0,
        snr_db=25.0,
        profile="flexor",
        seconds=s,
    )
    yield _no_site(16, s)
    yield _electrode_off(9)
    yield _saturated(10)
    yield _quantised(11)
    yield _sim_case(
        "acc-50Hz",
        "ankle accelerometer, 50 Hz, 15 dB",
        12,
        "left ankle",
        signal="acc",
        fs_hz=50.0,
        snr_db=15.0,
        seconds=s,
    )
    if not quick:
        yield _sim_case(
            "night-rest",
            "calf, 1 kHz, 8 h with rare spasms (1 per 20 min)",
            13,
            "left calf",
            fs_hz=1000.0,
            snr_db=15.0,
            seconds=8 * 3600.0,
            episodes_per_min=0.05,
        )
    for case in (
        _real(
            "sim_calf_1khz_2ch", "recording: simulated calf, 2 ch, 1 kHz, 15 dB (BDF+)", "left calf"
        ),
        _real(
            "sim_lower_back_2khz",
            "recording: simulated lower back, 2 kHz, 12 dB (BDF+)",
            "lower back",
        ),
        _real(
            "emggo_ta_250hz",
            "real: tibialis anterior, 250 Hz, 56 bursts (count only)",
            "right shin",
            count=56,
        ),
        _real(
            "myo_forearm_s01_series1",
            "real: Myo armband 8 ch, 200 Hz, cued gestures (1 s tolerance)",
            "right forearm",
            tolerance_s=1.0,
            merge=True,
        ),
        _real(
            "myo_forearm_s01_series2",
            "real: Myo armband 8 ch, 200 Hz, cued gestures (1 s tolerance)",
            "right forearm",
            tolerance_s=1.0,
            merge=True,
        ),
        _real(
            "biceps_fatigue_1khz",
            "real: biceps, 1 kHz, 12-bit counts, cycles marked from the RMS (0.5 s tolerance)",
            "right arm",
            tolerance_s=0.5,
        ),
        _real(
            "biceps_bursts_1khz",
            "real: biceps, 1 kHz, 16-bit counts, bursts marked from the RMS (0.5 s tolerance)",
            "right arm",
            tolerance_s=0.5,
        ),
    ):
        if case is not None:
            yield case


#: The study set: (name, location, rate Hz, SNR dB, extra settings), 5 min each.
STUDY: tuple[tuple[str, str, float, float, dict[str, object]], ...] = (
    ("calf-1k-15dB", "left calf", 1000.0, 15.0, {}),
    ("back-2k-15dB", "lower back", 2000.0, 15.0, {}),
    ("thigh-1k-10dB", "thigh", 1000.0, 10.0, {}),
    ("neck-2k-10dB-60Hz", "neck", 2000.0, 10.0, {"mains_hz": 60}),
    ("forearm-200Hz-10dB", "forearm", 200.0, 10.0, {"channels": 2}),
    ("shin-250Hz-8dB", "shin", 250.0, 8.0, {}),
    ("calf-1k-6dB", "left calf", 1000.0, 6.0, {}),
    ("calf-2k-20dB", "left calf", 2000.0, 20.0, {}),
    ("back-1k-6dB", "lower back", 1000.0, 6.0, {}),
    ("forearm-200Hz-6dB", "forearm", 200.0, 6.0, {"channels": 2}),
    ("thigh-500Hz-12dB", "thigh", 500.0, 12.0, {}),
    ("calf-1k-4dB", "left calf", 1000.0, 4.0, {}),
    ("calf-1k-3dB", "left calf", 1000.0, 3.0, {}),
    ("calf-2k-5dB", "left calf", 2000.0, 5.0, {}),
    ("shin-250Hz-6dB", "shin", 250.0, 6.0, {}),
    ("chest-1k-12dB", "chest", 1000.0, 12.0, {}),
)


def study() -> Iterator[Case]:
    """The study set: simulated sEMG apart from the suite (its own seeds), 200 Hz-2 kHz,
    3-20 dB, limb and trunk sites. Choose constants here; report on the suite."""
    for i, (name, location, fs, snr, extra) in enumerate(STUDY):
        what = f"{location}, {fs:g} Hz, {snr:g} dB"
        yield _sim_case(
            name,
            what,
            i,
            location,
            base=STUDY_SEED_BASE,
            fs_hz=fs,
            snr_db=snr,
            seconds=300.0,
            **extra,
        )


# -- scoring -----------------------------------------------------------------------------------


def _num(v: object) -> float:
    if not isinstance(v, int | float):
        raise TypeError(f"expected a number, got {v!r}")
    return float(v)


def _ms(values: tuple[float, ...], q: float) -> float | None:
    return float(np.percentile(np.abs(values), q) * 1000) if values else None


def _result(method: str, case: Case, episodes: list[dict[str, object]], seconds: float) -> Result:
    duration = case.block.n_samples / case.block.fs
    if case.truth is None:
        n = len(merge_channels(episodes) if case.merge else episodes)
        return Result(method, case.name, detected=n, expected=case.count, seconds=seconds)
    detected = merge_channels(episodes) if case.merge else episodes
    s: Score = score(detected, case.truth, tolerance_s=case.tolerance_s)
    in_truth = sum(_num(t["end"]) - _num(t["start"]) for t in case.truth)
    rest_h = max(1e-9, (duration - in_truth) / 3600)
    has_types = any("type" in t for t in case.truth) and any("type" in d for d in detected)
    return Result(
        method,
        case.name,
        f1=s.f1,
        precision=s.precision,
        recall=s.recall,
        onset_med_ms=None if case.tolerance_s else _ms(s.onset_errors_s, 50),
        onset_p95_ms=None if case.tolerance_s else _ms(s.onset_errors_s, 95),
        offset_med_ms=None if case.tolerance_s else _ms(s.offset_errors_s, 50),
        offset_p95_ms=None if case.tolerance_s else _ms(s.offset_errors_s, 95),
        false_per_h=s.false_positives / rest_h,
        type_pct=100 * s.type_agreement if has_types else None,
        latency_med_ms=float(np.median(s.latencies_s) * 1000) if s.latencies_s else None,
        detected=len(detected),
        expected=len(case.truth),
        seconds=seconds,
    )


def run_ours(case: Case, config: DetectorConfig | None = None) -> Result:
    """spasmwatch's live pipeline, fed 25 ms blocks as it would be live."""
    cfg = config or DetectorConfig.model_validate({"signal": case.signal})
    b = case.block
    pipe = Pipeline(cfg, b.fs, b.channels, b.units, case.location)
    step = max(1, round(0.025 * b.fs))
    started: dict[tuple[str, int], int] = {}
    episodes: list[dict[str, object]] = []
    t0 = time.perf_counter()

    def take(events: list[Episode]) -> None:
        for e in events:
            if e.state == "open":
                started[(e.channel, e.onset_index)] = e.decided_index
            else:
                d = e.as_dict()
                d["decided"] = started.get((e.channel, e.onset_index), e.decided_index) / e.fs
                episodes.append(d)

    for i in range(0, b.n_samples, step):
        take(
            pipe.process(
                Block(b.samples[i : i + step], b.fs, i, b.channels, b.units, b.lost[i : i + step])
            )
        )
    take(pipe.flush())
    return _result("spasmwatch", case, episodes, time.perf_counter() - t0)


def _runs(active: npt.NDArray[np.bool_], fs: float, channel: str) -> list[dict[str, object]]:
    edges = np.flatnonzero(np.diff(np.r_[0, active.astype(np.int8), 0]))
    return [
        {"start": a / fs, "end": b / fs, "channel": channel}
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _per_channel(
    case: Case, detect_one: Callable[[npt.NDArray[np.float64], float], list[tuple[float, float]]]
) -> list[dict[str, object]]:
    episodes: list[dict[str, object]] = []
    for j, name in enumerate(case.block.channels):
        x = np.asarray(case.block.samples[:, j], dtype=np.float64)
        episodes += [
            {"start": a, "end": b, "channel": name} for a, b in detect_one(x, case.block.fs)
        ]
    return episodes


def _neurokit(
    method: str | None,
) -> Callable[[npt.NDArray[np.float64], float], list[tuple[float, float]]]:
    def detect_one(x: npt.NDArray[np.float64], fs: float) -> list[tuple[float, float]]:
        import neurokit2 as nk

        kwargs = {} if method is None else {"method_activation": method}
        signals, _ = nk.emg_process(x, sampling_rate=round(fs), **kwargs)
        active = np.asarray(signals["EMG_Activity"].to_numpy() > 0)
        return [(float(r["start"]), float(r["end"])) for r in _runs(active, fs, "")]  # type: ignore[arg-type]

    return detect_one


def _biosppy(x: npt.NDArray[np.float64], fs: float) -> list[tuple[float, float]]:
    from biosppy.signals import emg

    filtered = np.asarray(emg.emg(signal=x, sampling_rate=fs, show=False)["filtered"])
    size = max(1, round(0.05 * fs))
    rest = np.convolve(np.abs(filtered[: int(5 * fs)]), np.ones(size) / size, mode="valid")
    onsets, _ = emg.lidierth_onset_detector(
        signal=filtered,
        rest={"mean": float(np.mean(rest)), "std_dev": float(np.std(rest))},
        sampling_rate=fs,
        size=size,
        threshold=3,
        active_state_duration=max(1, round(0.05 * fs)),
        fail_size=max(1, round(0.01 * fs)),
    )
    onsets = np.asarray(onsets, dtype=float)
    pairs = onsets[: len(onsets) // 2 * 2].reshape(-1, 2)
    return [(a / fs, b / fs) for a, b in pairs]


BASELINES: dict[str, Callable[[npt.NDArray[np.float64], float], list[tuple[float, float]]]] = {
    "NeuroKit2": _neurokit(None),
    "NeuroKit2 mixture": _neurokit("mixture"),
    "BioSPPy Lidierth": _biosppy,
}


#: The package each baseline comes from: its numbers depend on the version installed.
BASELINE_PACKAGES = {"NeuroKit2": "neurokit2", "BioSPPy": "biosppy"}


def baseline_versions() -> dict[str, str | None]:
    """The installed version of each baseline's package (None: not installed), read from
    its metadata without importing it."""
    out: dict[str, str | None] = {}
    for name, package in BASELINE_PACKAGES.items():
        try:
            out[name] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_baseline(name: str, case: Case) -> Result:
    """A baseline on one case; its error, if it raises one, is the result."""
    if case.signal != "emg":
        return Result(name, case.name, error="sEMG only")
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the baselines' own chatter is not our output
            episodes = _per_channel(case, BASELINES[name])
    except ImportError:
        return Result(name, case.name, error="not installed (pip install -e '.[bench]')")
    except Exception as exc:
        return Result(name, case.name, error=f"raised {type(exc).__name__}: {str(exc)[:60]}")
    return _result(name, case, episodes, time.perf_counter() - t0)


# -- output ------------------------------------------------------------------------------------


def _fmt(v: float | int | None, spec: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def table_row(r: Result) -> str:
    """One line of the printed table."""
    if r.error:
        return f"  {r.method:<18} {r.error}"
    if r.f1 is None:
        return f"  {r.method:<18} detected {r.detected} (expected {r.expected})"
    return (
        f"  {r.method:<18} F1 {_fmt(r.f1, '.3f')}  P {_fmt(r.precision, '.2f')}  R {_fmt(r.recall, '.2f')}"
        f"  onset {_fmt(r.onset_med_ms, '.0f')}/{_fmt(r.onset_p95_ms, '.0f')} ms"
        f"  offset {_fmt(r.offset_med_ms, '.0f')}/{_fmt(r.offset_p95_ms, '.0f')} ms"
        f"  false {_fmt(r.false_per_h, '.1f')}/h  type {_fmt(r.type_pct, '.0f')}%"
        f"  latency {_fmt(r.latency_med_ms, '.0f')} ms  ({r.detected}/{r.expected}, {r.seconds:.1f} s)"
    )


def as_json(r: Result) -> str:
    """One result as a JSON object."""
    return json.dumps(asdict(r))
