"""``spasmwatch emulate``: an emulated Bluetooth wearable for trying spasmwatch without one.

Starts a private D-Bus (or uses ``--bus``), an emulated BlueZ on it and one emulated device
driven by the simulated wearable, then prints the address to give spasmwatch::

    spasmwatch emulate --profile polar-acc --lose-link 60:10
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=... spasmwatch monitor --device "Polar H10 A1B2C3D4"

Nothing listens on a network port: the bus is a Unix socket in a private temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

from sensor.emulator import (
    Bystander,
    EmulatedBluez,
    Faults,
    Firmware,
    MyoFirmware,
    OpenFrameFirmware,
    PolarFirmware,
    PrivateBus,
    mac,
)
from sensor.errors import SensorError
from sensor.simulate import SimConfig, SimulatedWearable

#: What each profile's emulated device measures.
SIGNALS = {
    "open-frame": {"signal": "emg", "fs_hz": 1000.0, "channels": 1},
    "polar-acc": {"signal": "acc", "fs_hz": 200.0, "channels": 1},
    "polar-acc-compressed": {"signal": "acc", "fs_hz": 200.0, "channels": 1},
    "myo-emg": {"signal": "emg", "fs_hz": 200.0, "channels": 8},
}


def firmware(args: argparse.Namespace) -> Firmware:
    """The emulated device the options describe."""
    sim = SimulatedWearable(
        SimConfig(
            **SIGNALS[args.profile],
            seconds=args.seconds,
            seed=args.seed,
            location=args.location,
            battery_drain_per_h=args.battery_drain,
            drop_fraction=args.drop_packets if args.profile == "open-frame" else 0.0,
        )
    )
    faults = Faults(
        drop_fraction=0.0 if args.profile == "open-frame" else args.drop_packets,
        link_losses=list(args.lose_link or []),
        stalls=list(args.stall or []),
    )
    if args.profile == "open-frame":
        return OpenFrameFirmware(sim, faults, args.speed)
    if args.profile.startswith("polar"):
        return PolarFirmware(
            sim, faults, args.speed, compressed=args.profile.endswith("compressed")
        )
    return MyoFirmware(sim, faults, args.speed)


async def serve(args: argparse.Namespace, address: str) -> int:
    emulator = EmulatedBluez(address)
    await emulator.start()
    fw = firmware(args)
    device = emulator.add(fw, mac(args.seed % 65536))
    if args.bystander:
        emulator.add(Bystander(fw.sim), mac(65535), rssi=-80)
    print(
        f"ready: emulated {fw.model} {fw.name!r} at {device.address} on {address}",
        flush=True,
    )
    print(
        f'  DBUS_SYSTEM_BUS_ADDRESS={address} spasmwatch monitor --device "{fw.name}"',
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The device lives until its simulation ends (plus a minute to reconnect) or Ctrl-C.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.seconds / args.speed + 60)
    print(f"emulated device sent {fw.sent} notifications, lost {fw.dropped} on the air", flush=True)
    await emulator.stop()
    return 0


def cmd_emulate(args: argparse.Namespace) -> int:
    bus = None
    address = args.bus
    if address is None:
        try:
            bus = PrivateBus()
        except (FileNotFoundError, RuntimeError) as exc:
            raise SensorError(str(exc)) from None
        address = bus.address
    try:
        return asyncio.run(serve(args, address))
    finally:
        if bus is not None:
            bus.close()
        sys.stdout.flush()


def add_command(
    sub: Any,
    positive: Callable[[str], float],
    lose_link: Callable[[str], tuple[float, float]],
) -> None:
    """Register ``emulate``."""
    e = sub.add_parser(
        "emulate", help="an emulated Bluetooth wearable, to try spasmwatch without one"
    )
    e.add_argument("--profile", choices=sorted(SIGNALS), default="open-frame")
    e.add_argument("--bus", help="D-Bus address to serve on (default: a private bus of its own)")
    e.add_argument("--seed", type=int, default=1, help="seed of the simulation (default 1)")
    e.add_argument("--seconds", type=positive, default=600.0, help="signal to send (default 600)")
    e.add_argument("--speed", type=positive, default=1.0, help="send faster than real time")
    e.add_argument("--location", default="left calf", help="where the device is worn")
    e.add_argument("--drop-packets", type=float, default=0.0, metavar="FRACTION")
    e.add_argument("--battery-drain", type=float, default=0.0, metavar="PCT_PER_H")
    e.add_argument("--lose-link", type=lose_link, action="append", metavar="AT:FOR")
    e.add_argument("--bystander", action="store_true", help="also a device that is no wearable")
    e.add_argument(
        "--stall",
        type=lose_link,
        action="append",
        metavar="AT:FOR",
        help="stop sending at AT s for FOR s while staying connected",
    )
    e.set_defaults(func=cmd_emulate)
