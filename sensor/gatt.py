"""GATT UUIDs spasmwatch uses: standard services and the open frame's transport."""

from __future__ import annotations

#: Nordic UART service: the open frame's transport (``docs/ble-frame.md``).
NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # write: commands to the device
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # notify: frames from the device
#: Written to NUS RX: start and stop streaming open frames.
OPEN_START, OPEN_STOP = b"\x01", b"\x00"

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE = "00002a26-0000-1000-8000-00805f9b34fb"
HEART_RATE_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"
