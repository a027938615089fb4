"""BLE profile decoders: literal bytes, exact round trips, bad bytes, and losses as gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sensor import myo, polar
from sensor.block import Block, concat
from sensor.errors import DecodeError
from sensor.frame import encode_frame
from sensor.stream import OpenFrameDecoder


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- Polar PMD -----------------------------------------------------------------------------------

TS = "e8 03 00 00 00 00 00 00"  # 1000 ns since 2000-01-01


def test_polar_start_stop_and_response_bytes() -> None:
    assert polar.start_command() == h("02 02 00 01 c8 00 01 01 10 00 02 01 08 00")
    assert polar.stop_command() == h("03 02")
    op, status, settings_ = polar.parse_response(h("f0 02 02 00 00 05 01 00 00 80 3f"))
    assert (op, status, settings_) == (2, 0, {polar.SET_FACTOR: 1.0})
    assert polar.parse_response(h("f0 02 02 06 00")) == (2, 6, {})  # an error status
    with pytest.raises(DecodeError, match="byte 5"):
        polar.parse_response(h("f0 02 02 00 00 09 01"))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (f"02 {TS} 00 01 fe 7f", [[1, -2, 127]]),
        (f"02 {TS} 01 01 00 fe ff e8 03", [[1, -2, 1000]]),
        (f"02 {TS} 02 01 00 00 fe ff ff 00 00 80", [[1, -2, -8388608]]),
        (f"02 {TS} 80 01 00 fe ff e8 03 03 01 6a 00", [[1, -2, 1000], [3, -5, 1001]]),
    ],
)
def test_polar_frames_from_literal_bytes(payload: str, expected: list[list[int]]) -> None:
    ts, counts = polar.decode_frame(h(payload))
    assert ts == 1000
    assert counts.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    ts=st.integers(0, 2**64 - 1),
    counts=arrays(
        np.int64, st.tuples(st.integers(1, 40), st.just(3)), elements=st.integers(-32768, 32767)
    ),
    delta=st.booleans(),
)
def test_polar_frames_round_trip_exactly(ts: int, counts: np.ndarray, delta: bool) -> None:
    payload = polar.encode_delta(ts, counts) if delta else polar.encode_raw(ts, counts)
    got_ts, got = polar.decode_frame(payload)
    assert got_ts == ts
    assert np.array_equal(got, counts)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_polar_random_bytes_give_a_decode_error_or_a_frame(payload: bytes) -> None:
    try:
        _, counts = polar.decode_frame(payload)
    except DecodeError as exc:
        error = exc
    else:
        assert counts.shape[1] == 3
        return
    assert error.payload == payload


def test_polar_truncated_and_oversized_frames_are_named() -> None:
    good = h(f"02 {TS} 80 01 00 fe ff e8 03 03 01 6a 00")
    with pytest.raises(DecodeError, match="byte 16"):
        polar.decode_frame(good[:-1])
    with pytest.raises(DecodeError, match="not whole 6-byte samples"):
        polar.decode_frame(h(f"02 {TS} 01 01 00 fe ff e8 03 00"))
    with pytest.raises(DecodeError, match="not ACC"):
        polar.decode_frame(h(f"01 {TS} 01 01 00 fe ff e8 03"))


def test_polar_timestamp_jump_is_a_counted_gap() -> None:
    dec = polar.PolarAccDecoder(fs=200.0)
    period = 5_000_000
    c = np.zeros((10, 3), dtype=np.int64)
    first = dec.push(polar.encode_raw(10 * period, c + 1000), 0)
    assert first[0].n_samples == 10
    # The next frame would end at 20 periods; it ends at 40: 20 samples were lost.
    blocks = dec.push(polar.encode_raw(40 * period, c), 1)
    gap = [b for b in blocks if b.lost.all()]
    assert sum(b.n_samples for b in gap) == 20
    assert dec.lost_samples == 20
    assert blocks[-1].start_index == 30
    assert blocks[0].samples.dtype == np.float32
    assert first[0].samples[0, 0] == pytest.approx(1.0)  # 1000 mG is 1 g


def test_polar_factor_from_the_start_response_scales_the_values() -> None:
    dec = polar.PolarAccDecoder(fs=200.0, factor=0.5)
    (block,) = dec.push(polar.encode_raw(0, np.array([[1000, -2000, 4000]])), 0)
    assert block.samples[0].tolist() == [0.5, -1.0, 2.0]


# -- Myo -----------------------------------------------------------------------------------------

MYO_BYTES = "01 ff 02 fe 03 fd 04 fc 7f 80 00 00 05 fb 06 fa"


def test_myo_notification_from_literal_bytes() -> None:
    counts = myo.decode(h(MYO_BYTES))
    assert counts.tolist() == [[1, -1, 2, -2, 3, -3, 4, -4], [127, -128, 0, 0, 5, -5, 6, -6]]
    assert h("01 03 03 00 00") == myo.START_RAW_EMG
    assert h("09 01 01") == myo.NEVER_SLEEP
    assert myo.EMG_CHARS[2] == "d5060305-a904-deb9-4748-2c7f4a124842"


@given(arrays(np.int8, (2, 8)))
def test_myo_round_trips_exactly(counts: np.ndarray) -> None:
    assert np.array_equal(myo.decode(myo.encode(counts)), counts)


@given(st.binary(max_size=64).filter(lambda b: len(b) != 16))
def test_myo_wrong_sizes_give_the_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError, match="16 bytes"):
        myo.decode(payload)


def test_myo_skipped_characteristic_is_a_gap() -> None:
    dec = myo.MyoEmgDecoder()
    z = np.zeros((2, 8), dtype=np.int8)
    t = 0
    for k in (0, 1, 2, 3, 0):
        dec.push(myo.encode(z), t, myo.EMG_CHARS[k])
        t += 10_000_000
    # Characteristic 1 never comes: the next is 2, one notification (2 samples) lost.
    blocks = dec.push(myo.encode(z), t + 10_000_000, myo.EMG_CHARS[2])
    assert [b.lost.all() for b in blocks] == [True, False]
    assert blocks[0].n_samples == 2
    assert dec.lost_frames == 1
    # A long silence (1 s = 100 notifications) is sized by time, order keeping the remainder:
    # once the notifications after it keep coming as late, for HOLD_S.
    t += 10_000_000 + 1_000_000_000
    k = (3 + 99) % 4
    assert dec.push(myo.encode(z), t, myo.EMG_CHARS[k]) == []
    blocks = []
    while not blocks:
        t, k = t + 10_000_000, (k + 1) % 4
        blocks = dec.push(myo.encode(z), t, myo.EMG_CHARS[k])
    assert t - 1_010_000_000 >= myo.HOLD_S * 1e9
    assert blocks[0].lost.all()
    assert blocks[0].n_samples == 2 * 99
    assert not any(b.lost.any() for b in blocks[1:])
    with pytest.raises(DecodeError, match="not an EMG characteristic"):
        dec.push(myo.encode(z), t, "0000180f-0000-1000-8000-00805f9b34fb")


def myo_stream(arrivals: list[int], chars: list[int]) -> tuple[myo.MyoEmgDecoder, list[Block]]:
    """Notifications of counts 0, 1, 2... (each its place in the armband's stream, in both
    samples and every channel) arriving at ``arrivals`` (ns) on the characteristics ``chars``."""
    dec = myo.MyoEmgDecoder()
    blocks = []
    for a, c in zip(arrivals, chars, strict=True):
        blocks += dec.push(
            myo.encode(np.full((2, 8), c % 128, dtype=np.int8)), a, myo.EMG_CHARS[c % 4]
        )
    return dec, blocks + dec.flush()


def test_a_host_busy_for_a_moment_is_not_a_loss() -> None:
    # The host stalls for 100 ms and takes the ten queued notifications all at once: sized by
    # the silence, 16 samples that were never lost went into the stream, and every sample
    # after it came 80 ms late.
    arrivals = [i * 10_000_000 for i in range(300)]
    for i in range(100, 110):
        arrivals[i] = 1_100_000_000 + (i - 100) * 100_000
    dec, blocks = myo_stream(arrivals, list(range(300)))
    b = concat(blocks)
    assert b.n_samples == 600
    assert not b.lost.any()
    assert dec.lost_samples == 0
    np.testing.assert_array_equal(b.samples[::2, 0], np.arange(300) % 128)


def test_a_loss_longer_than_the_order_shows_is_sized_by_the_arrivals_after_it() -> None:
    # Nine notifications lost (8 + 1: the order sees 1) at 100, then the stream goes on as
    # before; and eight near the end, sized when the stream ends.
    keep = [i for i in range(400) if not (100 <= i < 109 or 390 <= i < 398)]
    dec, blocks = myo_stream([i * 10_000_000 for i in keep], keep)
    b = concat(blocks)
    assert b.n_samples == 800
    assert np.flatnonzero(b.lost[::2]).tolist() == [*range(100, 109), *range(390, 398)]
    np.testing.assert_array_equal(b.samples[~b.lost][::2, 0], np.array(keep) % 128)
    assert dec.lost_frames == 17


def test_a_link_lost_while_holding_places_the_held_notifications_first() -> None:
    dec = myo.MyoEmgDecoder()
    z = np.zeros((2, 8), dtype=np.int8)
    for i in range(50):
        dec.push(myo.encode(z), i * 10_000_000, myo.EMG_CHARS[i % 4])
    assert dec.push(myo.encode(z), 600_000_000, myo.EMG_CHARS[50 % 4]) == []  # held
    blocks = dec.link_lost(700_000_000)
    data = [b for b in blocks if not b.lost.any()]
    assert len(data) == 1
    assert blocks[-1].lost.all()
    assert blocks[-1].start_index == data[0].stop_index  # the link's gap after it


# -- open frame and the link ---------------------------------------------------------------------


def frame(seq: int, t_us: int, n: int = 10) -> bytes:
    return encode_frame(seq, t_us, 1000.0, 0.5, "uV", np.full((n, 1), seq, dtype=np.int16), 90)


def test_open_frame_link_loss_closes_now_and_sizes_the_rest_by_device_time() -> None:
    dec = OpenFrameDecoder()
    for s in range(3):
        dec.push(frame(s, s * 10_000), s * 10_000_000)
    assert dec.index == 30
    now = dec.link_lost(40_000_000)
    assert sum(b.n_samples for b in now) == 600  # 0.6 s at 1 kHz, at once
    assert all(b.lost.all() for b in now)
    assert dec.link_lost(41_000_000) == []  # said once
    # Back after 5 s of device time: frame 503 at 5.03 s. 5000 samples lost in all.
    blocks = dec.push(frame(503, 5_030_000), 5_100_000_000)
    assert sum(b.n_samples for b in blocks if b.lost.all()) == 5000 - 600
    assert blocks[-1].start_index == 5030
    assert dec.lost_samples == 5000
    assert dec.battery == 90
    assert not dec.reconnecting


def test_open_frame_decoder_names_channels_by_unit() -> None:
    dec = OpenFrameDecoder()
    acc = encode_frame(0, 0, 50.0, 1 / 2048, "g", np.zeros((5, 3), dtype=np.int16))
    dec.push(acc, 0)
    assert dec.channels == ("acc_x", "acc_y", "acc_z")
    with pytest.raises(DecodeError, match="byte 14"):
        dec.push(encode_frame(1, 0, 50.0, 1 / 2048, "g", np.zeros((5, 6), dtype=np.int16)), 1)


def test_clock_map_finds_the_fastest_arrival_and_the_drift() -> None:
    from sensor.stream import ClockMap

    clock = ClockMap()
    rng = np.random.default_rng(3)
    drift = 40e-6  # the device clock runs 40 ppm slow
    for i in range(3000):
        device_s = i * 0.02
        arrival = device_s * (1 + drift) + 0.005 + rng.exponential(0.01)
        clock.update(device_s, round(arrival * 1e9))
    assert clock.drift_ppm == pytest.approx(40, abs=10)
    host = clock.host_ns(60.0)
    assert host is not None
    assert abs(host / 1e9 - 60.0 * (1 + drift) - 0.005) < 0.01
