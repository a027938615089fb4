"""``spasmwatch bench speed`` on a short recording: it measures what it says (the numbers
themselves are the bench's to print, not a test's to time)."""

from pathlib import Path

from replay import speed
from replay.bdf import EdfRecording


def test_the_speed_bench_replays_the_recording_and_one_call_finds_the_same(tmp_path: Path) -> None:
    path = tmp_path / "short.bdf"
    speed.make_recording(path, 30.0, seed=3)
    rec = EdfRecording(path, "emg")
    assert (rec.fs, len(rec.channels)) == (speed.FS, speed.CHANNELS)
    out = speed.replay_child(path, whole=True)
    assert out["samples"] == 30.0 * speed.FS * speed.CHANNELS
    assert out["duration_s"] == 30.0
    assert out["episodes"] > 0
    assert out["whole_same"] == 1.0
    assert min(out["seconds"], out["bandpass_seconds"], out["whole_seconds"]) > 0
    assert out["quarter_seconds"] > 0
    live, bandpass = speed.live_blocks(seconds=1.0)
    assert live > 0
    assert bandpass > 0
