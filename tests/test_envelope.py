import numpy as np

from detect.envelope import FlagFramer, Framer, MovingQuantile


def test_framer_averages_whole_frames_and_keeps_the_rest() -> None:
    f = Framer(4, 1)
    x = np.arange(10, dtype=float)[:, None]
    lost = np.zeros(10, bool)
    lost[5] = True
    frames, frame_lost = f.process(x, lost)
    np.testing.assert_array_equal(frames[:, 0], [1.5, 5.5])
    np.testing.assert_array_equal(frame_lost, [False, True])
    frames, _ = f.process(np.array([[10.0], [11.0]]), np.zeros(2, bool))
    np.testing.assert_array_equal(frames[:, 0], [9.5])
    assert f.next_frame == 3


def test_moving_quantile_matches_a_direct_order_statistic() -> None:
    rng = np.random.default_rng(5)
    x = rng.random((200, 3))
    mq = MovingQuantile(30, [0.6, 0.6, 0.6])
    out = np.concatenate([mq.process(x[:70]), mq.process(x[70:71]), mq.process(x[71:])])
    padded = np.concatenate([np.zeros((29, 3)), x])
    for i in (0, 29, 50, 199):
        window = np.sort(padded[i : i + 30], axis=0)
        np.testing.assert_array_equal(out[i], window[17])


def test_moving_quantile_ignores_an_impulse_shorter_than_its_share() -> None:
    mq = MovingQuantile(30, [0.6])
    x = np.ones((100, 1))
    x[50:62] = 1000.0  # 12 of 30 frames: 40 %, the longest impulse it ignores
    out = mq.process(x)
    assert out[29:].max() == 1.0


def test_run_length_counts_equal_values_across_blocks_and_lost_samples_break_runs() -> None:
    from detect.envelope import RunLength

    rl = RunLength(1)
    x = np.array([1, 1, 2, 2, 2, 2, 3], dtype=np.float32)[:, None]
    lost = np.zeros(7, bool)
    a = rl.process(x[:4], lost[:4])
    b = rl.process(x[4:], lost[4:])
    np.testing.assert_array_equal(np.concatenate([a, b])[:, 0], [1, 2, 1, 2, 3, 4, 1])
    lost2 = np.array([False, True, False])
    np.testing.assert_array_equal(
        rl.process(np.full((3, 1), 3, np.float32), lost2)[:, 0], [2, 0, 1]
    )


def test_flag_framer_says_where_most_of_a_frame_is_flagged_whatever_the_chunking() -> None:
    rng = np.random.default_rng(4)
    hop = 20
    # Runs of flags (a flat signal comes in stretches), long stretches of none.
    flags = np.zeros((2000, 3), dtype=bool)
    for start in rng.integers(0, 1900, 12):
        flags[start : start + int(rng.integers(5, 90)), int(rng.integers(0, 3))] = True
    n_frames = len(flags) // hop
    expected = flags[: n_frames * hop].reshape(n_frames, hop, 3).sum(axis=1) > hop / 2
    for _ in range(20):
        cuts = sorted(int(c) for c in rng.integers(0, len(flags), int(rng.integers(0, 40))))
        framer = FlagFramer(hop, 3)
        got = np.concatenate(
            [
                framer.process(flags[a:b])
                for a, b in zip([0, *cuts], [*cuts, len(flags)], strict=True)
            ]
        )
        np.testing.assert_array_equal(got, expected)
    assert expected.any()
    assert not expected.all()
