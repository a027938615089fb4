"""Recordings on disk: read, write, replay through the same pipeline, score."""

from replay.csvio import CsvRecording, CsvWriter
from replay.errors import ReplayError
from replay.run import open_recording, run
from replay.score import Score, score

__all__ = ["CsvRecording", "CsvWriter", "ReplayError", "Score", "open_recording", "run", "score"]
