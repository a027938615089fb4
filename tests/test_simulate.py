import numpy as np
import pytest
from pydantic import ValidationError

from sensor.frame import FrameAssembler, decode_frame
from sensor.simulate import MAX_PAYLOAD, SimConfig, SimulatedWearable, is_trunk


def frames(**kw: object) -> list[bytes]:
    return list(
        SimulatedWearable(SimConfig(**{"fs_hz": 1000.0, "seconds": 20.0, "seed": 1, **kw})).frames()
    )


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert frames() == frames()
    assert frames() != frames(seed=2)


def test_truth_lies_inside_the_recording_and_is_typed() -> None:
    sim = SimulatedWearable(SimConfig(fs_hz=500.0, seconds=600.0, seed=4, channels=3))
    assert 10 <= len(sim.truth) <= 40  # about two a minute
    for e in sim.truth:
        assert 0 < e.start < e.end < 600
        assert e.type in ("tonic", "clonic", "mixed")
        assert e.channel in sim.channels
        assert e.duration >= 0.6
    starts = [e.start for e in sim.truth]
    assert starts == sorted(starts)


def test_frames_fit_a_ble_payload_and_decode_to_the_whole_stream() -> None:
    sim = SimulatedWearable(SimConfig(fs_hz=2000.0, seconds=3.0, seed=1, channels=8))
    asm = FrameAssembler(sim.channels)
    n = 0
    for payload in sim.frames():
        assert len(payload) <= MAX_PAYLOAD
        n += sum(b.n_samples for b in asm.push(decode_frame(payload)))
    assert n == 6000
    assert asm.lost_frames == 0


def test_spasm_is_stronger_than_rest_by_the_snr() -> None:
    sim = SimulatedWearable(
        SimConfig(
            fs_hz=1000.0,
            seconds=300.0,
            seed=3,
            snr_db=20.0,
            mains=False,
            motion=False,
            twitches=False,
        )
    )
    x = np.concatenate(list(sim.samples())).astype(float)[:, 0] * sim.scale
    e = next(e for e in sim.truth if e.type == "tonic" and e.duration > 1.5)
    inside = x[int((e.start + 0.3) * 1000) : int((e.end - 0.3) * 1000)]
    rest = x[int(0.5 * 1000) : int(2.5 * 1000)]
    ratio_db = 20 * np.log10(np.std(inside) / np.std(rest))
    assert 17 < ratio_db < 23


def test_a_flexor_spasm_opens_with_a_burst_then_holds_weaker() -> None:
    kw = {"fs_hz": 1000.0, "seconds": 300.0, "seed": 3, "snr_db": 20.0}
    quiet = {"mains": False, "motion": False, "twitches": False}
    steady = SimulatedWearable(SimConfig(**kw))
    sim = SimulatedWearable(SimConfig(**kw, **quiet, profile="flexor"))
    # The same spasms, when and where, as the steady profile's: only their strength runs.
    assert [(e.start, e.end, e.type) for e in sim.truth] == [
        (e.start, e.end, e.type) for e in steady.truth
    ]
    x = np.concatenate(list(sim.samples())).astype(float)[:, 0] * sim.scale
    tonic = [e for e in sim.truth if e.type == "tonic" and e.duration > 3]
    assert tonic
    for e in tonic:
        assert 0.2 <= e.burst_s <= 1.0
        assert 6 <= e.tonic_db <= 14
        assert 0 <= e.decline_db <= 6
        burst = x[int((e.start + e.rise_s) * 1000) : int((e.start + e.burst_s) * 1000)]
        hold = x[int((e.start + e.burst_s + 0.3) * 1000) : int((e.start + e.burst_s + 1.3) * 1000)]
        under_db = 20 * np.log10(np.std(burst) / np.std(hold))
        assert e.tonic_db - 2.5 < under_db < e.tonic_db + 2.5
    assert all(e.burst_s == 0 for e in sim.truth if e.type == "clonic")


def test_ecg_only_on_trunk_locations() -> None:
    assert is_trunk("lower back")
    assert is_trunk("Neck")
    assert not is_trunk("left calf")
    assert SimConfig(fs_hz=1000.0, seconds=1.0, location="chest").with_ecg
    assert not SimConfig(fs_hz=1000.0, seconds=1.0, location="thigh").with_ecg


def test_accelerometer_is_three_axes_in_g_with_gravity() -> None:
    sim = SimulatedWearable(SimConfig(signal="acc", fs_hz=50.0, seconds=10.0, seed=1))
    assert sim.channels == ("acc_x", "acc_y", "acc_z")
    x = np.concatenate(list(sim.samples())).astype(float) * sim.scale
    assert np.median(np.linalg.norm(x, axis=1)) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    "kw",
    [
        {"fs_hz": 100.0},
        {"fs_hz": 5000.0},
        {"signal": "acc", "fs_hz": 1000.0},
        {"channels": 9},
        {"nope": 1},
    ],
)
def test_out_of_range_settings_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimConfig(**{"fs_hz": 1000.0, "seconds": 1.0, **kw})
