"""Wearables over Bluetooth Low Energy, through bleak (the only module that imports it).

- :func:`scan` lists nearby devices and the profile that fits each;
- :class:`BleWearable` connects (bleak-retry-connector, with backoff), subscribes before it
  sends the device's start command, reads battery and device information, and keeps the link:
  a watchdog reconnects when no data comes, the start command is sent again after every
  reconnect, and each loss and return of the link is put on the queue for the consumer.

The notification callback only stamps ``time.monotonic_ns()`` and enqueues; decoding is the
consumer's job. A full queue drops the notification and counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import BleakConnectionError, establish_connection

from sensor import myo, polar
from sensor.errors import SensorError
from sensor.gatt import (
    BATTERY_LEVEL,
    FIRMWARE,
    MANUFACTURER,
    MODEL,
    NUS_RX,
    NUS_SERVICE,
    NUS_TX,
    OPEN_START,
    OPEN_STOP,
)
from sensor.stream import OpenFrameDecoder, StreamDecoder

log = logging.getLogger(__name__)

DEVICE_INFO = {"manufacturer": MANUFACTURER, "model": MODEL, "firmware": FIRMWARE}
PROFILES = ("open-frame", "polar-acc", "myo-emg")
#: No data for this long on a connected link: reconnect. Longer than BLE's usual supervision
#: timeout (4-6 s), so a link BlueZ still reports as up gets the chance to say it is gone.
WATCHDOG_S = 8.0
#: Waits between reconnect attempts: doubling from the first to the last (a wearable
#: advertises every 0.1-1 s, so the first retries come quickly; then the radio is spared).
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 10.0
#: How long a control-point response may take.
RESPONSE_S = 5.0
#: Battery level is read again this often, s.
BATTERY_EVERY_S = 60.0
#: Polar accelerometer rate asked for (the H10 offers 25, 50, 100 and 200 Hz).
POLAR_RATE_HZ = 200


def profile_for(name: str | None, uuids: list[str]) -> str | None:
    """The profile a device's advertisement fits, or None."""
    u = {x.lower() for x in uuids}
    if NUS_SERVICE in u:
        return "open-frame"
    if polar.SERVICE in u or (name or "").startswith("Polar "):
        return "polar-acc"
    if myo.CONTROL_SERVICE in u or name == "Myo":
        return "myo-emg"
    return None


def _unavailable(exc: Exception) -> SensorError:
    text = str(exc)
    if "org.bluez" in text or "No such file" in text or "Connection refused" in text:
        return SensorError(
            "Bluetooth is not available: no BlueZ on the system D-Bus "
            "(is bluetoothd running and is there an adapter?)"
        )
    return SensorError(f"cannot scan for Bluetooth devices: {text}")


@dataclass(frozen=True)
class Found:
    """A device heard while scanning."""

    name: str
    address: str
    rssi: int
    profile: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def scan(seconds: float) -> list[Found]:
    """Every device heard within ``seconds``, strongest first."""
    try:
        found = await BleakScanner.discover(timeout=seconds, return_adv=True)
    except (BleakError, OSError) as exc:
        raise _unavailable(exc) from exc
    out = [
        Found(
            dev.name or adv.local_name or "",
            dev.address,
            adv.rssi,
            profile_for(dev.name or adv.local_name, adv.service_uuids),
        )
        for dev, adv in found.values()
    ]
    return sorted(out, key=lambda f: -f.rssi)


@dataclass
class Item:
    """What the link puts on the queue: ``data`` (a notification), ``down`` or ``up``."""

    kind: str
    t_ns: int
    payload: bytes = b""
    source: str = ""


# -- profiles' handshakes ------------------------------------------------------------------------

Notify = Callable[[Any, bytearray], None]


class Handshake:
    """How a profile starts and stops a device's stream; owns the stream's decoder."""

    name = "?"
    data_chars: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.decoder: StreamDecoder | None = None

    async def start(self, client: BleakClient, notify: Notify) -> None:
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:
        raise NotImplementedError


class OpenFrameHandshake(Handshake):
    name = "open-frame"
    data_chars = (NUS_TX,)

    def __init__(self) -> None:
        super().__init__()
        self.decoder = OpenFrameDecoder()

    async def start(self, client: BleakClient, notify: Notify) -> None:
        await client.start_notify(NUS_TX, notify)
        await client.write_gatt_char(NUS_RX, OPEN_START, response=True)

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(NUS_RX, OPEN_STOP, response=True)


class PolarHandshake(Handshake):
    name = "polar-acc"
    data_chars = (polar.DATA,)

    def __init__(self, rate_hz: int = POLAR_RATE_HZ) -> None:
        super().__init__()
        self.rate_hz = rate_hz
        self.factor = 1.0
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()

    async def start(self, client: BleakClient, notify: Notify) -> None:
        # Indications of the control point first, then data, then the start command.
        await client.start_notify(polar.CONTROL, lambda _c, d: self._responses.put_nowait(bytes(d)))
        await client.start_notify(polar.DATA, notify)
        await client.write_gatt_char(
            polar.CONTROL, polar.start_command(self.rate_hz), response=True
        )
        try:
            raw = await asyncio.wait_for(self._responses.get(), RESPONSE_S)
        except TimeoutError:
            raise SensorError("the Polar sensor did not answer the start command") from None
        op, status, settings = polar.parse_response(raw)
        if op != polar.OP_START or status != 0:
            raise SensorError(f"the Polar sensor refused to start ACC (status {status})")
        self.factor = settings.get(polar.SET_FACTOR, 1.0)
        if self.decoder is None:
            self.decoder = polar.PolarAccDecoder(self.rate_hz, self.factor)

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(polar.CONTROL, polar.stop_command(), response=True)


class MyoHandshake(Handshake):
    name = "myo-emg"
    data_chars = myo.EMG_CHARS

    def __init__(self) -> None:
        super().__init__()
        self.decoder = myo.MyoEmgDecoder()

    async def start(self, client: BleakClient, notify: Notify) -> None:
        await client.write_gatt_char(myo.COMMAND, myo.NEVER_SLEEP, response=True)
        for char in myo.EMG_CHARS:
            await client.start_notify(char, notify)
        await client.write_gatt_char(myo.COMMAND, myo.START_RAW_EMG, response=True)

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(myo.COMMAND, myo.STOP_EMG, response=True)


HANDSHAKES: dict[str, Callable[[], Handshake]] = {
    "open-frame": OpenFrameHandshake,
    "polar-acc": PolarHandshake,
    "myo-emg": MyoHandshake,
}


# -- the link ------------------------------------------------------------------------------------


@dataclass
class LinkStats:
    connects: int = 0
    reconnects: int = 0
    failed_attempts: int = 0
    watchdog: int = 0
    notifications: int = 0
    overflows: int = 0
    info: dict[str, str] = field(default_factory=dict)


class BleWearable:
    """One wearable over BLE, kept connected until ``stop`` is set.

    Parameters
    ----------
    target : str
        A device name or address.
    queue : asyncio.Queue
        Where :class:`Item` objects go (the consumer may give its own before :meth:`run`).
    profile : str or None
        One of :data:`PROFILES`; None picks it from the advertisement.
    """

    def __init__(
        self,
        target: str,
        queue: asyncio.Queue[Item | None] | None = None,
        *,
        profile: str | None = None,
        scan_s: float = 10.0,
        watchdog_s: float = WATCHDOG_S,
    ) -> None:
        self.target = target
        self.queue: asyncio.Queue[Item | None] = queue if queue is not None else asyncio.Queue()
        self.profile = profile
        self.scan_s = scan_s
        self.watchdog_s = watchdog_s
        self.state = "scanning"
        self.battery: int | None = None
        self.stats = LinkStats()
        self.handshake: Handshake | None = None
        self.address = ""
        self.name = ""
        self._last_data = time.monotonic()
        self._gone = asyncio.Event()
        self._advertised_uuids: list[str] = []

    @property
    def decoder(self) -> StreamDecoder | None:
        return None if self.handshake is None else self.handshake.decoder

    def _put(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.overflows += 1

    def _on_notify(self, char: Any, data: bytearray) -> None:
        # Only stamp and enqueue: the consumer decodes.
        self._put(Item("data", time.monotonic_ns(), bytes(data), str(char.uuid)))
        self.stats.notifications += 1
        self._last_data = time.monotonic()

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._gone.set()

    async def find(self) -> BLEDevice:
        """The target device, by address or name."""
        want = self.target.lower()

        def match(dev: BLEDevice, adv: Any) -> bool:
            names = (dev.address.lower(), (dev.name or "").lower(), (adv.local_name or "").lower())
            if want in names:
                self._advertised_uuids = list(adv.service_uuids)
                return True
            return False

        try:
            dev = await BleakScanner.find_device_by_filter(match, timeout=self.scan_s)
        except (BleakError, OSError) as exc:
            raise _unavailable(exc) from exc
        if dev is None:
            raise SensorError(
                f"no Bluetooth device named or addressed {self.target!r} was heard in "
                f"{self.scan_s:g} s (is it on and near? spasmwatch scan lists what is)"
            )
        return dev

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and stream until ``stop``; reconnect whenever the link goes."""
        device = await self.find()
        self.address, self.name = device.address, device.name or device.address
        if self.profile is None:
            self.profile = profile_for(self.name, self._advertised_uuids)
            if self.profile is None:
                raise SensorError(
                    f"{self.name} ({self.address}) speaks no profile spasmwatch knows; "
                    f"name one with --profile ({', '.join(PROFILES)})"
                )
        self.handshake = HANDSHAKES[self.profile]()
        backoff = BACKOFF_FIRST_S
        streamed_before = False
        while not stop.is_set():
            self.state = "reconnecting" if streamed_before else "connecting"
            self._gone.clear()
            try:
                client = await establish_connection(
                    BleakClient,
                    device,
                    self.name,
                    disconnected_callback=self._on_disconnect,
                    max_attempts=3,
                )
            except (BleakError, BleakConnectionError, TimeoutError) as exc:
                self.stats.failed_attempts += 1
                log.info("could not connect to %s: %s; again in %.1f s", self.name, exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(BACKOFF_MAX_S, backoff * 2)
                continue
            try:
                await self._stream(client, stop, streamed_before)
                streamed_before = True
                backoff = BACKOFF_FIRST_S
            except (BleakError, SensorError, TimeoutError) as exc:
                log.warning("link to %s: %s", self.name, exc)
                if isinstance(exc, SensorError) and not streamed_before:
                    raise
            finally:
                if stop.is_set() and client.is_connected:
                    with contextlib.suppress(BleakError, TimeoutError, SensorError):
                        assert self.handshake is not None
                        await self.handshake.stop(client)
                with contextlib.suppress(BleakError, TimeoutError):
                    await client.disconnect()
            if not stop.is_set():
                self._put(Item("down", time.monotonic_ns()))
                self.state = "reconnecting"
        self.state = "stopped"

    async def _stream(self, client: BleakClient, stop: asyncio.Event, again: bool) -> None:
        assert self.handshake is not None
        await self._read_info(client)
        await self.handshake.start(client, self._on_notify)
        self.stats.connects += 1
        self.stats.reconnects += 1 if again else 0
        self._put(Item("up", time.monotonic_ns()))
        self.state = "streaming"
        self._last_data = time.monotonic()
        last_battery = time.monotonic()
        while not stop.is_set() and not self._gone.is_set() and client.is_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), 0.5)
            now = time.monotonic()
            if now - self._last_data > self.watchdog_s:
                self.stats.watchdog += 1
                log.warning("no data from %s for %.0f s: reconnecting", self.name, self.watchdog_s)
                return
            if now - last_battery > BATTERY_EVERY_S:
                last_battery = now
                await self._read_battery(client)

    async def _read_battery(self, client: BleakClient) -> None:
        with contextlib.suppress(BleakError, TimeoutError):
            level = await client.read_gatt_char(BATTERY_LEVEL)
            if level:
                self.battery = int(level[0])

    async def _read_info(self, client: BleakClient) -> None:
        await self._read_battery(client)
        for key, uuid in DEVICE_INFO.items():
            with contextlib.suppress(BleakError, TimeoutError):
                if client.services.get_characteristic(uuid) is not None:
                    value = await client.read_gatt_char(uuid)
                    self.stats.info[key] = bytes(value).decode("utf-8", "replace").strip("\x00 ")
