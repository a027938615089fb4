"""The real-time core: causal filters, envelope, adaptive resting level, thresholds -> episodes.

Only the block type comes from ``sensor``; nothing here imports bleak or reads a wall clock.
"""

from detect.config import DetectorConfig, preset
from detect.errors import ConfigError, DetectError
from detect.events import EPISODE_TYPES, Episode
from detect.pipeline import Pipeline, detect, is_trunk

__all__ = [
    "EPISODE_TYPES",
    "ConfigError",
    "DetectError",
    "DetectorConfig",
    "Episode",
    "Pipeline",
    "detect",
    "is_trunk",
    "preset",
]
