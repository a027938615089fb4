"""Where samples come from: the block type, device frames, the simulated wearable.

This package must stay importable without bleak: BLE code lives in its own module and
imports bleak there alone.
"""

from sensor.block import ACC, EMG, SIGNAL_KINDS, Block, concat, sensor_groups
from sensor.errors import DecodeError, SensorError, SpasmwatchError
from sensor.meta import package_version

__all__ = [
    "ACC",
    "EMG",
    "SIGNAL_KINDS",
    "Block",
    "DecodeError",
    "SensorError",
    "SpasmwatchError",
    "concat",
    "package_version",
    "sensor_groups",
]
