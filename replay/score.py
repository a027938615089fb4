"""Scoring detected episodes against the truth: one-to-one matching by overlap.

A detection may match one true episode at most and the other way round, so a spasm split in
two leaves a false detection and two spasms merged into one leave a miss (Thomas et al. 2014:
most disagreements between expert raters were splits and merges).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

Interval = Mapping[str, object]


def _f(d: Interval, key: str) -> float:
    v = d[key]
    if not isinstance(v, int | float):
        raise TypeError(f"episode {key!r} must be a number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Score:
    """How well detections match the truth.

    Attributes
    ----------
    true_positives, false_positives, false_negatives : int
    onset_errors_s, offset_errors_s : tuple of float
        Detected minus true, seconds, one per matched pair.
    type_matches : int
        Matched pairs whose type agrees.
    latencies_s : tuple of float
        From the true onset to when the detector reported the start, one per matched pair
        that carries a ``decided`` time.
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    onset_errors_s: tuple[float, ...] = field(default=())
    offset_errors_s: tuple[float, ...] = field(default=())
    type_matches: int = 0
    latencies_s: tuple[float, ...] = field(default=())

    @property
    def precision(self) -> float:
        """Share of detections that are true episodes (1 when nothing was detected)."""
        n = self.true_positives + self.false_positives
        return self.true_positives / n if n else 1.0

    @property
    def recall(self) -> float:
        """Share of true episodes detected (1 when there were none)."""
        n = self.true_positives + self.false_negatives
        return self.true_positives / n if n else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def type_agreement(self) -> float:
        """Share of matched pairs whose type agrees (1 with no pairs)."""
        return self.type_matches / self.true_positives if self.true_positives else 1.0


def score(
    detected: Sequence[Interval], truth: Sequence[Interval], *, tolerance_s: float = 0.0
) -> Score:
    """Match detections to true episodes one to one, maximising the total overlap.

    Parameters
    ----------
    detected, truth : sequence of mapping
        Episodes with ``start``, ``end`` (s) and ``channel``; ``type`` and ``decided`` (s)
        are used where present.
    tolerance_s : float
        Widen every true episode by this much on each side before testing overlap (for
        labels that are cue-based rather than exact).
    """
    n_d, n_t = len(detected), len(truth)
    overlap = np.zeros((n_d, n_t))
    for i, d in enumerate(detected):
        for j, t in enumerate(truth):
            if d.get("channel") != t.get("channel"):
                continue
            lo = max(_f(d, "start"), _f(t, "start") - tolerance_s)
            hi = min(_f(d, "end"), _f(t, "end") + tolerance_s)
            overlap[i, j] = max(0.0, hi - lo)
    rows, cols = linear_sum_assignment(-overlap) if n_d and n_t else ([], [])
    pairs = [(i, j) for i, j in zip(rows, cols, strict=True) if overlap[i, j] > 0]
    onset = tuple(_f(detected[i], "start") - _f(truth[j], "start") for i, j in pairs)
    offset = tuple(_f(detected[i], "end") - _f(truth[j], "end") for i, j in pairs)
    types = sum(1 for i, j in pairs if detected[i].get("type") == truth[j].get("type"))
    latency = tuple(
        _f(detected[i], "decided") - _f(truth[j], "start")
        for i, j in pairs
        if detected[i].get("decided") is not None
    )
    return Score(
        true_positives=len(pairs),
        false_positives=n_d - len(pairs),
        false_negatives=n_t - len(pairs),
        onset_errors_s=onset,
        offset_errors_s=offset,
        type_matches=types,
        latencies_s=latency,
    )


def merge_channels(episodes: Sequence[Interval], channel: str = "*") -> list[dict[str, object]]:
    """Join episodes of all channels into one sequence: overlapping ones become one.

    For recordings whose truth says when something happened but not on which channel (the
    cued gestures of a multi-channel armband). ``type`` and ``decided`` come from the first
    episode of each joined group.
    """
    ordered = sorted(episodes, key=lambda e: _f(e, "start"))
    out: list[dict[str, object]] = []
    for e in ordered:
        if out and _f(e, "start") <= _f(out[-1], "end"):
            out[-1]["end"] = max(_f(out[-1], "end"), _f(e, "end"))
            continue
        out.append({**e, "channel": channel})
    return out
