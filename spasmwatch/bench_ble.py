"""``spasmwatch bench ble``: how many notifications per second the BLE path takes with no loss.

The path measured is the monitor's: an emulated open-frame wearable (its own process,
``spasmwatch emulate``) -> emulated BlueZ -> D-Bus -> unmodified bleak -> the notification
callback -> the queue -> the decoder -> the detector. The open frame's sequence numbers make
every lost notification visible. The rate is raised step by step; each step streams for a
few seconds. Beside it, the baseline: the decoder alone on the same frames in memory, in
this process (the ceiling the BLE path is measured against).
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from detect.config import DetectorConfig
from sensor.ble import BleWearable
from sensor.emulator import PrivateBus
from sensor.errors import SensorError
from sensor.simulate import SimConfig, SimulatedWearable
from sensor.stream import OpenFrameDecoder
from spasmwatch.monitor import BleSource, monitor
from spasmwatch.settings import Settings
from spasmwatch.view import PlainView

#: The emulated device: one sEMG channel at 1 kHz, 50 samples per frame: 20 frames/s at 1x.
FRAMES_PER_S_AT_1X = 20
SPEEDS = (25, 50, 100, 200, 400, 800)
STEP_S = 6.0


async def _step(address: str, speed: float, step_s: float) -> dict[str, float]:
    emu = subprocess.Popen(
        [sys.executable, "-m", "spasmwatch", "emulate", "--bus", address, "--profile",
         "open-frame", "--seconds", str(speed * (step_s + 30)), "--speed", str(speed),
         "--seed", str(int(speed))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert emu.stdout is not None
        ready = await asyncio.to_thread(emu.stdout.readline)
        if not ready.startswith("ready:"):
            raise SensorError(f"the emulated device did not start: {ready.strip()}")
        name = ready.split("'")[1]
        wearable = BleWearable(name, scan_s=5.0)
        source = BleSource(wearable)
        stop = asyncio.Event()
        t0 = time.monotonic()

        async def stop_later() -> None:
            while wearable.state != "streaming":
                await asyncio.sleep(0.05)
            nonlocal t0
            t0 = time.monotonic()
            await asyncio.sleep(step_s)
            stop.set()

        timer = asyncio.create_task(stop_later())
        stats = await monitor(
            source,
            lambda _kind: DetectorConfig(),
            None,
            PlainView(io.StringIO()),
            settings=Settings(),
            location_of=lambda _name: "left calf",
            stop=stop,
        )
        await timer
        wall = time.monotonic() - t0
    finally:
        emu.terminate()
        emu.communicate(timeout=30)
    return {
        "speed": speed,
        "offered_per_s": speed * FRAMES_PER_S_AT_1X,
        "received_per_s": stats.frames / wall,
        "lost": float(stats.lost_frames + stats.overflows + stats.decode_errors),
    }


def _baseline() -> float:
    """Notifications per second the decoder alone takes, the same frames in memory (no BLE)."""
    sim = SimulatedWearable(SimConfig(seconds=600.0, seed=1, fs_hz=1000.0))
    frames = list(sim.frames())
    dec = OpenFrameDecoder()
    t0 = time.perf_counter()
    for i, payload in enumerate(frames):
        dec.push(payload, i)
    return len(frames) / (time.perf_counter() - t0)


def run(
    say: Callable[[str], None], speeds: Sequence[float] = SPEEDS, step_s: float = STEP_S
) -> dict[str, object]:
    """Every step's numbers and the highest rate received with no loss."""
    bus = PrivateBus()
    steps = []
    before = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address  # bleak's system bus: ours
    try:
        for speed in speeds:
            r = asyncio.run(_step(bus.address, speed, step_s))
            steps.append(r)
            say(
                f"offered {r['offered_per_s']:.0f} notifications/s: received "
                f"{r['received_per_s']:.0f}/s, lost {r['lost']:.0f}"
            )
    finally:
        bus.close()
        if before is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = before
    clean = [r["received_per_s"] for r in steps if r["lost"] == 0]
    baseline = _baseline()
    return {
        "steps": steps,
        "max_lossless_per_s": max(clean) if clean else 0.0,
        "baseline_per_s": baseline,
    }
