"""An emulated BlueZ on a private D-Bus, with emulated wearables, for testing without a radio.

Unmodified bleak talks to it exactly as to BlueZ: it owns ``org.bluez`` on the bus that
``DBUS_SYSTEM_BUS_ADDRESS`` names, with an adapter (``/org/bluez/hci0``), devices, and their
GATT services and characteristics once connected. A notification is a ``PropertiesChanged``
of a characteristic's ``Value``, as BlueZ sends it.

Each emulated device runs firmware driven by the simulated wearable and a profile's encoder:
the open frame over the Nordic UART service, a Polar PMD accelerometer, or a Myo armband.
Faults on demand: notifications lost on the air, the link lost for a while, a draining
battery. Only the radio is emulated; everything from D-Bus up is real.

:class:`PrivateBus` starts a ``dbus-daemon`` of its own (a system-type bus on a socket in a
temporary folder, allowing everything), for tests and demonstrations.
"""

# No "from __future__ import annotations": dbus-fast reads the D-Bus signatures ("as",
# "a{sv}", ...) from the annotations at class creation; pyproject.toml tells ruff and mypy
# that these strings are signatures, not Python types.
import asyncio
import contextlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from dbus_fast import BusType, DBusError
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

from sensor import myo, polar
from sensor.gatt import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    DEVICE_INFO,
    FIRMWARE,
    HEART_RATE_SERVICE,
    MANUFACTURER,
    MODEL,
    NUS_RX,
    NUS_SERVICE,
    NUS_TX,
    OPEN_START,
    OPEN_STOP,
)
from sensor.simulate import SimulatedWearable

log = logging.getLogger(__name__)

ADAPTER = "/org/bluez/hci0"
#: How often an emulated device is heard while scanning, s (wearables advertise every
#: 0.1-1 s).
ADVERTISING_S = 0.2
#: Nanoseconds from 1970 to 2000-01-01 (Polar's epoch).
EPOCH_2000_NS = 946_684_800 * 10**9

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


class PrivateBus:
    """A ``dbus-daemon`` of our own; ``address`` goes into ``DBUS_SYSTEM_BUS_ADDRESS``."""

    def __init__(self) -> None:
        daemon = shutil.which("dbus-daemon")
        if daemon is None:
            raise FileNotFoundError("dbus-daemon is not installed (Debian: apt-get install dbus)")
        self.folder = Path(tempfile.mkdtemp(prefix="spasmwatch-bus-"))
        socket = self.folder / "bus"
        config = self.folder / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=socket))
        self.proc = subprocess.Popen(
            [daemon, f"--config-file={config}", "--nofork", "--print-address"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"dbus-daemon did not start: {err.strip()}")
        self.address = line

    def close(self) -> None:
        """Stop the daemon and remove its folder."""
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# -- GATT layout and firmware ----------------------------------------------------------------------


@dataclass
class Char:
    uuid: str
    flags: list[str]
    value: bytes = b""


@dataclass
class Faults:
    """What goes wrong on demand.

    Attributes
    ----------
    drop_fraction : float
        Share of notifications lost on the air (the device counts them as sent).
    link_losses : list of (at_s, for_s)
        The link drops at ``at_s`` seconds of streaming and the device cannot be reached
        for ``for_s`` seconds.
    """

    drop_fraction: float = 0.0
    link_losses: list[tuple[float, float]] = field(default_factory=list)
    stalls: list[tuple[float, float]] = field(default_factory=list)


class Firmware:
    """An emulated device's behaviour: its GATT layout and what it does when written to.

    ``send(char_uuid, payload)`` (set by the emulator) delivers a notification or indication
    when the device is connected and the client subscribed.
    """

    name = "device"
    advertised: tuple[str, ...] = ()
    manufacturer = "spasmwatch"
    model = "emulated"

    def __init__(self, sim: SimulatedWearable, faults: Faults | None = None, speed: float = 1.0):
        self.sim = sim
        self.faults = faults or Faults()
        self.speed = speed
        self.streaming = False
        self.sent = 0
        self.dropped = 0
        self.send: Callable[[str, bytes], bool] = lambda uuid, payload: False
        self.on_link_loss: Callable[[float], None] = lambda seconds: None
        self._task: asyncio.Task[None] | None = None
        self._rng = np.random.default_rng([sim.config.seed, 7])
        self.elapsed_s = 0.0

    def services(self) -> list[tuple[str, list[Char]]]:
        """Service UUID -> characteristics."""
        return [
            (BATTERY_SERVICE, [Char(BATTERY_LEVEL, ["read", "notify"], bytes([100]))]),
            (
                DEVICE_INFO,
                [
                    Char(MANUFACTURER, ["read"], self.manufacturer.encode()),
                    Char(MODEL, ["read"], self.model.encode()),
                    Char(FIRMWARE, ["read"], b"1.0"),
                ],
            ),
        ]

    def written(self, uuid: str, value: bytes) -> None:
        """The client wrote ``value`` to characteristic ``uuid``."""

    def payloads(self) -> Iterator[tuple[float, str, bytes]]:
        """(device time s, characteristic, bytes) of every notification the device makes."""
        raise NotImplementedError

    def battery(self) -> int:
        return self.sim.battery_at(self.elapsed_s)

    def start_streaming(self) -> None:
        self.streaming = True
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        losses = sorted(self.faults.link_losses)
        for t_s, uuid, payload in self.payloads():
            self.elapsed_s = t_s
            delay = t0 + t_s / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            while losses and t_s >= losses[0][0]:
                _, for_s = losses.pop(0)
                self.streaming = False
                self.on_link_loss(for_s / self.speed)
            if not self.streaming:
                continue  # measured but not sent: the device keeps its own time and counters
            if any(a <= t_s < a + d for a, d in self.faults.stalls):
                continue
            if self.faults.drop_fraction and self._rng.random() < self.faults.drop_fraction:
                self.dropped += 1
                continue
            if self.send(uuid, payload):
                self.sent += 1

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


class OpenFrameFirmware(Firmware):
    """A DIY wearable sending spasmwatch open frames over the Nordic UART service."""

    name = "spasmwatch-emg"
    advertised = (NUS_SERVICE,)
    model = "open frame"

    def services(self) -> list[tuple[str, list[Char]]]:
        return [
            (
                NUS_SERVICE,
                [Char(NUS_RX, ["write", "write-without-response"]), Char(NUS_TX, ["notify"])],
            ),
            *super().services(),
        ]

    def written(self, uuid: str, value: bytes) -> None:
        if uuid == NUS_RX and value == OPEN_START:
            self.start_streaming()
        elif uuid == NUS_RX and value == OPEN_STOP:
            self.streaming = False

    def payloads(self) -> Iterator[tuple[float, str, bytes]]:
        per_s = self.sim.samples_per_frame / self.sim.fs
        wraps, last = 0, 0
        for payload in self.sim.frames():
            t_us = int.from_bytes(payload[6:10], "little")
            if t_us < last:
                wraps += 1
            last = t_us
            # Sent once its last sample is measured.
            yield ((wraps * 2**32 + t_us) / 1e6 + per_s, NUS_TX, payload)


class PolarFirmware(Firmware):
    """A Polar H10 / Verity Sense streaming its accelerometer over PMD."""

    name = "Polar H10 A1B2C3D4"
    advertised = (HEART_RATE_SERVICE, polar.SERVICE)
    manufacturer = "Polar Electro Oy"
    model = "H10"
    #: Samples per frame: 36 raw int16 samples fit a 244-byte payload.
    PER_FRAME = 36

    def __init__(
        self,
        sim: SimulatedWearable,
        faults: Faults | None = None,
        speed: float = 1.0,
        *,
        compressed: bool = False,
        factor: float = 1.0,
    ) -> None:
        super().__init__(sim, faults, speed)
        self.compressed = compressed
        self.factor = factor
        if compressed:
            self.name, self.model = "Polar Sense B5C6D7E8", "Verity Sense"

    def services(self) -> list[tuple[str, list[Char]]]:
        return [
            (
                polar.SERVICE,
                [
                    Char(polar.CONTROL, ["read", "write", "indicate"]),
                    Char(polar.DATA, ["notify"]),
                ],
            ),
            *super().services(),
        ]

    def written(self, uuid: str, value: bytes) -> None:
        if uuid != polar.CONTROL or len(value) < 2:
            return
        if value[0] == polar.OP_START and value[1] == polar.ACC:
            settings = polar.parse_settings(value, 2)
            ok = int(settings.get(polar.SET_RATE, 0)) == int(self.sim.fs)
            self.send(
                polar.CONTROL,
                polar.response(polar.OP_START, 0 if ok else 6, {polar.SET_FACTOR: self.factor}),
            )
            if ok:
                self.start_streaming()
        elif value[0] == polar.OP_STOP:
            self.streaming = False
            self.send(polar.CONTROL, polar.response(polar.OP_STOP))

    def payloads(self) -> Iterator[tuple[float, str, bytes]]:
        fs = self.sim.fs
        index = 0
        pending = np.zeros((0, 3), dtype=np.int64)
        start_ns = 820_000_000 * 10**9  # the device's clock: some day in 2026, since 2000
        for counts in self.sim.samples():
            mg = np.round(counts[:, :3] * self.sim.scale * 1000.0 / self.factor).astype(np.int64)
            pending = np.concatenate([pending, mg])
            while len(pending) >= self.PER_FRAME:
                take, pending = pending[: self.PER_FRAME], pending[self.PER_FRAME :]
                index += len(take)
                ts = start_ns + round((index - 1) * 1e9 / fs)
                frame = (
                    polar.encode_delta(ts, take) if self.compressed else polar.encode_raw(ts, take)
                )
                yield (index / fs, polar.DATA, frame)


class MyoFirmware(Firmware):
    """A Myo armband streaming raw EMG (8 channels, 200 Hz, int8)."""

    name = "Myo"
    advertised = (myo.CONTROL_SERVICE,)
    manufacturer = "Thalmic Labs"
    model = "Myo"
    #: uV per count: rest (5 uV RMS in the simulation) is a couple of counts, as on the device.
    UV_PER_COUNT = 2.0

    def services(self) -> list[tuple[str, list[Char]]]:
        return [
            (myo.CONTROL_SERVICE, [Char(myo.COMMAND, ["write"])]),
            (myo.EMG_SERVICE, [Char(c, ["notify"]) for c in myo.EMG_CHARS]),
            *super().services(),
        ]

    def written(self, uuid: str, value: bytes) -> None:
        if uuid == myo.COMMAND and value == myo.START_RAW_EMG:
            self.start_streaming()
        elif uuid == myo.COMMAND and value == myo.STOP_EMG:
            self.streaming = False

    def payloads(self) -> Iterator[tuple[float, str, bytes]]:
        index = 0
        k = 0
        pending = np.zeros((0, 8), dtype=np.int64)
        for counts in self.sim.samples():
            uv = counts[:, :8] * self.sim.scale
            c = np.clip(np.round(uv / self.UV_PER_COUNT), -128, 127).astype(np.int64)
            pending = np.concatenate([pending, c])
            while len(pending) >= 2:
                take, pending = pending[:2], pending[2:]
                index += 2
                yield (index / self.sim.fs, myo.EMG_CHARS[k], myo.encode(take.astype(np.int8)))
                k = (k + 1) % 4


class Bystander(Firmware):
    """A device in range that is not a wearable (headphones): scans must tell it apart."""

    name = "Headphones"
    advertised = ("0000110b-0000-1000-8000-00805f9b34fb",)  # audio sink

    def payloads(self) -> Iterator[tuple[float, str, bytes]]:
        return iter(())


# -- the D-Bus objects ---------------------------------------------------------------------------


def _path_address(address: str) -> str:
    return address.upper().replace(":", "_")


class Adapter(ServiceInterface):
    def __init__(self, emulator: "EmulatedBluez") -> None:
        super().__init__("org.bluez.Adapter1")
        self.emulator = emulator
        self.discovering = False
        self._advertising: asyncio.Future[None] | None = None

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":
        return "00:AA:01:00:00:01"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":
        return "spasmwatch-emulated"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":
        return "spasmwatch-emulated"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> "b":
        return self.discovering

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> "as":
        return ["central", "peripheral"]

    @method()
    def SetDiscoveryFilter(self, properties: "a{sv}") -> None:
        del properties

    @method()
    def StartDiscovery(self) -> None:
        self.discovering = True
        self.emit_properties_changed({"Discovering": True})
        if self._advertising is None:
            self._advertising = asyncio.ensure_future(self._advertise())

    @method()
    def StopDiscovery(self) -> None:
        self.discovering = False
        self.emit_properties_changed({"Discovering": False})
        if self._advertising is not None:
            self._advertising.cancel()
            self._advertising = None

    async def _advertise(self) -> None:
        # Devices advertise over and over; each advertisement heard is an RSSI update.
        while self.discovering:
            await asyncio.sleep(ADVERTISING_S)
            self.emulator.announce()

    @method()
    def RemoveDevice(self, device: "o") -> None:
        del device


class Device(ServiceInterface):
    def __init__(self, emulator: "EmulatedBluez", firmware: Firmware, address: str, rssi: int):
        super().__init__("org.bluez.Device1")
        self.emulator = emulator
        self.firmware = firmware
        self.address = address
        self.rssi = rssi
        self.path = f"{ADAPTER}/dev_{_path_address(address)}"
        self.connected = False
        self.resolved = False
        self.unreachable_until = 0.0
        self.gatt: list[tuple[str, ServiceInterface]] = []
        self.chars: dict[str, GattChar] = {}

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":
        return self.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":
        return self.firmware.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":
        return self.firmware.name

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> "o":
        return ADAPTER

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Trusted(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> "b":
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> "b":
        return self.resolved

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> "n":
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":
        return list(self.firmware.advertised)

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> "a{qv}":
        return {}

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> "a{sv}":
        return {}

    @method()
    async def Connect(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self.unreachable_until:
            await asyncio.sleep(0.05)
            raise DBusError("org.bluez.Error.Failed", "Page Timeout")
        if self.connected:
            return
        self.connected = True
        self.emit_properties_changed({"Connected": True})
        self.emulator.export_gatt(self)
        self.resolved = True
        self.emit_properties_changed({"ServicesResolved": True})

    @method()
    def Disconnect(self) -> None:
        self.drop()

    def drop(self) -> None:
        """The link goes: services unresolved, GATT objects removed, then disconnected."""
        if not self.connected:
            return
        self.firmware.streaming = False
        self.resolved = False
        self.emit_properties_changed({"ServicesResolved": False})
        self.emulator.unexport_gatt(self)
        self.connected = False
        self.emit_properties_changed({"Connected": False})


class GattService(ServiceInterface):
    def __init__(self, uuid: str, device: str) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid, self.device = uuid, device

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> "o":
        return self.device

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> "ao":
        return []


class GattChar(ServiceInterface):
    def __init__(self, spec: Char, service: str, device: Device) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.spec, self.service, self.device = spec, service, device
        self.value = spec.value
        self.notifying = False

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self.spec.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":
        return self.service

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":
        return self.spec.flags

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        del options
        if self.spec.uuid == BATTERY_LEVEL:
            self.value = bytes([self.device.firmware.battery()])
        return self.value

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}") -> None:
        del options
        self.device.firmware.written(self.spec.uuid, bytes(value))

    @method()
    def StartNotify(self) -> None:
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})

    @method()
    def StopNotify(self) -> None:
        self.notifying = False
        self.emit_properties_changed({"Notifying": False})

    def notify(self, payload: bytes) -> bool:
        if not self.notifying:
            return False
        self.value = payload
        self.emit_properties_changed({"Value": payload})
        return True


class EmulatedBluez:
    """``org.bluez`` on a bus, with the devices added to it.

    Parameters
    ----------
    bus_address : str
        The D-Bus address (of a :class:`PrivateBus`).
    """

    def __init__(self, bus_address: str) -> None:
        self.bus_address = bus_address
        self.bus: MessageBus | None = None
        self.adapter = Adapter(self)
        self.devices: list[Device] = []

    async def start(self) -> None:
        self.bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect()
        self.bus.export(ADAPTER, self.adapter)
        await self.bus.request_name("org.bluez")

    async def stop(self) -> None:
        for d in self.devices:
            d.firmware.stop()
        if self.bus is not None:
            self.bus.disconnect()
            self.bus = None

    def add(self, firmware: Firmware, address: str, rssi: int = -60) -> Device:
        """Power on a device in range."""
        assert self.bus is not None
        device = Device(self, firmware, address, rssi)
        firmware.send = lambda uuid, payload, d=device: self._send(d, uuid, payload)  # type: ignore[misc]
        firmware.on_link_loss = lambda seconds, d=device: self.lose_link(d, seconds)  # type: ignore[misc]
        self.devices.append(device)
        self.bus.export(device.path, device)
        return device

    def announce(self) -> None:
        """Every device not connected and in reach is heard (an RSSI update, as BlueZ sends)."""
        now = asyncio.get_running_loop().time()
        for d in self.devices:
            if not d.connected and now >= d.unreachable_until:
                d.emit_properties_changed({"RSSI": d.rssi})

    def export_gatt(self, device: Device) -> None:
        assert self.bus is not None
        handle = 0x0A
        for s_uuid, chars in device.firmware.services():
            s_path = f"{device.path}/service{handle:04x}"
            service = GattService(s_uuid, device.path)
            self.bus.export(s_path, service)
            device.gatt.append((s_path, service))
            handle += 1
            for spec in chars:
                c_path = f"{s_path}/char{handle:04x}"
                char = GattChar(Char(spec.uuid, spec.flags, spec.value), s_path, device)
                self.bus.export(c_path, char)
                device.gatt.append((c_path, char))
                device.chars[spec.uuid] = char
                handle += 2

    def unexport_gatt(self, device: Device) -> None:
        assert self.bus is not None
        for path, iface in reversed(device.gatt):
            self.bus.unexport(path, iface)
        device.gatt.clear()
        device.chars.clear()

    def _send(self, device: Device, uuid: str, payload: bytes) -> bool:
        char = device.chars.get(uuid)
        return char is not None and device.connected and char.notify(payload)

    def lose_link(self, device: Device, seconds: float) -> None:
        """The link drops; the device cannot be reached for ``seconds``."""
        device.unreachable_until = asyncio.get_running_loop().time() + seconds
        device.drop()


def mac(n: int) -> str:
    """A made-up random static address for emulated device ``n``."""
    return "C0:5A:00:00:{:02X}:{:02X}".format(*divmod(n, 256))
