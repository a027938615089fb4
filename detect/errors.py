"""Errors of the detection core."""

from __future__ import annotations

from sensor.errors import SpasmwatchError


class DetectError(SpasmwatchError):
    """A problem in ``detect/``."""


class ConfigError(DetectError):
    """Detector settings that cannot work with this signal (a band above Nyquist, ...)."""
