"""End to end over BLE: emulated BlueZ on a private D-Bus -> unmodified bleak -> decoder ->
detector -> SQLite, for each profile, with the link dropped in the middle of a spasm.

Nothing in bleak is patched: ``spasmwatch monitor --device`` runs as a user runs it, with
``DBUS_SYSTEM_BUS_ADDRESS`` pointing at a bus this module starts, where ``spasmwatch emulate``
plays the wearable (driven by the simulated wearable and the profile's encoder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_tool, query

from sensor.emulator import PrivateBus
from sensor.simulate import SimConfig, SimulatedWearable, TruthEpisode
from spasmwatch.emulate import SIGNALS

#: The emulated devices stream this much faster than real time (the link loss scales too).
#: Not the Myo: it has no clock, so its losses are sized by arrival times, which only a
#: device streaming in real time gets right.
SPEEDS = {"open-frame": 2.0, "polar-acc": 2.0, "polar-acc-compressed": 2.0, "myo-emg": 1.0}
DROP_FOR_S = 3.0
#: Percent per hour: the battery is full at the first connection and empty by the reconnect,
#: so the level must have been read from the device (frames or the battery service).
BATTERY_DRAIN = 30_000


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    need_tool("dbus-daemon", "Debian: apt-get install dbus")
    b = PrivateBus()
    try:
        yield b.address
    finally:
        b.close()


def env(address: str) -> dict[str, str]:
    return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address, "PYTHONWARNINGS": "error"}


def spasmwatch(address: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spasmwatch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(address),
    )


def plan(profile: str, seconds: float) -> tuple[int, TruthEpisode, float, TruthEpisode]:
    """A seed whose simulation has a spasm long enough to drop the link in its middle, and a
    later one after the link is back: (seed, first, drop at s, later)."""
    for seed in range(100, 400):
        sim = SimulatedWearable(SimConfig(**SIGNALS[profile], seconds=seconds, seed=seed))
        eps = sorted(sim.truth, key=lambda e: e.start)
        first = next((e for e in eps if 5.0 <= e.start <= 12.0 and e.duration >= 5.0), None)
        if first is None:
            continue
        drop = first.start + 2.0
        later = next(
            (
                e
                for e in eps
                if e.start >= drop + DROP_FOR_S + 6.0
                and e.start + e.duration <= seconds - 4.0
                and e.duration >= 2.0
            ),
            None,
        )
        if later is not None:
            return seed, first, drop, later
    raise AssertionError(f"no seed fits the plan for {profile}")


def run_emulator(
    address: str, profile: str, seed: int, seconds: float, drop: float, *more: str
) -> tuple[subprocess.Popen[str], str]:
    emu = spasmwatch(
        address, "emulate", "--bus", address, "--profile", profile, "--seed", str(seed),
        "--seconds", str(seconds), "--speed", str(SPEEDS[profile]),
        "--lose-link", f"{drop}:{DROP_FOR_S}", "--battery-drain", str(BATTERY_DRAIN), *more,
    )  # fmt: skip
    assert emu.stdout is not None
    ready = emu.stdout.readline()
    assert ready.startswith("ready:"), ready + (emu.stderr.read() if emu.stderr else "")
    name = ready.split("'")[1]
    return emu, name


@pytest.mark.parametrize("profile", ["open-frame", "polar-acc", "polar-acc-compressed", "myo-emg"])
def test_a_spasm_through_bluez_and_bleak_reaches_the_log_and_survives_a_link_drop(
    bus: str, tmp_path: Path, profile: str
) -> None:
    seconds = 36.0
    seed, first, drop, later = plan(profile, seconds)
    emu, name = run_emulator(bus, profile, seed, seconds, drop)
    try:
        # Scan: the device is heard, with the profile that fits it.
        scan = subprocess.run(
            [sys.executable, "-m", "spasmwatch", "scan", "--seconds", "1.5", "--json"],
            capture_output=True, text=True, env=env(bus), timeout=60, check=False,
        )  # fmt: skip
        assert scan.returncode == 0, scan.stderr
        heard = [json.loads(line) for line in scan.stdout.splitlines()]
        expected = "polar-acc" if profile.startswith("polar") else profile
        assert [(d["name"], d["profile"]) for d in heard] == [(name, expected)]

        db = tmp_path / "log.db"
        mon = spasmwatch(
            bus, "monitor", "--device", name, "--db", str(db), "--no-record",
            "--location", "left calf", "--seconds", str(seconds / SPEEDS[profile] + 4),
        )  # fmt: skip
        out, err = mon.communicate(timeout=seconds / SPEEDS[profile] + 60)
    finally:
        emu.terminate()
        emu.communicate(timeout=30)
    assert mon.returncode == 0, err
    assert "sensor disconnected" in out
    assert "sensor back" in out

    fs = float(query(db, "SELECT fs_hz FROM sessions")[0][0])  # type: ignore[arg-type]
    device = str(query(db, "SELECT device FROM sessions")[0][0])
    assert name in device
    assert expected in device
    rows = query(db, "SELECT onset_index, offset_index, state FROM episodes ORDER BY onset_index")
    spans = [(int(a) / fs, int(b) / fs, st) for a, b, st in rows]  # type: ignore[call-overload]

    # The spasm in progress when the link dropped was closed as interrupted, at the drop.
    cut = [s for s in spans if s[2] == "interrupted" and s[0] < drop < s[1] + 0.5]
    assert cut, f"no interrupted episode at the drop ({drop:.1f} s): {spans}"
    assert abs(cut[0][0] - first.start) < 1.0
    # The gap is in the log as signal lost, as long as the device says it was away (the open
    # frame and Polar carry device time; the Myo's is sized by arrival times).
    lost = query(db, "SELECT reason, duration_s, end_utc FROM signal_lost WHERE reason = 'link'")
    assert len(lost) == 1
    assert lost[0][2] is not None
    assert float(lost[0][1]) >= DROP_FOR_S - 0.3  # type: ignore[arg-type]
    # Streaming resumed and the next spasm was logged whole.
    after = [s for s in spans if s[2] == "ended" and abs(s[0] - later.start) < 1.0]
    assert after, f"the spasm at {later.start:.1f} s after the reconnect is missing: {spans}"
    # The battery level came from the device and raised the alert.
    alerts = query(db, "SELECT kind, message FROM alerts WHERE kind = 'low_battery'")
    assert len(alerts) == 1
    assert int(str(alerts[0][1]).split(": ")[1].rstrip(" %")) < 15
    # The detector never bridged the gap: no episode spans it.
    gap_from = drop
    assert not [s for s in spans if s[0] < gap_from and s[1] > gap_from + DROP_FOR_S]


def test_no_bluetooth_and_a_missing_device_are_one_clear_line(bus: str, tmp_path: Path) -> None:
    def monitor(device: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "spasmwatch", "monitor", "--device", device,
             "--db", str(tmp_path / "log.db")],
            capture_output=True, text=True, env=env(bus), timeout=60, check=False,
        )  # fmt: skip

    # No BlueZ on the bus at all.
    done = monitor("nobody")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "Bluetooth is not available" in done.stderr
    # BlueZ there, but no such device in range.
    emu, _ = run_emulator(bus, "open-frame", 1, 30.0, 100.0, "--bystander")
    try:
        listed = {}
        for flags in ((), ("--all",)):
            scan = subprocess.run(
                [sys.executable, "-m", "spasmwatch", "scan", "--seconds", "1", *flags],
                capture_output=True, text=True, env=env(bus), timeout=60, check=False,
            )  # fmt: skip
            listed[flags] = scan.stdout
        done = monitor("nobody")
    finally:
        emu.terminate()
        emu.communicate(timeout=30)
    assert done.returncode == 1
    assert "no Bluetooth device named or addressed 'nobody'" in done.stderr
    assert not query(tmp_path / "log.db", "SELECT * FROM sessions")
    # Scanning lists the wearable; --all also the device spasmwatch cannot use.
    assert "spasmwatch-emg" in listed[()]
    assert "Headphones" not in listed[()]
    assert "Headphones" in listed[("--all",)]


def test_bench_ble_counts_what_arrives_and_what_is_lost(bus: str) -> None:
    from spasmwatch import bench_ble

    lines: list[str] = []
    r = bench_ble.run(lines.append, speeds=(10, 50), step_s=2.0)
    steps = r["steps"]
    assert isinstance(steps, list)
    assert [s["offered_per_s"] for s in steps] == [200, 1000]
    for s in steps:
        assert s["lost"] == 0
        assert s["received_per_s"] == pytest.approx(s["offered_per_s"], rel=0.25)
    assert r["max_lossless_per_s"] == max(s["received_per_s"] for s in steps)
    assert len(lines) == 2


def test_a_device_that_stops_sending_is_reconnected_by_the_watchdog(
    bus: str, tmp_path: Path
) -> None:
    emu = spasmwatch(
        bus, "emulate", "--bus", bus, "--profile", "open-frame", "--seed", "5",
        "--seconds", "40", "--stall", "3:10",
    )  # fmt: skip
    assert emu.stdout is not None
    ready = emu.stdout.readline()
    assert ready.startswith("ready:"), ready
    name = ready.split("'")[1]
    db = tmp_path / "log.db"
    try:
        mon = spasmwatch(
            bus, "monitor", "--device", name, "--db", str(db), "--no-record", "--seconds", "22"
        )
        out, err = mon.communicate(timeout=90)
    finally:
        emu.terminate()
        emu.communicate(timeout=30)
    assert mon.returncode == 0, err
    assert "no data from spasmwatch-emg for 8 s: reconnecting" in err
    assert "sensor back" in out
    # The stall is in the log as a lost link, closed once the stream was started again.
    lost = query(db, "SELECT duration_s FROM signal_lost WHERE reason = 'link'")
    assert len(lost) == 1
    assert float(lost[0][0]) >= 8.0  # type: ignore[arg-type]


def test_ctrl_c_during_a_spasm_over_ble_keeps_it_and_ends_the_session(
    bus: str, tmp_path: Path
) -> None:
    import signal

    from conftest import wait_for

    seed, first, _drop, _later = plan("open-frame", 36.0)
    emu, name = run_emulator(bus, "open-frame", seed, 36.0, 1000.0)
    db = tmp_path / "log.db"
    try:
        mon = spasmwatch(bus, "monitor", "--device", name, "--db", str(db), "--no-record")
        wait_for(
            lambda: query(db, "SELECT id FROM episodes WHERE state = 'open'"),
            first.start / SPEEDS["open-frame"] + 30,
            "a spasm confirmed over BLE",
        )
        mon.send_signal(signal.SIGINT)
        out, err = mon.communicate(timeout=60)
    finally:
        emu.terminate()
        emu.communicate(timeout=30)
    assert mon.returncode == 0, err
    assert "Stopped after" in out
    assert query(db, "SELECT state FROM sessions") == [("ended",)]
    states = [r[0] for r in query(db, "SELECT state FROM episodes ORDER BY id")]
    assert states[-1] == "interrupted"  # the spasm in progress, kept and closed
    assert "open" not in states
