import numpy as np
import pytest

from sensor.block import Block, concat, sensor_groups
from sensor.errors import SensorError


def make(n: int, start: int = 0, channels: tuple[str, ...] = ("a", "b")) -> Block:
    rng = np.random.default_rng(1)
    return Block(
        rng.standard_normal((n, len(channels))), 1000.0, start, channels, ("uV",) * len(channels)
    )


def test_block_is_float32_time_major_and_read_only() -> None:
    b = make(5)
    assert b.samples.dtype == np.float32
    assert b.samples.shape == (5, 2)
    assert b.lost.shape == (5,)
    assert not b.lost.any()
    assert b.stop_index == 5
    with pytest.raises(ValueError, match="read-only"):
        b.samples[0, 0] = 1.0


def test_block_does_not_share_a_writable_input() -> None:
    x = np.zeros((3, 1), dtype=np.float32)
    b = Block(x, 100.0, 0, ("a",), ("uV",))
    assert not b.samples.flags.writeable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": np.zeros(3)}, "2-D"),
        ({"channels": ("a",)}, "2 columns but 1 channel"),
        ({"units": ("uV",)}, "2 channels but 1 units"),
        ({"fs": 0.0}, "positive number"),
        ({"fs": float("nan")}, "positive number"),
        ({"start_index": -1}, "start_index"),
        ({"lost": np.zeros(2, dtype=bool)}, "lost mask"),
    ],
)
def test_block_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "samples": np.zeros((3, 2)),
        "fs": 100.0,
        "start_index": 0,
        "channels": ("a", "b"),
        "units": ("uV", "uV"),
    }
    fields.update(kwargs)
    with pytest.raises(SensorError, match=message):
        Block(**fields)  # type: ignore[arg-type]


def test_a_sample_that_is_not_a_number_is_refused_unless_lost() -> None:
    x = np.ones((4, 2))
    x[2, 1] = np.nan
    with pytest.raises(SensorError, match=r"sample 12 of channel 'b' is not a finite number"):
        Block(x, 100.0, 10, ("a", "b"), ("uV", "uV"))
    x[3, 0] = np.inf
    b = Block(x, 100.0, 10, ("a", "b"), ("uV", "uV"), np.array([0, 0, 1, 1], dtype=bool))
    assert b.samples.tolist() == [[1, 1], [1, 1], [1, 0], [0, 1]]  # lost samples hold 0


def test_gap_block_is_all_lost() -> None:
    g = Block.gap(4, 200.0, 10, ("a",), ("uV",))
    assert g.lost.all()
    assert g.n_samples == 4
    assert g.start_index == 10
    assert not g.samples.any()


def test_concat_joins_consecutive_blocks_and_refuses_holes() -> None:
    a, b = make(3, 0), make(4, 3)
    joined = concat([a, b])
    assert joined.n_samples == 7
    np.testing.assert_array_equal(joined.samples[3:], b.samples)
    with pytest.raises(SensorError, match="not consecutive"):
        concat([a, make(4, 5)])


def test_sensor_groups_names_sensors_without_axis_suffix() -> None:
    assert sensor_groups(["wrist_x", "wrist_y", "wrist_z", "ankle.x", "ankle.y", "ankle.z"]) == [
        ("wrist", (0, 1, 2)),
        ("ankle", (3, 4, 5)),
    ]
    assert sensor_groups(["ax", "ay", "az"]) == [("a", (0, 1, 2))]
    with pytest.raises(SensorError, match="groups of three"):
        sensor_groups(["x", "y"])
