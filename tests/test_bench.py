"""A regression guard for detection: per-case F1 floors on a small fixed suite (not timed).

The floors sit a little under what the detector reaches today (``spasmwatch bench accuracy``
prints the full table); a change that breaks detection falls through them.
"""

from __future__ import annotations

import pytest

from replay import bench

# One worker runs this module, so the quick suite below is simulated and detected once.
pytestmark = pytest.mark.xdist_group("quick_suite")

FLOORS = {
    "limb-20dB": 0.9,
    "trunk-20dB": 0.9,
    "limb-10dB": 0.85,
    "neck-10dB": 0.9,  # 0.952 before the QRS gate, 1.000 with it
    "limb-6dB": 0.9,
    "limb-3dB": 0.8,
    "armband-200Hz": 0.8,
    "shin-250Hz": 0.9,
    "packet-loss": 0.9,
    "electrode-off": 0.9,
    "saturation": 0.9,
    "12-bit counts": 0.9,
    # A strong burst, then a weaker hold: two episodes each before the release waited.
    "flexor-25dB": 0.9,
    # Read as a limb, every heartbeat was a possible spasm; its heart is found in it.
    "back-no-site": 0.9,
    "myo_forearm_s01_series1": 0.9,
    # The target for the real Myo series; 1.000 since a stall of every channel at
    # once is bridged (0.952 before: each stall cut a gesture, one into two episodes).
    "myo_forearm_s01_series2": 0.95,
    # Both begin with a contraction in the detector's first 3 s (the filters settle, then the
    # rest is learnt), found once the rest after it is seen: without that, 14 of the 15 cycles
    # and 5 of the 9 bursts.
    "biceps_fatigue_1khz": 0.95,
    "biceps_bursts_1khz": 0.9,
}


@pytest.fixture(scope="module")
def quick_run() -> tuple[dict[str, bench.Result], set[int]]:
    """The quick suite run once for the module: the results, and the seeds of its cases."""
    out, seeds = {}, set()
    for case in bench.suite(quick=True):
        if case.seed is not None:
            seeds.add(case.seed)
        if case.name in FLOORS or case.name == "emggo_ta_250hz":
            out[case.name] = bench.run_ours(case)
    return out, seeds


@pytest.fixture(scope="module")
def results(quick_run: tuple[dict[str, bench.Result], set[int]]) -> dict[str, bench.Result]:
    return quick_run[0]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_f1_floor(results: dict[str, bench.Result], name: str) -> None:
    r = results[name]
    assert r.f1 is not None
    assert r.f1 >= FLOORS[name], bench.table_row(r)


SIMULATED = [n for n in sorted(FLOORS) if not n.startswith(("myo", "biceps"))]


def test_few_false_episodes_and_a_prompt_start(results: dict[str, bench.Result]) -> None:
    # The targets: at most 2 false episodes an hour (every case, the real recordings
    # too); the live start reported within the minimum duration + 250 ms (median over the
    # simulated cases: the real ones' labels are cues, not onsets).
    for name in sorted(FLOORS):
        r = results[name]
        assert r.false_per_h is not None
        assert r.false_per_h <= 2.0, bench.table_row(r)
    latencies = sorted(
        r.latency_med_ms for n in SIMULATED if (r := results[n]).latency_med_ms is not None
    )
    assert latencies[len(latencies) // 2] <= 500 + 250


def test_the_real_tibialis_recording_has_56_bursts(results: dict[str, bench.Result]) -> None:
    r = results["emggo_ta_250hz"]
    assert r.detected is not None
    assert abs(r.detected - 56) <= 2


def test_no_false_episodes_where_there_is_no_signal(results: dict[str, bench.Result]) -> None:
    r = results["electrode-off"]
    assert r.false_per_h == 0.0


def test_the_study_set_stands_apart_from_the_suite(
    quick_run: tuple[dict[str, bench.Result], set[int]],
) -> None:
    # Constants are chosen on the study set; the suite must not share its recordings.
    suite_seeds = quick_run[1]
    study = list(bench.study())
    assert len(study) == len(bench.STUDY)
    assert suite_seeds
    assert not suite_seeds & {c.seed for c in study}
    assert all(c.truth for c in study)
    assert {c.block.fs for c in study} >= {200.0, 250.0, 1000.0, 2000.0}


def test_the_table_names_the_baselines_versions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.metadata
    import json

    from spasmwatch.cli import main

    def version(package: str) -> str:
        if package == "neurokit2":
            return "9.9.9"
        raise importlib.metadata.PackageNotFoundError(package)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(bench, "suite", lambda quick=False: iter(()))  # the header alone
    assert main(["bench", "accuracy", "--quick"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "baselines: NeuroKit2 9.9.9, BioSPPy not installed"
    )
    assert main(["bench", "accuracy", "--quick", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["baselines"] == {"NeuroKit2": "9.9.9", "BioSPPy": None}
    assert main(["bench", "accuracy", "--quick", "--no-baselines"]) == 0
    assert "baselines" not in capsys.readouterr().out.splitlines()[0]
