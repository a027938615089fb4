"""The recordings in recordings/: they read, and the detector finds what they say."""

from pathlib import Path

import pytest

from replay.bdf import EdfRecording
from replay.testing import replay_against_annotations

ROOT = Path(__file__).resolve().parent.parent / "recordings"


@pytest.mark.parametrize(
    ("name", "location"),
    [("sim_calf_1khz_2ch.bdf", "left calf"), ("sim_lower_back_2khz.bdf", "lower back")],
)
def test_simulated_recordings_give_their_annotated_episodes(name: str, location: str) -> None:
    s = replay_against_annotations(ROOT / name, location=location)
    assert s.true_positives >= 4
    assert s.f1 >= 0.9


def test_the_folder_stays_small_and_says_where_everything_came_from() -> None:
    files = [p for p in ROOT.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 10 * 2**20
    readme = (ROOT / "README.md").read_text()
    for p in files:
        if p.suffix in (".csv", ".bdf"):
            assert p.name in readme or p.stem.split("_s01")[0] in readme, p.name


def test_a_recording_without_annotations_cannot_be_compared(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import numpy as np

    from replay.bdf import BdfWriter
    from replay.errors import ReplayError
    from sensor.block import Block

    p = tmp_path / "plain.bdf"
    w = BdfWriter(p, ["a"], ["uV"], 100.0, datetime(2026, 1, 1, tzinfo=UTC))
    w.write(Block(np.zeros((300, 1), np.float32), 100.0, 0, ("a",), ("uV",)))
    w.close()
    assert EdfRecording(p, "emg").truth == []
    with pytest.raises(ReplayError, match="no 'spasm <channel> <type>' annotations"):
        replay_against_annotations(p)
