import pytest

from replay.score import score


def ep(start: float, end: float, channel: str = "ch1", **kw: object) -> dict[str, object]:
    return {"start": start, "end": end, "channel": channel, **kw}


def test_perfect_match() -> None:
    s = score([ep(1, 2, type="tonic", decided=1.6)], [ep(1.1, 2.1, type="tonic")])
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 0, 0)
    assert s.f1 == 1.0
    assert s.type_agreement == 1.0
    assert s.onset_errors_s == pytest.approx((-0.1,))
    assert s.latencies_s == pytest.approx((0.5,))


def test_a_split_counts_a_false_detection() -> None:
    s = score([ep(0, 1), ep(1.5, 3)], [ep(0, 3)])
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 1, 0)


def test_a_merge_counts_a_miss() -> None:
    s = score([ep(0, 3)], [ep(0, 1), ep(2, 3)])
    assert (s.true_positives, s.false_positives, s.false_negatives) == (1, 0, 1)
    assert s.f1 == pytest.approx(2 / 3)


def test_channels_must_agree_and_tolerance_widens_truth() -> None:
    assert score([ep(0, 1, "a")], [ep(0, 1, "b")]).true_positives == 0
    assert score([ep(2.5, 3)], [ep(0, 2)]).true_positives == 0
    assert score([ep(2.5, 3)], [ep(0, 2)], tolerance_s=1.0).true_positives == 1


def test_nothing_to_find_and_nothing_found_is_perfect() -> None:
    s = score([], [])
    assert s.precision == s.recall == s.f1 == 1.0
