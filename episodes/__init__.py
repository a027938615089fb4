"""The episode log (SQLite), exports and the clinician report."""

from episodes.errors import ForeignFileError, LogError
from episodes.log import EpisodeLog, EpisodeRow, default_db_path

__all__ = ["EpisodeLog", "EpisodeRow", "ForeignFileError", "LogError", "default_db_path"]
