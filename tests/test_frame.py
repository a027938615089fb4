import contextlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sensor.errors import DecodeError
from sensor.frame import HEADER_SIZE, FrameAssembler, decode_frame, encode_frame

# A frame written out by hand from docs/ble-frame.md: seq 7, t = 1000 us, 500 Hz, 2 channels,
# 2 samples, 0.5 uV per count, unit uV, battery 80 %, samples (1, -2), (3, 32767).
LITERAL = (
    b"SW\x01\x00"
    + b"\x07\x00"
    + b"\xe8\x03\x00\x00"
    + struct.pack("<f", 500.0)
    + b"\x02\x02"
    + struct.pack("<f", 0.5)
    + b"\x00\x50"
    + b"\x01\x00\xfe\xff\x03\x00\xff\x7f"
)


def test_literal_frame_decodes_field_by_field() -> None:
    f = decode_frame(LITERAL)
    assert f.seq == 7
    assert f.device_time_us == 1000
    assert f.fs == 500.0
    assert f.scale == 0.5
    assert f.unit == "uV"
    assert f.battery == 80
    np.testing.assert_array_equal(f.counts, [[1, -2], [3, 32767]])
    np.testing.assert_array_equal(
        f.values, np.array([[0.5, -1.0], [1.5, 16383.5]], dtype=np.float32)
    )


def test_header_is_22_bytes_and_encoder_matches_literal() -> None:
    assert HEADER_SIZE == 22
    counts = np.array([[1, -2], [3, 32767]], dtype=np.int16)
    assert encode_frame(7, 1000, 500.0, 0.5, "uV", counts, battery=80) == LITERAL


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(0, 0xFFFF),
    t_us=st.integers(0, 0xFFFFFFFF),
    fs=st.sampled_from([25.0, 50.0, 200.0, 1000.0, 2000.0, 4000.0]),
    scale=st.floats(0.0009765625, 1024.0, width=32),
    unit=st.sampled_from(["uV", "g", "counts"]),
    battery=st.one_of(st.none(), st.integers(0, 100)),
    counts=st.integers(1, 16).flatmap(
        lambda c: arrays(np.int16, st.tuples(st.integers(1, 40), st.just(c)))
    ),
)
def test_round_trip_is_exact(
    seq: int, t_us: int, fs: float, scale: float, unit: str, battery: int | None, counts: np.ndarray
) -> None:
    f = decode_frame(encode_frame(seq, t_us, fs, scale, unit, counts, battery=battery))
    assert (f.seq, f.device_time_us, f.fs, f.unit, f.battery) == (seq, t_us, fs, unit, battery)
    assert f.scale == np.float32(scale)
    np.testing.assert_array_equal(f.counts, counts)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (LITERAL[:10], "shorter than the 22-byte header"),
        (b"XX" + LITERAL[2:], "magic at byte 0"),
        (LITERAL[:2] + b"\x02" + LITERAL[3:], "version at byte 2"),
        (LITERAL[:3] + b"\x01" + LITERAL[4:], "flags at byte 3"),
        (LITERAL[:10] + struct.pack("<f", -1.0) + LITERAL[14:], "sampling rate at byte 10"),
        (LITERAL[:14] + b"\x00" + LITERAL[15:], "channel count at byte 14"),
        (LITERAL[:15] + b"\x00" + LITERAL[16:], "sample count at byte 15"),
        (LITERAL[:16] + struct.pack("<f", 0.0) + LITERAL[20:], "scale at byte 16"),
        (LITERAL[:20] + b"\x07" + LITERAL[21:], "unit at byte 20"),
        (LITERAL[:21] + b"\x65" + LITERAL[22:], "battery at byte 21"),
        (LITERAL[:-1], "length is 29 bytes"),
        (LITERAL + b"\x00\x00", "length is 32 bytes"),
    ],
)
def test_bad_bytes_give_a_decode_error_naming_the_field(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        decode_frame(payload)
    assert info.value.payload == payload
    assert reason.split()[0] in info.value.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_decode_error_only(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_frame(payload)


def _frames(n: int, per: int = 10) -> list[bytes]:
    return [
        encode_frame(
            i, round(i * per / 1000 * 1e6), 1000.0, 1.0, "uV", np.full((per, 1), i, np.int16)
        )
        for i in range(n)
    ]


def test_assembler_turns_a_dropped_frame_into_a_counted_gap() -> None:
    frames = _frames(5)
    asm = FrameAssembler(["ch1"])
    blocks = [b for i, f in enumerate(frames) if i != 2 for b in asm.push(decode_frame(f))]
    assert [b.start_index for b in blocks] == [0, 10, 20, 30, 40]
    assert [bool(b.lost.all()) for b in blocks] == [False, False, True, False, False]
    assert asm.lost_frames == 1
    assert asm.lost_samples == 10
    assert blocks[3].samples[0, 0] == 3.0


def test_assembler_drops_repeated_frames_and_handles_wrap() -> None:
    asm = FrameAssembler(["ch1"])
    f = encode_frame(0xFFFF, 0, 1000.0, 1.0, "uV", np.zeros((4, 1), np.int16))
    g = encode_frame(0, 4000, 1000.0, 1.0, "uV", np.zeros((4, 1), np.int16))
    assert len(asm.push(decode_frame(f))) == 1
    assert asm.push(decode_frame(f)) == []
    assert asm.duplicates == 1
    assert [b.start_index for b in asm.push(decode_frame(g))] == [4]
    assert asm.lost_frames == 0


def test_assembler_refuses_a_change_of_channel_count() -> None:
    asm = FrameAssembler(["ch1", "ch2"])
    with pytest.raises(DecodeError, match="2"):
        asm.push(decode_frame(_frames(1)[0]))
