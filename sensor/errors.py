"""The one base exception of spasmwatch, on the ground floor so every floor can use it."""

from __future__ import annotations


class SpasmwatchError(Exception):
    """Base of every error spasmwatch raises on purpose.

    The command line prints ``str(error)`` as one line and exits 1. Subclasses carry typed
    attributes so callers tell errors apart by type, never by their message.
    """


class SensorError(SpasmwatchError):
    """A problem in ``sensor/``: a device, a frame, a simulation setting."""


class DecodeError(SensorError):
    """Bytes from a device that do not form a valid frame.

    Attributes
    ----------
    payload : bytes
        The bytes that were received, unchanged.
    reason : str
        What is wrong with them, naming the field and byte offset where it applies.
    """

    def __init__(self, payload: bytes, reason: str) -> None:
        super().__init__(f"bad frame ({len(payload)} bytes): {reason}")
        self.payload = bytes(payload)
        self.reason = reason
