import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from detect import DetectorConfig, Pipeline, detect, preset
from detect.errors import ConfigError
from detect.events import Episode
from detect.heart import heart_rates
from detect.pipeline import ecg_site
from replay.run import NoSignalWatch
from replay.score import score
from sensor.block import Block, concat
from sensor.frame import FrameAssembler, decode_frame
from sensor.simulate import SimConfig, SimulatedWearable


def simulated(seed: int, **kw: object) -> tuple[SimulatedWearable, Block]:
    sim = SimulatedWearable(SimConfig(**{"fs_hz": 1000.0, "seconds": 90.0, "seed": seed, **kw}))
    asm = FrameAssembler(sim.channels)
    return sim, concat([b for f in sim.frames() for b in asm.push(decode_frame(f))])


SIM, WHOLE = simulated(5101, location="lower back", channels=2, seconds=60.0)


def split(block: Block, cuts: list[int]) -> list[Block]:
    edges = [0, *sorted({min(c, block.n_samples) for c in cuts}), block.n_samples]
    return [block.slice(a, b) for a, b in itertools.pairwise(edges)]


def features_of(blocks: list[Block], location: str) -> list[np.ndarray]:
    pipe = Pipeline(DetectorConfig(), blocks[0].fs, blocks[0].channels, blocks[0].units, location)
    parts = [pipe.features(b) for b in blocks]
    names = ("frames", "power", "movement", "usable", "flat", "beat")
    # ``beat`` is None on a stream with no channel gated (a limb).
    kept = [name for name in names if getattr(parts[0], name) is not None]
    return [np.concatenate([getattr(p, name) for p in parts]) for name in kept]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, WHOLE.n_samples), max_size=40), st.integers(0, 5))
def test_any_chunking_gives_the_same_features_and_episodes_to_the_bit(
    cuts: list[int], tiny: int
) -> None:
    # Also 1-sample and empty blocks: repeat some cut points and add neighbours.
    cuts = cuts + [c + 1 for c in cuts[:tiny]] + cuts[:tiny]
    blocks = split(WHOLE, cuts)
    whole = detect(DetectorConfig(), WHOLE, "lower back")
    pipe = Pipeline(DetectorConfig(), WHOLE.fs, WHOLE.channels, WHOLE.units, "lower back")
    chunked = [e for b in blocks for e in pipe.process(b)] + pipe.flush()
    assert chunked == whole
    for a, b in zip(
        features_of([WHOLE], "lower back"), features_of(blocks, "lower back"), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("mains", "grid"), [(50, 50.0), (60, 60.0), (None, None)])
def test_the_mains_grid_is_found_from_the_signal(mains: int | None, grid: float | None) -> None:
    kw: dict[str, object] = {"mains_hz": mains} if mains else {"mains": False}
    _sim, block = simulated(5501, seconds=5.0, episodes_per_min=0.0, **kw)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "left calf")
    for b in split(block, list(range(333, block.n_samples, 333))):  # one block spans 2 s
        pipe.process(b)
    assert pipe.mains_hz == grid
    (f, _), *_ = pipe._filters
    # Band-pass (4 sections) and three notches of the grid found; six with no line to go by.
    assert len(f.sos) == (7 if grid else 10)


def test_a_configured_grid_is_the_one_notched() -> None:
    pipe = Pipeline(DetectorConfig(notch={"mains_hz": 60}), 1000.0, ("ch1",), ("uV",))
    assert pipe.mains_hz == 60.0
    assert len(pipe._filters[0][0].sos) == 7


def test_lost_samples_in_the_first_seconds_leave_both_grids_notched() -> None:
    _sim, block = simulated(5502, seconds=5.0, episodes_per_min=0.0, mains_hz=60)
    lost = block.lost.copy()
    lost[500:520] = True
    block = Block(block.samples, block.fs, 0, block.channels, block.units, lost)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "left calf")
    pipe.process(block)
    assert pipe.mains_hz is None


def test_live_25_ms_blocks_report_each_start_once_confirmed() -> None:
    blocks = split(WHOLE, list(range(25, WHOLE.n_samples, 25)))
    pipe = Pipeline(DetectorConfig(), WHOLE.fs, WHOLE.channels, WHOLE.units, "lower back")
    seen = []
    for b in blocks:
        for e in pipe.process(b):
            if e.state == "open":
                # Said within the block that confirmed it: no later than the block's end.
                assert e.decided_index <= b.stop_index
                assert e.decided_index - e.onset_index <= int(1.0 * WHOLE.fs)
                seen.append(e)
    assert len(seen) >= len(SIM.truth) > 0


def test_state_does_not_grow_with_the_stream() -> None:
    pipe = Pipeline(DetectorConfig(), WHOLE.fs, WHOLE.channels, WHOLE.units, "lower back")
    sizes = []
    for i, b in enumerate(split(WHOLE, list(range(1000, WHOLE.n_samples, 1000)))):
        pipe.process(b)
        if i in (10, 55):
            sizes.append(
                sum(
                    v.nbytes if isinstance(v, np.ndarray) else 0
                    for obj in [
                        pipe._framer,
                        pipe._envelope,
                        *[f for f, _ in pipe._filters],
                        pipe._qrs_filter,
                        pipe._qrs_median,
                    ]
                    for v in vars(obj).values()
                )
                + pipe._held_x.nbytes
                + pipe._held_flags.nbytes
            )
    assert sizes[0] == sizes[1]


@pytest.mark.parametrize(("location", "seed"), [("left calf", 5201), ("lower back", 5202)])
def test_finds_the_simulated_episodes_with_every_contamination(location: str, seed: int) -> None:
    sim, block = simulated(seed, location=location, seconds=240.0)
    episodes = [e.as_dict() for e in detect(DetectorConfig(), block, location) if e.state != "open"]
    s = score(episodes, [t.as_dict() for t in sim.truth])
    assert len(sim.truth) >= 4
    assert s.f1 >= 0.9, s


def test_accelerometer_chain_finds_clonus_and_ignores_posture_and_jerks() -> None:
    # Brief jerks (< 0.3 s) ring through the 3-12 Hz band-pass for about 0.5 s; the twitch
    # rule must still tell them from spasms.
    sim, block = simulated(5301, signal="acc", fs_hz=50.0, seconds=600.0)
    assert sim._twitches, "the simulation should jerk now and then"
    episodes = [
        e.as_dict()
        for e in detect(DetectorConfig(signal="acc"), block, "left ankle")
        if e.state != "open"
    ]
    s = score(episodes, [t.as_dict() for t in sim.truth])
    assert sim._postures, "the simulation should change posture"
    assert s.f1 >= 0.9, s
    assert {e["channel"] for e in episodes} == {"acc"}


@pytest.mark.parametrize("seed", range(1, 6))
def test_a_short_contraction_is_not_taken_for_a_jerk(seed: int) -> None:
    # 0.8 s of 6 Hz shaking that builds up over 0.4 s (a short tonic spasm), and a 0.15 s
    # jerk three times as strong: the jerk's energy is packed and over, the spasm's spread
    # from its rise on and still going when the twitch rule judges it.
    fs = 50.0
    t = np.arange(round(60 * fs)) / fs
    x = np.random.default_rng(seed).normal(0.0, 0.003, (t.size, 3))
    x[:, 2] += 1.0  # gravity
    shake = np.interp(t, [20, 20.4, 20.7, 20.8], [0, 1, 1, 0]) * np.sin(2 * np.pi * 6 * t)
    jerk = (np.abs(t - 40.075) <= 0.075) * np.sin(2 * np.pi * (t - 40) / 0.15)
    x[:, 0] += 0.05 * shake + 0.15 * jerk
    block = Block(x.astype(np.float32), fs, 0, ("acc_x", "acc_y", "acc_z"), ("g",) * 3)
    events = detect(DetectorConfig(signal="acc"), block, "left ankle")
    assert [round(e.start_s) for e in events if e.state != "open"] == [20]


def ankle(parts: list[tuple[float, str, float]], seed: int, fs: float = 50.0) -> Block:
    """A still ankle (gravity and sensor noise) that moves in the given ``(start_s, kind,
    seconds)`` stretches, one after the other: ``"x Hz"`` shakes at x Hz (clonus under 8 Hz,
    tremor over it), ``"broad"`` moves broadband over 3-12 Hz (no rhythm)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(60 * fs)) / fs
    x = rng.normal(0.0, 0.003, (t.size, 3))
    x[:, 2] += 1.0
    for start, kind, seconds in parts:
        on = (t >= start) & (t < start + seconds)
        if kind == "broad":
            move = band_3_12(np.convolve(rng.standard_normal(t.size), np.hanning(5), "same"), fs)
        else:
            move = np.sqrt(2) * np.sin(2 * np.pi * float(kind.split()[0]) * t)
        x[:, 0] += 0.05 * on * move
    return Block(x.astype(np.float32), fs, 0, ("acc_x", "acc_y", "acc_z"), ("g",) * 3)


def band_3_12(x: np.ndarray, fs: float) -> np.ndarray:
    """``x`` band-passed to 3-12 Hz (the accelerometer's movement band), unit RMS."""
    y = signal.sosfilt(signal.butter(4, [3.0, 12.0], "bandpass", fs=fs, output="sos"), x)
    return np.asarray(y / y.std())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("3.2 Hz", "clonic"), ("5.5 Hz", "clonic"), ("7.8 Hz", "clonic"), ("10 Hz", "tonic")],
)
def test_accelerometer_clonus_anywhere_in_3_8_hz_is_clonic_and_tremor_is_not(
    kind: str, expected: str
) -> None:
    # Clonus near either end of the band kept only half its power in a 3-8 Hz band-pass
    # and read tonic; the movement's spectrum peak tells it at any rate in the band.
    for seed in range(3):
        events = detect(DetectorConfig(signal="acc"), ankle([(20, kind, 6)], seed), "ankle")
        assert [(round(e.start_s), e.type) for e in events if e.state != "open"] == [(20, expected)]


def test_accelerometer_tremor_then_clonus_is_mixed_and_broad_movement_tonic() -> None:
    for seed in range(3):
        parts = [(15, "10 Hz", 3), (18, "7.5 Hz", 3), (40, "broad", 6)]
        events = detect(DetectorConfig(signal="acc"), ankle(parts, seed), "ankle")
        assert [(round(e.start_s), e.type) for e in events if e.state != "open"] == [
            (15, "mixed"),
            (40, "tonic"),
        ]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 3000), max_size=30), st.integers(0, 5))
def test_accelerometer_chunking_gives_the_same_episodes_and_types(
    cuts: list[int], tiny: int
) -> None:
    block = ankle([(10, "10 Hz", 3), (13, "6 Hz", 4), (30, "4 Hz", 5), (45, "broad", 4)], 1)
    cuts = cuts + [c + 1 for c in cuts[:tiny]] + cuts[:tiny]
    whole = detect(DetectorConfig(signal="acc"), block, "ankle")
    pipe = Pipeline(DetectorConfig(signal="acc"), block.fs, block.channels, block.units, "ankle")
    chunked = [e for b in split(block, cuts) for e in pipe.process(b)] + pipe.flush()
    assert chunked == whole
    assert len([e for e in whole if e.state != "open"]) == 3


def test_a_gap_interrupts_an_episode_and_nothing_is_detected_inside_it() -> None:
    truth = SIM.truth[0]
    ch = SIM.sensor_names.index(truth.channel)
    mid = int((truth.start + min(truth.duration, 4) * 0.7) * WHOLE.fs)
    lost = WHOLE.lost.copy()
    lost[mid : mid + 2000] = True
    samples = np.array(WHOLE.samples)
    samples[mid : mid + 2000] = 0
    gapped = Block(samples, WHOLE.fs, 0, WHOLE.channels, WHOLE.units, lost)
    events = [
        e
        for e in detect(DetectorConfig(), gapped, "lower back")
        if e.channel == SIM.sensor_names[ch]
    ]
    cut = [e for e in events if e.state == "interrupted"]
    assert cut
    assert cut[0].offset_index <= mid
    for e in events:
        assert not (mid < e.onset_index < mid + 2000)


# A wearable losing 2 % of its notifications (each at most 50 ms): short gaps all along.
LOSSY_SIM, LOSSY = simulated(5103, location="left calf", seconds=60.0, drop_fraction=0.02)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, LOSSY.n_samples), max_size=40))
def test_filled_gaps_do_not_depend_on_chunking(cuts: list[int]) -> None:
    assert LOSSY.lost.any()
    whole = detect(DetectorConfig(), LOSSY, "left calf")
    pipe = Pipeline(DetectorConfig(), LOSSY.fs, LOSSY.channels, LOSSY.units, "left calf")
    assert [e for b in split(LOSSY, cuts) for e in pipe.process(b)] + pipe.flush() == whole
    for a, b in zip(
        features_of([LOSSY], "left calf"), features_of(split(LOSSY, cuts), "left calf"), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_spasm_goes_on_across_lost_notifications() -> None:
    truth = [t.as_dict() for t in LOSSY_SIM.truth]

    def f1(config: DetectorConfig) -> float:
        found = [e.as_dict() for e in detect(config, LOSSY, "left calf") if e.state != "open"]
        return score(found, truth).f1

    assert len(truth) >= 2
    assert f1(DetectorConfig()) == 1.0
    # Restarting the filters at every lost notification cuts spasms into pieces.
    assert f1(DetectorConfig(quality={"fill_short_gaps": False})) < 0.9


def test_a_filled_gap_is_unusable_but_the_frames_after_it_are_not() -> None:
    lost = np.zeros(WHOLE.n_samples, dtype=bool)
    lost[20_000:20_040] = True  # 40 ms
    block = Block(WHOLE.samples, WHOLE.fs, 0, WHOLE.channels, WHOLE.units, lost)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "lower back")
    f = pipe.features(block)
    hop, lag = pipe.hop, pipe.lag_frames  # a trunk stream's frames come late (the QRS gate)
    gap = slice(20_000 // hop + lag, 20_040 // hop + lag)
    assert f.bridged[gap].all()
    assert not f.usable[gap].any()
    assert f.usable[20_040 // hop + lag + 1 : 20_040 // hop + lag + 50].all()  # no settling
    assert f.bridged.sum() == 20_040 // hop - 20_000 // hop


def test_the_pipeline_refuses_a_hole_in_the_sample_index() -> None:
    pipe = Pipeline(DetectorConfig(), WHOLE.fs, WHOLE.channels, WHOLE.units)
    a, _, c = split(WHOLE, [100, 200])
    pipe.process(a)
    with pytest.raises(ConfigError, match="expected 100"):
        pipe.process(c)


def test_no_sampling_rate_is_assumed() -> None:
    with pytest.raises(ConfigError, match="sampling rate"):
        Pipeline(DetectorConfig(), float("nan"), ["a"], ["uV"])


def test_aasm_preset_uses_absolute_uv_thresholds() -> None:
    cfg = preset("aasm")
    assert (cfg.threshold.on_above, cfg.threshold.off_above) == (8.0, 2.0)
    assert cfg.episode.min_duration_s == 0.5
    sim, block = simulated(5201, location="left calf", seconds=240.0)
    found = [e.as_dict() for e in detect(cfg, block, "left calf") if e.state != "open"]
    assert score(found, [t.as_dict() for t in sim.truth]).f1 >= 0.9
    with pytest.raises(ValueError, match="unknown detector preset"):
        preset("nope")


def test_import_detect_does_not_import_bleak() -> None:
    code = "import sys, detect, sensor; assert 'bleak' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_flat_channel_is_unusable_and_reported_detached() -> None:
    _sim, block = simulated(5401, seconds=60.0, episodes_per_min=0.0)
    samples = np.array(block.samples)
    samples[20_000:35_000, 0] = samples[20_000, 0]  # the electrode comes off for 15 s
    flat = Block(samples, block.fs, 0, block.channels, block.units)
    pipe = Pipeline(DetectorConfig(), flat.fs, flat.channels, flat.units, "left calf")
    events = []
    detached_at = None
    for b in split(flat, list(range(0, flat.n_samples, 100))):
        events += pipe.process(b)
        if detached_at is None and pipe.detached():
            detached_at = b.stop_index
    events += pipe.flush()
    assert detached_at is not None
    assert 21_000 <= detached_at <= 21_300  # flat for 1 s (plus the 0.1 s run rule)
    assert not pipe.detached()  # signal came back
    assert events == []  # no false spasm when the electrode reconnects


def live_equal_to_whole(block: Block, location: str = "left calf") -> list[Episode]:
    """The episodes of one whole-signal run, checked equal to those of 25-sample blocks."""
    whole = detect(DetectorConfig(), block, location)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, location)
    live = split(block, list(range(25, block.n_samples, 25)))
    assert [e for b in live for e in pipe.process(b)] + pipe.flush() == whole
    return whole


@pytest.mark.parametrize("db", [10.0, 25.0, -10.0])
def test_an_electrode_put_back_is_judged_against_its_new_rest(db: float) -> None:
    # Off for 10 s (flat), then back with a rest `db` away from the old one (another spot,
    # another contact); a spasm 1 s after it comes back, in the new warm-up, and one later.
    # Against the old rest, a higher new rest was one spasm lasting to the stream's end.
    block = shaped([(0, 0), (20, 0), (20, db), (90, db)])
    x = np.array(block.samples)
    x[20_000:30_000] = x[20_000]
    t = np.arange(block.n_samples) / block.fs
    x[(t >= 31) & (t < 33)] *= 10
    x[(t >= 60) & (t < 63)] *= 10
    whole = live_equal_to_whole(Block(x, block.fs, 0, block.channels, block.units))
    assert [(round(e.start_s), round(e.end_s)) for e in whole if e.state != "open"] == [
        (31, 33),
        (60, 63),
    ]


@pytest.mark.parametrize("db", [10.0, -10.0])
def test_a_sensor_moved_while_the_link_was_down_is_judged_against_its_new_rest(
    db: float,
) -> None:
    # The link is down for 15 s (lost samples: the sensor taken off, for a shower say, and
    # put back); its rest comes back `db` away. A spasm 1 s after the return and one later.
    block = shaped([(0, 0), (20, 0), (20, db), (90, db)])
    x = np.array(block.samples)
    t = np.arange(block.n_samples) / block.fs
    x[(t >= 36) & (t < 38)] *= 10
    x[(t >= 60) & (t < 63)] *= 10
    lost = (t >= 20) & (t < 35)
    x[lost] = 0
    whole = live_equal_to_whole(Block(x, block.fs, 0, block.channels, block.units, lost))
    assert [(round(e.start_s), round(e.end_s)) for e in whole if e.state != "open"] == [
        (36, 38),
        (60, 63),
    ]


def test_a_spasm_going_on_across_a_brief_drop_of_the_link_keeps_its_rest() -> None:
    # 50 s of contraction with the link down for 3 s in it: the rest is not learnt again
    # (it would take the contraction for rest), so the part after the gap is still found.
    block = with_spasms(shaped([(0, 0), (90, 0)]), [(20, 70)])
    x = np.array(block.samples)
    t = np.arange(block.n_samples) / block.fs
    lost = (t >= 30) & (t < 33)
    x[lost] = 0
    dropped = Block(x, block.fs, 0, block.channels, block.units, lost)
    events = [e for e in detect(DetectorConfig(), dropped, "left calf") if e.state != "open"]
    assert [(round(e.start_s), round(e.end_s), e.state) for e in events] == [
        (20, 30, "interrupted"),
        (34, 70, "ended"),  # after the filters settle (1 s)
    ]


def test_an_accelerometer_put_back_in_a_clonus_types_it_the_same_live_and_whole() -> None:
    # Flat (off) 20-30 s; back in a clonus that began 1.2 s later, in the new warm-up. The
    # start is run again with the movement kept since the warm-up began, in whatever block.
    block = ankle([(31.2, "6 Hz", 3), (45, "6 Hz", 4)], 1)
    x = np.array(block.samples)
    x[round(20 * block.fs) : round(30 * block.fs)] = x[round(20 * block.fs)]
    moved = Block(x, block.fs, 0, block.channels, block.units)
    config = DetectorConfig(signal="acc")
    whole = detect(config, moved, "ankle")
    assert [(round(e.start_s), e.type) for e in whole if e.state != "open"] == [
        (31, "clonic"),
        (45, "clonic"),
    ]
    for step in (1, 7, 500):
        pipe = Pipeline(config, moved.fs, moved.channels, moved.units, "ankle")
        live = split(moved, list(range(step, moved.n_samples, step)))
        assert [e for b in live for e in pipe.process(b)] + pipe.flush() == whole


# Two long spasms (5 s mixed, 9 s clonic) for brief stalls of the link.
STALLED_SIM, STALLED = simulated(5105, location="left calf", seconds=60.0)


def stalled(seconds: float) -> tuple[Block, list[tuple[int, int]]]:
    """STALLED with ``seconds`` of samples lost at a third and two thirds of each spasm."""
    fs = STALLED.fs
    lost = np.zeros(STALLED.n_samples, dtype=bool)
    gaps = []
    for t in STALLED_SIM.truth:
        for at in (t.start + (t.end - t.start) / 3, t.start + 2 * (t.end - t.start) / 3):
            a = round(at * fs)
            gaps.append((a, a + round(seconds * fs)))
            lost[a : a + round(seconds * fs)] = True
    samples = np.where(lost[:, None], 0.0, STALLED.samples).astype(np.float32)
    return Block(samples, fs, 0, STALLED.channels, STALLED.units, lost), gaps


def test_a_spasm_goes_on_across_a_stall_shorter_than_the_merge_gap() -> None:
    truth = [t.as_dict() for t in STALLED_SIM.truth]
    block, gaps = stalled(0.4)
    events = [e for e in detect(DetectorConfig(), block, "left calf") if e.state != "open"]
    assert score([e.as_dict() for e in events], truth).f1 == 1.0
    assert all(e.state == "ended" for e in events)
    # Half a second or more: the pause could be an end, so the spasm is cut where it began.
    block, gaps = stalled(0.5)
    events = [e for e in detect(DetectorConfig(), block, "left calf") if e.state != "open"]
    cut = [e.offset_index for e in events if e.state == "interrupted"]
    for a, _ in gaps[::2]:  # each spasm's first gap (the second may come while settling)
        assert any(a - 0.5 * block.fs <= c <= a for c in cut)


# Five spasms over two channels, for a delivery that stalls (a logger repeating its last row).
HELD_SIM, HELD = simulated(5108, location="left calf", channels=2, seconds=60.0)


def held(seconds: float, columns: slice = slice(None)) -> tuple[Block, list[int]]:
    """HELD with ``columns`` holding their values for ``seconds`` in the middle of each spasm."""
    x = np.array(HELD.samples)
    starts = []
    for t in HELD_SIM.truth:
        a = round((t.start + t.end) / 2 * HELD.fs)
        x[a : a + round(seconds * HELD.fs), columns] = x[a - 1, columns]
        starts.append(a)
    return Block(x, HELD.fs, 0, HELD.channels, HELD.units), starts


def test_every_sensor_holding_at_once_is_a_stall_bridged_like_a_short_gap() -> None:
    # Seen in a real armband's recordings: every channel holding its value for 0.1-0.17 s,
    # during contractions too. Read as a flat signal (electrodes off), each hold cut the
    # spasm it fell in, and a second of settling after it lost the rest of it.
    truth = [t.as_dict() for t in HELD_SIM.truth]
    block, starts = held(0.15)
    events = [e for e in detect(DetectorConfig(), block, "left calf") if e.state != "open"]
    assert score([e.as_dict() for e in events], truth).f1 == 1.0
    assert all(e.state == "ended" for e in events)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "left calf")
    f = pipe.features(block)
    hop = pipe.hop
    for a in starts:
        run = slice((a + pipe._flat_samples) // hop + 1, (a + round(0.15 * block.fs)) // hop)
        assert f.bridged[run].all()
        assert not f.usable[run].any()
        assert not f.flat[run].any()
    # One sensor alone holding is that sensor's signal gone: its spasm is cut there.
    block, starts = held(0.15, slice(0, 1))
    events = detect(DetectorConfig(), block, "left calf")
    cut = [e.offset_index for e in events if e.state == "interrupted" and e.channel == "ch1"]
    ch1 = [a for a, t in zip(starts, HELD_SIM.truth, strict=True) if t.channel == "ch1"]
    assert len(cut) == len(ch1)
    # A stall longer than a gap that is filled could hide an end: the spasm is cut there.
    block, starts = held(0.6)
    events = [e for e in detect(DetectorConfig(), block, "left calf") if e.state != "open"]
    cut = [e.offset_index for e in events if e.state == "interrupted"]
    assert len(cut) == len(starts)
    for a, c in zip(starts, cut, strict=True):
        assert a - 0.5 * block.fs <= c <= a + 0.6 * block.fs


@pytest.mark.parametrize("step", [1, 7, 25, 333])
def test_a_stall_is_bridged_the_same_for_any_chunking(step: int) -> None:
    block, _ = held(0.15)
    whole = detect(DetectorConfig(), block, "left calf")
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "left calf")
    blocks = split(block, list(range(step, block.n_samples, step)))
    assert [e for b in blocks for e in pipe.process(b)] + pipe.flush() == whole
    for a, b in zip(
        features_of([block], "left calf"), features_of(blocks, "left calf"), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def shaped(db_at: list[tuple[float, float]], seed: int = 7, fs: float = 1000.0) -> Block:
    """White noise whose level over rest follows ``db_at`` ((time s, dB) corners, linear)."""
    t = np.arange(round(db_at[-1][0] * fs)) / fs
    db = np.interp(t, *zip(*db_at, strict=True))
    x = np.random.default_rng(seed).standard_normal(t.size) * 5.0 * 10 ** (db / 20)
    return Block(x[:, None].astype(np.float32), fs, 0, ("ch1",), ("uV",))


def test_tone_left_after_a_contraction_does_not_join_it_to_the_next() -> None:
    # A contraction that builds up (1 s at 12 dB, 2 s at 20 dB over rest), then 4 s of tone
    # between the off and on thresholds (2.5 dB over rest), then a second contraction.
    corners = [(0, 0), (20, 0), (20, 12), (21, 12), (21, 20), (23, 20), (23, 2.5), (27, 2.5)]
    corners += [(27, 20), (30, 20), (30, 0), (40, 0)]
    events = [e for e in detect(DetectorConfig(), shaped(corners), "forearm") if e.state != "open"]
    assert [(round(e.start_s), round(e.end_s)) for e in events] == [(20, 23), (27, 30)]


def test_a_contraction_fading_out_ends_where_it_reaches_rest() -> None:
    # 2 s at 30 dB over rest, then down to rest over 0.8 s (falling 14 dB under its peak
    # 0.37 s into the fade, the release): the end is dated at rest, not at the release.
    corners = [(0, 0), (20, 0), (20, 30), (22, 30), (22.8, 0), (30, 0)]
    events = [
        e for e in detect(DetectorConfig(), shaped(corners), "left calf") if e.state != "open"
    ]
    assert len(events) == 1
    assert 22.6 <= events[0].end_s <= 22.9


@pytest.mark.parametrize(
    "corners",
    [
        # A flexor spasm: a phasic burst (0.2 or 0.5 s, 40 dB over rest), then a tonic phase
        # 8 or 16 dB over rest for 10 s. The release from the burst's peak ended it, and the
        # tonic phase began a second episode at once.
        [(0, 0), (20, 0), (20, 40), (20 + b, 40), (20 + b, tonic), (30, tonic), (30, 0), (40, 0)]
        for b in (0.2, 0.5)
        for tonic in (8, 16)
    ]
    + [
        # Fading as the muscle tires, 40 -> 8 dB over 30 s: cut in three by the release.
        [(0, 0), (20, 0), (20, 40), (50, 8), (50, 0), (60, 0)],
    ],
)
def test_a_spasm_that_weakens_but_holds_is_one_episode(corners: list[tuple[float, float]]) -> None:
    end = corners[-3][0]
    events = [e for e in live_equal_to_whole(shaped(corners)) if e.state != "open"]
    assert len(events) == 1
    assert round(events[0].start_s) == 20
    # Its end still follows the release, from the level it held: 14 dB under it (a fading
    # spasm's last 2 s, 10-8 dB over rest, may fall under it) or rest.
    assert end - 2.5 <= events[0].end_s <= end + 0.3


def test_a_contraction_fading_through_tone_then_another_are_two() -> None:
    # 3 s at 30 dB, then 1.2 s of tone at 10 dB (over the on threshold), 0.3 s at rest and a
    # second contraction at 24.8 s: the tone after a release is not taken for a contraction
    # going on (a Myo armband's gestures fade like this), and is not the second's start.
    corners = [(0, 0), (20, 0), (20, 30), (23, 30), (23.3, 10), (24.5, 10), (24.5, 0)]
    corners += [(24.8, 0), (24.8, 30), (28.5, 30), (28.5, 0), (40, 0)]
    events = [e for e in detect(DetectorConfig(), shaped(corners), "forearm") if e.state != "open"]
    assert [(round(e.start_s, 1), round(e.end_s)) for e in events] == [(20.0, 23), (24.8, 29)]


# A stream that begins in a contraction: 20 dB over rest until 4 s, then a second at 10-13 s.
IN_CONTRACTION = [(0, 20), (4, 20), (4, 0), (10, 0), (10, 20), (13, 20), (13, 0), (20, 0)]


@pytest.mark.parametrize(
    ("corners", "first"),
    [
        # Already going when the stream began: dated from the first usable frame (1 s).
        (IN_CONTRACTION, (1.0, 4.0)),
        # Beginning in the warm-up (1-3 s) and going on after it.
        (
            [(0, 0), (2.5, 0), (2.5, 20), (6, 20), (6, 0), (10, 0), *IN_CONTRACTION[4:]],
            (2.5, 6.0),
        ),
        # Weak: 8 dB over rest.
        ([(0, 8), (4, 8), (4, 0), (10, 0), (10, 20), (13, 20), (13, 0), (20, 0)], (1.0, 4.0)),
        # Easing off by 6 dB before it ends: still one contraction.
        (
            [(0, 20), (3, 20), (8, 14), (8, 0), (12, 0), (12, 20), (15, 20), (15, 0), (20, 0)],
            (1.0, 8.0),
        ),
    ],
)
def test_a_contraction_taken_for_rest_in_the_warm_up_is_found_once_rest_follows(
    corners: list[tuple[float, float]], first: tuple[float, float]
) -> None:
    # The warm-up learns the contraction as rest; once the envelope has stayed well under it
    # for the merge gap, the start is run again from the rest found then.
    second = corners[-5][0]
    for seed in (7, 8, 9):
        events = detect(DetectorConfig(), shaped(corners, seed), "left calf")
        done = [e for e in events if e.state != "open"]
        assert len(done) == 2
        assert done[0].start_s == pytest.approx(first[0], abs=0.15)
        assert done[0].end_s == pytest.approx(first[1], abs=0.15)
        assert (done[0].strength_db or 0.0) > 5
        assert done[1].start_s == pytest.approx(second, abs=0.15)
        # Reported once the rest after it was seen, within a second of its end.
        opened = next(e for e in events if e.state == "open")
        assert first[1] < opened.decided_index / opened.fs < first[1] + 1.0


@pytest.mark.parametrize(("end", "db"), [(2.0, 20), (2.6, 20), (2.6, 10), (2.2, 30)])
def test_a_contraction_the_stream_began_in_and_ending_in_the_warm_up_is_found(
    end: float, db: float
) -> None:
    """A monitor started in the last seconds of a spasm: the warm-up's resting level followed
    the signal down within it, no drop under it was left to see, and the spasm was lost."""
    corners = [(0, db), (end, db), (end, 0), (10, 0), (10, 20), (13, 20), (13, 0), (20, 0)]
    for seed in (7, 8, 9):
        block = shaped(corners, seed)
        events = detect(DetectorConfig(), block, "left calf")
        done = [e for e in events if e.state != "open"]
        assert len(done) == 2
        assert done[0].start_s == pytest.approx(1.0, abs=0.15)  # the first usable frame
        assert done[0].end_s == pytest.approx(end, abs=0.15)
        assert (done[1].start_s, done[1].end_s) == pytest.approx((10, 13), abs=0.15)
        opened = next(e for e in events if e.state == "open")
        assert opened.decided_index / opened.fs <= end + 1.0  # once rest followed it
        pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "left calf")
        chunked = [e for b in split(block, [1, 1500, 2999, 3001, 3002]) for e in pipe.process(b)]
        assert chunked + pipe.flush() == events


@pytest.mark.parametrize("corners", [[(0, 8), (5, 0), (40, 0)], [(0, 8), (30, 0), (40, 0)]])
def test_rest_growing_quieter_at_the_start_is_not_a_contraction(
    corners: list[tuple[float, float]],
) -> None:
    # Over 4 s and over 30 s (electrodes settling): the resting level follows it down.
    for seed in (7, 8, 9):
        assert detect(DetectorConfig(), shaped(corners, seed), "left calf") == []


def test_accelerometer_clonus_from_the_stream_start_is_found() -> None:
    for seed in range(3):
        block = ankle([(0, "6 Hz", 5), (20, "6 Hz", 4)], seed)
        events = detect(DetectorConfig(signal="acc"), block, "ankle")
        assert [
            (round(e.start_s), round(e.end_s), e.type) for e in events if e.state != "open"
        ] == [
            (1, 5, "clonic"),
            (20, 24, "clonic"),
        ]


def test_a_mains_line_switched_on_and_off_or_an_electrode_pop_is_not_a_spasm() -> None:
    # Resting noise (5 uV RMS) at 1 kHz with no line in the first seconds, so both grids'
    # notches stay. A 50 Hz line 1000 times the rest (with its third harmonic) switched on
    # and off every 15 s; electrode pops (steps of 6000 times the rest decaying over
    # 0.1-1 s) every 7.5 s, between the switches; one spasm at 100 s. The notches ring on
    # each switch and each step: Q-30 notches (0.19 s) rang into an episode every time.
    # (A pop within the merge gap of a switch still joins its ring into one: not here.)
    rest = shaped([(0, 0), (120, 0)], seed=3)
    t = np.arange(rest.n_samples) / rest.fs
    on = (t // 15) % 2 == 1
    x = np.array(rest.samples)[:, 0].astype(np.float64)
    x += 5000 * on * (np.sin(2 * np.pi * 50 * t) + 0.3 * np.sin(2 * np.pi * 150 * t))
    for i, at in enumerate(np.arange(3.75, 95, 7.5)):
        x[t >= at] += 30_000 * np.exp(-(t[t >= at] - at) / (0.1 + 0.9 * (i % 4) / 3))
    x[(t >= 100) & (t < 103)] += 10 * np.array(rest.samples)[(t >= 100) & (t < 103), 0]
    block = Block(x[:, None].astype(np.float32), rest.fs, 0, rest.channels, rest.units)
    events = [e for e in detect(DetectorConfig(), block, "left calf") if e.state != "open"]
    assert [(round(e.start_s), round(e.end_s)) for e in events] == [(100, 103)]


def with_spasms(block: Block, spans: list[tuple[float, float]]) -> Block:
    """``block`` with its amplitude x10 (20 dB) over each (start, end) span, s."""
    x = np.array(block.samples)
    t = np.arange(block.n_samples) / block.fs
    for a, b in spans:
        x[(t >= a) & (t < b)] *= 10
    return Block(x, block.fs, 0, block.channels, block.units)


def test_a_quiet_channel_on_a_coarse_device_is_rest_not_a_missing_signal() -> None:
    # A 10-bit ADC (offset 512) whose resting noise is 0.2 of a count: the value holds for
    # most of each second. Before the quantisation floor its runs of equal values read as a
    # missing signal, the rest was never learnt, and none of the three spasms was found.
    block = with_spasms(shaped([(0, 0), (120, 0)], seed=4), [(20, 23), (50, 52), (80, 86)])
    counts = np.round(np.array(block.samples) / 5.0 * 0.2 + 512).astype(np.float32)
    coarse = Block(counts, block.fs, 0, block.channels, ("counts",))
    assert np.mean(np.diff(counts[:15_000, 0]) == 0) > 0.95
    whole = detect(DetectorConfig(), coarse, "left calf")
    assert [(round(e.start_s), round(e.end_s)) for e in whole if e.state != "open"] == [
        (20, 23),
        (50, 52),
        (80, 86),
    ]
    pipe = Pipeline(DetectorConfig(), coarse.fs, coarse.channels, coarse.units, "left calf")
    events = []
    for b in split(coarse, list(range(25, coarse.n_samples, 25))):
        events += pipe.process(b)
        assert not pipe.detached()  # quiet, not an electrode off
    assert events + pipe.flush() == whole
    # Held at one value for 1 s, it is flat whatever its level: an electrode off (reported
    # once flat for another second).
    held = counts.copy()
    held[60_000:63_000] = 512
    off = Block(held, block.fs, 0, block.channels, ("counts",))
    pipe = Pipeline(DetectorConfig(), off.fs, off.channels, off.units, "left calf")
    seen = []
    for b in split(off, list(range(100, off.n_samples, 100))):
        pipe.process(b)
        seen.append(bool(pipe.detached()))
    assert any(seen[615:630])
    assert not any(seen[:600])


def test_quiet_channels_holding_together_at_their_floor_are_rest_not_a_stall() -> None:
    # Two channels of the coarse device above, both resting at 0.2 of a count, hold their
    # values together for most of each second: rest on both, not a delivery that stalled.
    spasms = [(20, 23), (50, 52), (80, 86)]
    one = with_spasms(shaped([(0, 0), (120, 0)], seed=4), spasms)
    two = shaped([(0, 0), (120, 0)], seed=5)
    x = np.hstack([np.array(one.samples), np.array(two.samples)])
    counts = np.round(x / 5.0 * 0.2 + 512).astype(np.float32)
    coarse = Block(counts, one.fs, 0, ("ch1", "ch2"), ("counts", "counts"))
    together = np.all(np.diff(counts[:15_000], axis=0) == 0, axis=1)
    assert together.mean() > 0.9  # runs of 0.1 s and more, on both at once
    pipe = Pipeline(DetectorConfig(), coarse.fs, coarse.channels, coarse.units, "left calf")
    f = pipe.features(coarse)
    rest = slice(5_000 // pipe.hop, 19_000 // pipe.hop)  # the floor known, before a spasm
    assert not f.bridged[rest].any()
    assert not f.flat[rest].any()
    assert f.usable[rest].all()
    events = [e for e in detect(DetectorConfig(), coarse, "left calf") if e.state != "open"]
    assert [(e.channel, round(e.start_s), round(e.end_s)) for e in events] == [
        ("ch1", a, b) for a, b in spasms
    ]


# At most a minute over rest here (the default is 10 min), for a short test.
MINUTE = DetectorConfig.model_validate({"episode": {"max_duration_s": 60}})


@pytest.mark.parametrize("db", [8.0, 20.0])
def test_a_rest_that_steps_up_is_learnt_after_the_longest_spasm(db: float) -> None:
    # The rest steps up `db` at 30 s and stays (an electrode lifting partly, a new contact);
    # spasms at 10, 60 (inside the step's first minute) and 150 s. Without the limit, the step
    # and every spasm after it were one episode (or a chain of them) to the stream's end.
    block = with_spasms(
        shaped([(0, 0), (30, 0), (30, db), (200, db)], fs=500.0), [(10, 13), (60, 63), (150, 153)]
    )
    whole = [e for e in detect(MINUTE, block, "left calf") if e.state != "open"]
    assert [(round(e.start_s), round(e.end_s), e.state) for e in whole] == [
        (10, 13, "ended"),
        (30, 90, "interrupted"),  # a minute after the level last was at rest
        (150, 153, "ended"),
    ]
    unlimited = DetectorConfig.model_validate({"episode": {"max_duration_s": None}})
    chain = [e for e in detect(unlimited, block, "left calf") if e.state != "open"]
    assert (150, 153) not in [(round(e.start_s), round(e.end_s)) for e in chain]
    assert (round(chain[-1].end_s), chain[-1].state) == (200, "interrupted")
    pipe = Pipeline(MINUTE, block.fs, block.channels, block.units, "left calf")
    live = [e for b in split(block, list(range(12, block.n_samples, 12))) for e in pipe.process(b)]
    assert [e for e in live + pipe.flush() if e.state != "open"] == whole


def test_a_spasm_longer_than_the_limit_is_split_not_lost() -> None:
    # 20 dB over rest for 75 s: cut at the limit (a minute), learnt as rest, then found again
    # by the start check once the rest returns 15 s later; the next spasm is found as usual.
    block = with_spasms(shaped([(0, 0), (130, 0)], fs=500.0), [(20, 95), (110, 113)])
    events = [e for e in detect(MINUTE, block, "left calf") if e.state != "open"]
    assert [(round(e.start_s), round(e.end_s), e.state) for e in events] == [
        (20, 80, "interrupted"),
        (80, 95, "ended"),
        (110, 113, "ended"),
    ]


@pytest.mark.parametrize("fs", [25.0, 50.0])
def test_an_accelerometer_counting_in_coarse_steps_finds_clonus(fs: float) -> None:
    # 10 bits over +-2 g: steps of 3.9 mg, the axes resting at 0.8 of a step. At 25 Hz the
    # 0.1 s flat run was 2 samples, all three axes kept their value for a step 7 % of the
    # time, and each such "flat" was followed by a second of settling: nothing was found.
    block = ankle([(15, "6 Hz", 4), (35, "6 Hz", 3)], 1, fs=fs)
    step = 0.0039
    coarse = Block(
        (np.round(np.array(block.samples, dtype=np.float64) / step) * step).astype(np.float32),
        fs,
        0,
        block.channels,
        block.units,
    )
    config = DetectorConfig(signal="acc")
    whole = detect(config, coarse, "ankle")
    done = [e for e in whole if e.state != "open"]
    assert [e.type for e in done] == ["clonic", "clonic"]
    for e, (start, end) in zip(done, [(15, 19), (35, 38)], strict=True):
        assert e.start_s == pytest.approx(start, abs=0.5)
        assert e.end_s == pytest.approx(end, abs=0.6)
    pipe = Pipeline(config, coarse.fs, coarse.channels, coarse.units, "ankle")
    live = [e for b in split(coarse, list(range(1, coarse.n_samples, 1))) for e in pipe.process(b)]
    assert live + pipe.flush() == whole


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 20_000), max_size=30), st.integers(0, 5), st.booleans())
def test_the_start_run_again_gives_the_same_episodes_for_any_chunking(
    cuts: list[int], tiny: int, acc: bool
) -> None:
    if acc:
        block = ankle([(0, "6 Hz", 5), (20, "broad", 4)], 3)
        config, location = DetectorConfig(signal="acc"), "ankle"
    else:
        block, config, location = shaped(IN_CONTRACTION, 7), DetectorConfig(), "left calf"
    cuts = [round(c * block.n_samples / 20_000) for c in cuts]
    cuts = cuts + [c + 1 for c in cuts[:tiny]] + cuts[:tiny]
    whole = detect(config, block, location)
    pipe = Pipeline(config, block.fs, block.channels, block.units, location)
    chunked = [e for b in split(block, cuts) for e in pipe.process(b)] + pipe.flush()
    assert chunked == whole
    assert len([e for e in whole if e.state != "open"]) == 2


def _no_signal_stretches(blocks: list[Block]) -> list[tuple[str, str | None, int, int]]:
    first = blocks[0]
    watch = NoSignalWatch(Pipeline(DetectorConfig(), first.fs, first.channels, first.units))
    found = [s for b in blocks for s in watch.process(b)] + watch.flush()
    return [(s.reason, s.channel, s.start_index, s.stop_index) for s in found]


def _gappy() -> Block:
    """20 s at 1 kHz, 2 channels: one held at a value for 3 s and for the last 1.5 s, the
    other for 0.8 s (under the 1 s a detached electrode needs); 0.2 s lost on both."""
    rng = np.random.default_rng(41)
    x = (rng.standard_normal((20_000, 2)) * 5).astype(np.float32)
    x[4000:7000, 0] = 17.0
    x[18_500:, 0] = -3.0
    x[9000:9800, 1] = 2.0
    lost = np.zeros(20_000, dtype=bool)
    lost[12_000:12_200] = True
    x[lost] = 0.0
    return Block(x, 1000.0, 0, ("a", "b"), ("uV", "uV"), lost)


GAPPY = _gappy()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, GAPPY.n_samples), max_size=40))
def test_stretches_without_signal_do_not_depend_on_chunking(cuts: list[int]) -> None:
    assert _no_signal_stretches(split(GAPPY, cuts)) == [
        ("detached", "a", 4000, 7000),
        ("packets", None, 12_000, 12_200),
        ("detached", "a", 18_500, 20_000),  # still flat at the end: reported at the flush
    ]


def _rest_power_db(seed: int, fs: float, ecg: bool, gate: bool) -> float:
    """Mean frame power (dB) of 25 s of lower-back rest, after the first 5 s."""
    _, block = simulated(
        seed, location="lower back", fs_hz=fs, seconds=30.0, episodes_per_min=0, ecg=ecg
    )
    config = DetectorConfig.model_validate({"ecg": {"gate": gate}})
    pipe = Pipeline(config, fs, block.channels, block.units, "lower back")
    frames = pipe.features(block).frames[pipe.lag_frames + round(5.0 * fs / pipe.hop) :, 0]
    return float(10 * np.log10(frames.mean()))


@pytest.mark.parametrize(("fs", "seed"), [(200.0, 5301), (1000.0, 5302), (2000.0, 5303)])
def test_the_qrs_gate_takes_the_ecg_out_of_the_trunk_frames(fs: float, seed: int) -> None:
    # The residue the 30 Hz high-pass leaves of each beat raised the resting frame power by
    # 2.5-4 dB; gated, it is within a fraction of a dB of the same rest without ECG.
    clean = _rest_power_db(seed, fs, ecg=False, gate=False)
    assert _rest_power_db(seed, fs, ecg=True, gate=False) - clean > 2.0
    assert abs(_rest_power_db(seed, fs, ecg=True, gate=True) - clean) < 0.5
    # Without ECG there is nothing to gate.
    assert abs(_rest_power_db(seed, fs, ecg=False, gate=True) - clean) < 0.2


def test_the_qrs_gate_leaves_semg_bursts_alone() -> None:
    # Spasms (clonic bursts included) on the trunk without ECG: their frames go through.
    sim, block = simulated(5304, location="lower back", seconds=120.0, ecg=False)
    assert {t.type for t in sim.truth} >= {"clonic", "tonic"}
    gated = Pipeline(DetectorConfig(), block.fs, block.channels, block.units, "lower back")
    plain = Pipeline(
        DetectorConfig.model_validate({"ecg": {"gate": False}}),
        block.fs,
        block.channels,
        block.units,
        "lower back",
    )
    a = gated.features(block).frames[gated.lag_frames :]
    b = plain.features(block).frames[: len(a)]
    assert np.mean(a != b) < 0.01
    # The frames come lag_frames late, and the onsets are back-dated for it: the same samples.
    assert gated.lag_frames > 0
    onsets = [
        [e.onset_index for e in detect(config, block, "lower back") if e.state != "open"]
        for config in (gated.config, plain.config)
    ]
    assert len(onsets[0]) >= 5
    assert onsets[0] == onsets[1]


def test_weak_clonus_on_the_back_is_found_through_the_ecg() -> None:
    # Two clonic spasms at 6 dB (12 s and 9 s) on a lower back with ECG: its beats' residue
    # hid their rhythm (both unseen without the gate).
    sim, block = simulated(99002, location="lower back", snr_db=6.0, seconds=40.0)
    assert [t.type for t in sim.truth] == ["clonic", "clonic"]

    def found(gate: bool) -> int:
        config = DetectorConfig.model_validate({"ecg": {"gate": gate}})
        episodes = [e for e in detect(config, block, "lower back") if e.state != "open"]
        return sum(
            any(e.start_s < t.end and e.end_s > t.start for e in episodes) for t in sim.truth
        )

    assert found(gate=True) == 2
    assert found(gate=False) == 0


def test_a_twitch_at_a_low_rate_is_not_carried_to_a_spasm_by_resting_noise() -> None:
    # 10 min of calf at 250 Hz with a twitch every 30 s and two spasms: with the usual off
    # margin (2.5 spreads) before confirmation, three twitches became "spasms" of 0.6-1 s
    # (one since a candidate that let go needs a new rise over the on threshold to go on).
    sim, block = simulated(
        99109, location="left calf", fs_hz=250.0, snr_db=12.0, seconds=600.0, episodes_per_min=0.2
    )
    truth = [t.as_dict() for t in sim.truth]
    assert len(truth) == 2

    def found(config: DetectorConfig) -> list[dict[str, object]]:
        return [e.as_dict() for e in detect(config, block, "left calf") if e.state != "open"]

    s = score(found(DetectorConfig()), truth)
    assert (s.precision, s.recall) == (1.0, 1.0), s
    loose = DetectorConfig.model_validate({"threshold": {"candidate_spread": 2.5}})
    assert len(found(loose)) > len(truth)


def test_a_strong_twitch_is_not_carried_to_a_spasm_by_the_notchs_ring() -> None:
    """At 50 dB over rest the mains notch (Q 10, 64 ms) rings a twitch's 50 Hz part on for
    0.3 s over the off threshold: twitches of 0.23 s became "spasms" of 0.5 s (two here).
    A contraction is confirmed by its envelope only once its own activity, not the ring
    after it, has lasted a twitch's length."""
    sim, block = simulated(7106, location="right forearm", fs_hz=500.0, snr_db=50.0, seconds=180.0)
    truth = [t.as_dict() for t in sim.truth]
    found = [e.as_dict() for e in detect(DetectorConfig(), block, "right forearm")]
    s = score([e for e in found if e["state"] != "open"], truth)
    assert (s.precision, s.recall) == (1.0, 1.0), s


def test_a_heartbeat_after_a_twitch_is_not_taken_for_the_twitchs_own_activity() -> None:
    """On the trunk the QRS gate caps a heartbeat's frames at the envelope, which a strong
    twitch just before leaves high, so the beat's frames passed the cap: 0.4 s after the
    twitch they counted as its own activity, and the ring rule let the twitch (0.14 s at
    50 dB, neck, 250 Hz) be confirmed as a spasm of 0.55 s. The gated frames are the heart's."""
    sim, block = simulated(7107, location="neck", fs_hz=250.0, snr_db=50.0, seconds=180.0)
    twitch = next(tw for tw in sim._twitches if 79 < tw.start < 80)
    found = [e.as_dict() for e in detect(DetectorConfig(), block, "neck") if e.state != "open"]
    end = twitch.start + twitch.duration
    assert not [e for e in found if e["start"] < end + 0.5 and e["end"] > twitch.start], found
    s = score(found, [t.as_dict() for t in sim.truth])
    assert s.recall == 1.0, s


def test_a_weak_spasm_whose_frames_pause_is_confirmed_where_no_ring_could_carry_it() -> None:
    """The ring rule waits for a contraction's own activity only where its top stands high
    enough over the threshold for the notch's ring to carry a twitch to a spasm. At 6 dB a
    spasm's frames over the threshold pause (the study set's forearm at 200 Hz: the 0.9 s
    spasm at 122 s); waiting there lost it."""
    sim, block = simulated(
        77_010, location="forearm", fs_hz=200.0, snr_db=6.0, channels=2, seconds=300.0
    )
    spasm = next(t for t in sim.truth if 121 < t.start < 123)
    found = [e.as_dict() for e in detect(DetectorConfig(), block, "forearm") if e.state != "open"]
    assert any(e["start"] < spasm.end and e["end"] > spasm.start for e in found), found


def test_heart_rates_upside_down_are_refused() -> None:
    with pytest.raises(ValueError, match=r"rate_per_min \(180, 40\) must be the slowest"):
        DetectorConfig.model_validate({"ecg": {"rate_per_min": [180, 40]}})


def test_a_qrs_band_upside_down_is_refused_naming_both_edges() -> None:
    with pytest.raises(ValueError, match=r"qrs_low_hz \(30\) must be below qrs_high_hz \(20\)"):
        DetectorConfig.model_validate({"ecg": {"qrs_low_hz": 30, "qrs_high_hz": 20}})


@pytest.mark.parametrize(
    "where",
    ["left erector spinae", "lumbar paraspinals", "upper trapezius", "Rectus Abdominis"],
)
def test_a_trunk_site_named_by_its_muscle_gets_the_ecg_suppression(where: str) -> None:
    """Heartbeats ride on trunk sEMG. A back recording named by its muscle, not by "back",
    got none of the ECG suppression, and the heartbeats were spasms."""
    sim, block = simulated(5401, location="lower back", seconds=120.0)
    truth = [t.as_dict() for t in sim.truth]

    def found(location: str) -> list[dict[str, object]]:
        return [e.as_dict() for e in detect(DetectorConfig(), block, location) if e.state != "open"]

    as_back = found("lower back")
    assert score(as_back, truth).f1 == 1.0
    assert score(found("left calf"), truth).false_positives >= 1  # heartbeats as spasms
    named = found(where)
    assert [(e["start"], e["end"]) for e in named] == [(e["start"], e["end"]) for e in as_back]


@pytest.mark.parametrize(
    ("where", "ecg"),
    [("back of the left thigh", False), ("Back of hand", False), ("back of the neck", True),
     ("upper back", True), ("lower back", True), ("left calf", False), ("unspecified", None)],
)  # fmt: skip
def test_the_back_of_a_limb_is_the_limb(where: str, ecg: bool | None) -> None:
    """ "Back" names a trunk site, but not in "back of the thigh": a hamstring recording would
    get the ECG suppression (a limb with it: the full suite's shin lost 0.09 of F1)."""
    assert ecg_site(where, DetectorConfig()) is ecg


def _episodes(config: DetectorConfig, block: Block, location: str) -> list[tuple[int, int | None]]:
    return [
        (e.onset_index, e.offset_index)
        for e in detect(config, block, location)
        if e.state != "open"
    ]


def test_a_heart_in_an_unnamed_channel_turns_its_ecg_suppression_on() -> None:
    """A trunk recording replayed with no location read every heartbeat as a spasm. The
    channel's first seconds now show the heart, and it gets what "lower back" gets."""
    sim, block = simulated(5401, location="lower back", seconds=120.0)
    truth = [t.as_dict() for t in sim.truth]
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units)
    unnamed = [e for e in pipe.process(block) + pipe.flush() if e.state != "open"]
    assert set(pipe.heart_rates) == {"ch1"}
    assert 40 <= pipe.heart_rates["ch1"] <= 180
    as_back = _episodes(DetectorConfig(), block, "lower back")
    assert score([e.as_dict() for e in unnamed], truth).f1 == 1.0
    assert [(e.onset_index, e.offset_index) for e in unnamed] == as_back
    unlooked = DetectorConfig(ecg={"look_s": 0})
    found = [e.as_dict() for e in detect(unlooked, block) if e.state != "open"]
    assert score(found, truth).false_positives >= 1  # heartbeats as spasms, as before


def test_an_unnamed_limb_channel_is_left_as_a_limb() -> None:
    _sim, block = simulated(5403, location="left calf", seconds=60.0, channels=2)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units)
    unnamed = [
        (e.onset_index, e.offset_index)
        for e in pipe.process(block) + pipe.flush()
        if e.state != "open"
    ]
    assert pipe.heart_rates == {}
    assert unnamed == _episodes(DetectorConfig(), block, "left calf")
    assert unnamed


def test_the_look_is_made_channel_by_channel_and_a_named_site_is_not_looked_at() -> None:
    _s, back = simulated(5404, location="lower back", seconds=30.0)
    _s, calf = simulated(5405, location="left calf", seconds=30.0)
    both = Block(
        np.hstack([back.samples, calf.samples]), back.fs, 0, ("back", "calf"), ("uV", "uV")
    )
    pipe = Pipeline(DetectorConfig(), both.fs, both.channels, both.units)
    pipe.process(both)
    pipe.flush()
    assert set(pipe.heart_rates) == {"back"}
    named = Pipeline(DetectorConfig(), both.fs, both.channels, both.units, {"back": "left calf"})
    named.process(both)
    named.flush()
    assert named.heart_rates == {}  # "left calf" says limb; "calf" unnamed shows no heart


def test_a_stream_shorter_than_the_look_is_looked_at_when_it_ends() -> None:
    _sim, block = simulated(5402, location="lower back", seconds=6.0, episodes_per_min=0.0)
    pipe = Pipeline(DetectorConfig(), block.fs, block.channels, block.units)
    assert pipe.process(block) == []
    pipe.flush()
    assert set(pipe.heart_rates) == {"ch1"}
    pipe.reset()  # the next stream is looked at afresh
    assert pipe.heart_rates == {}
    assert pipe.process(block.slice(0, 1000)) == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, WHOLE.n_samples), max_size=30), st.integers(-3, 3))
def test_the_look_does_not_depend_on_chunking(cuts: list[int], near: int) -> None:
    """The look ends at a fixed sample however the stream is cut (also 1-sample blocks)."""
    end = round(DetectorConfig().ecg.look_s * WHOLE.fs)
    blocks = split(WHOLE, [*cuts, end + near, end + near + 1])
    whole = detect(DetectorConfig(), WHOLE)
    pipe = Pipeline(DetectorConfig(), WHOLE.fs, WHOLE.channels, WHOLE.units)
    assert [e for b in blocks for e in pipe.process(b)] + pipe.flush() == whole
    assert set(pipe.heart_rates) == {"ch1", "ch2"}
    as_back = detect(DetectorConfig(), WHOLE, "lower back")
    assert [e.as_dict() | {"location": ""} for e in whole] == [
        e.as_dict() | {"location": ""} for e in as_back
    ]


def test_real_recordings_heart_or_none() -> None:
    """The emgGO tibialis anterior recording shows an ECG plainly (R waves about 0.8 s
    apart); the Myo armband's forearm channels show none."""
    from replay.run import open_recording

    def rates(name: str) -> list[float | None]:
        rec = open_recording(f"recordings/{name}.csv", "emg")
        x = concat(list(rec.blocks()))
        n = round(10.0 * x.fs)
        hop = round(0.01 * x.fs)
        return heart_rates(x.samples[:n], x.lost[:n], x.fs, max(1, hop), DetectorConfig())

    (ta,) = rates("emggo_ta_250hz")
    assert ta is not None
    assert 65 <= ta <= 85
    myo = rates("myo_forearm_s01_series1")
    assert len(myo) == 8
    assert myo == [None] * 8
