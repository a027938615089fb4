"""For developers: replay a recording and compare its episodes with its annotations.

>>> from replay.testing import replay_against_annotations
>>> score = replay_against_annotations("recordings/sim_calf_1khz_2ch.bdf", tolerance_s=0.2)
>>> score.f1 >= 0.9
True
"""

from __future__ import annotations

from pathlib import Path

from detect.config import DetectorConfig
from detect.pipeline import Pipeline
from replay.bdf import EdfRecording
from replay.errors import ReplayError
from replay.run import run
from replay.score import Score, score


def replay_against_annotations(
    path: str | Path,
    *,
    location: str = "unspecified",
    tolerance_s: float = 0.0,
    config: DetectorConfig | None = None,
) -> Score:
    """Run a recording through the live pipeline and score it against its ``spasm`` annotations.

    Raises
    ------
    ReplayError
        If the recording carries no episode annotations to compare with.
    """
    rec = EdfRecording(path, "emg")
    if not rec.truth:
        raise ReplayError(rec.path, "no 'spasm <channel> <type>' annotations to compare with")
    pipe = Pipeline(config or DetectorConfig(), rec.fs, rec.channels, rec.units, location)
    found = [e.as_dict() for e in run(pipe, rec.blocks()) if e.state != "open"]
    return score(found, rec.truth, tolerance_s=tolerance_s)
