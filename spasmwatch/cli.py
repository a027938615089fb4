"""The ``spasmwatch`` command.

Exit codes: 0 success, 1 failure (a clear one-line message), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from detect.config import DetectorConfig, preset
from detect.heart import heart_note
from detect.pipeline import Pipeline
from episodes.log import EpisodeLog, default_db_path
from episodes.resilient import ResilientLog
from episodes.summary import SpasmTally
from replay.csvio import CsvWriter, cut_warning
from replay.run import NoSignal, NoSignalWatch, Recording, Selected, open_recording, paced, run
from replay.timefmt import parse_time
from sensor.ble import PROFILES, BleWearable, scan
from sensor.block import ACC, EMG, Block
from sensor.errors import SpasmwatchError
from sensor.frame import FrameAssembler, decode_frame
from sensor.meta import package_version
from sensor.simulate import SimConfig, SimulatedWearable
from spasmwatch.emulate import add_command as add_emulate
from spasmwatch.monitor import BleSource, MonitorStats, SimulatedSource, monitor
from spasmwatch.recorder import Recorder, default_path, tidy
from spasmwatch.review import add_commands, db_path, review
from spasmwatch.settings import EXAMPLE, Settings, SettingsError, default_config_path, load, to_toml
from spasmwatch.view import LiveView, PlainView, View, describe, duration_text

#: Without --seconds the simulated wearable runs until Ctrl-C, at most this long.
SIMULATE_FOREVER_S = 24 * 3600.0
DEFAULT_FS = {EMG: 1000.0, ACC: 50.0}


class UsageError(Exception):
    """Wrong use of the command (exit 2)."""


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date or date-time: {text!r}") from None


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"names must be unique and not empty: {text!r}")
    return names


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return v


def _detector(args: argparse.Namespace, signal: str) -> DetectorConfig:
    try:
        return preset(getattr(args, "preset", "default"), signal)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- monitor ---------------------------------------------------------------------------------


def _settings(args: argparse.Namespace, *, always: bool) -> Settings:
    """The config file's settings: the default file when ``always``, else only ``--config``."""
    path = Path(args.config) if getattr(args, "config", None) else None
    if path is None and not always:
        return Settings()
    settings, _ = load(path, required=path is not None)
    return settings


def _today(db: EpisodeLog) -> SpasmTally:
    """Today's spasms per location in the log so far."""
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    tally = SpasmTally()
    for row in db.episodes(since=midnight):
        if row.state != "open":
            start = parse_time(row.start_utc)
            tally.add(row.location, start, start + timedelta(seconds=row.duration_s or 0.0))
    return tally


def _lose_link(text: str) -> tuple[float, float]:
    try:
        at, length = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected AT:FOR in seconds of signal, e.g. 120:10, got {text!r}"
        ) from None
    if at < 0 or length <= 0:
        raise argparse.ArgumentTypeError(f"AT must be >= 0 and FOR > 0, got {text!r}")
    return at, length


def cmd_monitor(args: argparse.Namespace) -> int:
    if bool(args.simulate) == bool(args.device):
        raise UsageError(
            "say which sensor to use: --simulate runs the simulated wearable, "
            "--device NAME_OR_ADDRESS a Bluetooth one (spasmwatch scan lists them)"
        )
    settings = _settings(args, always=True)
    db = Path(args.db).expanduser() if args.db else settings.paths.db or default_db_path()
    db = Path(db).expanduser()
    source: SimulatedSource | BleSource
    if args.simulate:
        fs = args.fs or DEFAULT_FS[args.signal]
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
        first = "ch1" if args.signal == EMG else "acc"
        site = args.location or settings.location(first, "left calf")
        sim = SimulatedWearable(
            _sim_config(args, fs, seed, args.seconds or SIMULATE_FOREVER_S, site)
        )
        kind = "sEMG" if args.signal == EMG else "accelerometer"
        n = len(sim.sensor_names)
        sites = sorted({args.location or settings.location(c, site) for c in sim.sensor_names})
        header = (
            f"spasmwatch {package_version()}: watching the simulated wearable "
            f"({kind}, {n} channel{'s' if n > 1 else ''} at {fs:g} Hz, {', '.join(sites)}, "
            f"seed {seed}{f', {args.speed:g}x speed' if args.speed != 1 else ''})"
        )
        source = SimulatedSource(sim, args.speed, args.lose_link or ())
        recording = f"spasmwatch_{package_version()} simulated seed {seed}"
        tag = "simulated"
    else:
        site = args.location or "unspecified"
        queue_note = "" if args.location else " (say where it is worn with --location)"
        header = (
            f"spasmwatch {package_version()}: watching {args.device} over Bluetooth"
            f"{f' ({args.profile})' if args.profile else ''}{queue_note}"
        )
        source = BleSource(BleWearable(args.device, profile=args.profile))
        recording = f"spasmwatch_{package_version()} {args.device}"
        tag = "ble"

    def location_of(name: str) -> str:
        return args.location or settings.location(name, site)

    until = (
        f"for {args.seconds:g} s of signal"
        if args.seconds and args.simulate
        else "until you press Ctrl-C"
    )
    with EpisodeLog(db) as episode_log:
        today = _today(episode_log)
        view: View
        if sys.stdout.isatty():
            view = LiveView(header)
        else:
            view = PlainView(sys.stdout)
            view.say(f"{header}.")
        view.say(f"Episodes are logged to {db}. Running {until}.")
        writer = ResilientLog(episode_log, lambda text: view.say(f"warning: {text}"))
        folder = db.parent / "recordings"
        if not args.no_record:
            for line in tidy(folder, settings.recording.keep_days, datetime.now().astimezone()):
                view.say(line)

        def make_recorder(first: Block, start: datetime) -> Recorder | None:
            if args.no_record:
                return None
            path = Path(args.record) if args.record else default_path(folder, start, tag)
            view.say(f"Raw signal recorded to {path}.")
            return Recorder(
                path,
                first,
                start,
                locations={c: location_of(c) for c in first.channels},
                patient=settings.patient,
                recording=recording,
                warn=lambda text: view.say(f"warning: {text}"),
            )

        stop_at = args.seconds if (args.seconds and args.device) else None

        async def go() -> MonitorStats:
            stop = asyncio.Event()
            if stop_at is not None:
                asyncio.get_running_loop().call_later(stop_at, stop.set)
            return await monitor(
                source,
                lambda kind: settings.detector.build("acc" if kind == ACC else "emg"),
                writer,
                view,
                settings=settings,
                location_of=location_of,
                today=today,
                stop=stop,
                recorder_factory=make_recorder,
            )

        stats = asyncio.run(go())
    how = "Stopped" if stats.stopped else "Finished"
    n_ep = len(stats.episodes)
    print(
        f"{how} after {duration_text(stats.seconds)} of signal: {n_ep} episode{'s' if n_ep != 1 else ''}"
        f" logged, {stats.alerts} alert{'s' if stats.alerts != 1 else ''}"
        f" (lost frames: {stats.lost_frames}, unreadable frames: {stats.decode_errors},"
        f" dropped by a full queue: {stats.overflows}, link lost: {stats.link_losses}x).",
        flush=True,
    )
    if stats.unsaved:
        print(
            f"warning: {stats.unsaved} item(s) could not be written to {db}; they are kept in "
            f"{writer.fallback}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    found = asyncio.run(scan(args.seconds))
    usable = [f for f in found if args.all or f.profile]
    if args.json:
        for f in usable:
            print(json.dumps(f.as_dict()))
        return 0
    if not usable:
        others = len(found) - len(usable)
        print(
            f"No wearable spasmwatch can use was heard in {args.seconds:g} s"
            + (
                f" ({others} other device{'s' if others != 1 else ''}: --all lists them)."
                if others
                else "."
            )
        )
        return 0
    print(f"{'name':<24} {'address':<18} {'RSSI':>5}  profile")
    for f in usable:
        print(f"{f.name or '(no name)':<24} {f.address:<18} {f.rssi:>5}  {f.profile or '-'}")
    return 0


def _sim_config(
    args: argparse.Namespace, fs: float, seed: int, seconds: float, location: str
) -> SimConfig:
    try:
        return SimConfig(
            signal=args.signal,
            fs_hz=fs,
            channels=args.channels,
            seconds=seconds,
            seed=seed,
            snr_db=getattr(args, "snr_db", 20.0),
            mains_hz=getattr(args, "mains_hz", 50),
            location=location,
            drop_fraction=getattr(args, "drop_packets", 0.0),
            battery_drain_per_h=getattr(args, "battery_drain", 0.0),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        names = {"fs_hz": "--fs", "channels": "--channels", "snr_db": "--snr-db", "seconds": "--seconds",
                 "drop_fraction": "--drop-packets", "battery_drain_per_h": "--battery-drain"}  # fmt: skip
        where = ", ".join(names.get(str(p), str(p)) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        raise UsageError(f"{where}: {message}" if where else message) from None


# -- simulate --------------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    fs = args.fs or DEFAULT_FS[args.signal]
    sim = SimulatedWearable(_sim_config(args, fs, args.seed, args.seconds, args.location))
    out = Path(args.out)
    start = args.start or datetime.now().astimezone()
    writer = CsvWriter(
        out,
        sim.channels,
        fs,
        start,
        sim.units,
        comments={
            "source": f"spasmwatch {package_version()} simulate, seed {args.seed}",
            "signal": args.signal,
            "location": args.location,
        },
    )
    assembler = FrameAssembler(sim.channels)
    try:
        for payload in sim.frames():
            for block in assembler.push(decode_frame(payload)):
                writer.write(block)
    finally:
        writer.close()
    truth_path = out.with_suffix(".truth.json")
    from replay.files import open_private

    with open_private(truth_path) as fh:
        json.dump([e.as_dict() for e in sim.truth], fh, indent=1)
        fh.write("\n")
    print(
        f"wrote {out} ({args.seconds:g} s, {len(sim.truth)} episodes) and {truth_path}",
        file=sys.stderr,
    )
    return 0


# -- replay ----------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    recording = open_recording(args.file, args.signal, args.channels, args.fs)
    try:
        return _replay(args, recording)
    finally:
        recording.close()  # also when the settings or the detector refuse this recording


def _replay(args: argparse.Namespace, recording: Recording | Selected) -> int:
    info = recording.info
    if getattr(recording, "damaged", False):
        print(
            f"warning: {args.file} was cut short (its writer stopped); replaying up to its last "
            f"whole record. 'spasmwatch repair {args.file}' makes it whole for other tools.",
            file=sys.stderr,
        )
    left_out = getattr(recording, "left_out", ())
    if left_out:
        print(
            f"note: replaying the sEMG signals {', '.join(info.channels)}; left out "
            f"{', '.join(left_out)} (choose others with --channels)",
            file=sys.stderr,
        )
    labels = getattr(recording, "label_columns", ())
    if labels:
        print(
            f"note: {', '.join(labels)} {'holds' if len(labels) == 1 else 'hold'} the "
            "recording's labels, not a signal: left out",
            file=sys.stderr,
        )
    start = args.start or info.start
    if args.db and start is None:
        raise UsageError(
            f"{args.file} does not say when it started: give --start (ISO-8601) to log its episodes"
        )
    settings = _settings(args, always=False)
    config = (
        settings.detector.build(args.signal)
        if args.preset is None
        else _detector(args, args.signal)
    )
    # (A CSV timed in milliseconds is asked about when it is read: ``replay.csvio``.)
    columns = Pipeline(config, info.fs, info.channels, info.units).channels

    def recorded(cols: tuple[int, ...]) -> str | None:
        """Where the recording says these columns were worn."""
        names = [info.channels[i] for i in cols]
        return next((info.locations[n] for n in names if n in info.locations), None)

    # Where the user says, else where the recording says, else the settings' placements.
    locations = {
        c.name: args.location or recorded(c.columns) or settings.location(c.name) for c in columns
    }
    pipeline = Pipeline(config, info.fs, info.channels, info.units, locations)
    episode_log = EpisodeLog(args.db) if args.db else None
    session_id = None
    count = 0
    try:
        if episode_log is not None:
            assert start is not None
            session_id = episode_log.start_session(
                patient=settings.patient,
                source=f"replay:{Path(args.file).name}",
                signal=args.signal,
                fs=info.fs,
                started_at=start,
                locations={c.name: c.location for c in pipeline.channels},
                config=config.model_dump(mode="json"),
                version=package_version(),
            )
        samples = 0
        watch = NoSignalWatch(pipeline)
        pending: list[NoSignal] = []
        gone: list[NoSignal] = []

        def counted(blocks: Iterator[Block]) -> Iterator[Block]:
            nonlocal samples
            for b in blocks:
                samples = b.stop_index
                pending.extend(watch.process(b))
                yield b

        def say_gone() -> None:
            # Stretches without signal, where the monitor would have logged them: so that
            # "no spasms" there is never read as "no spasms happened".
            for s in pending:
                gone.append(s)
                if episode_log is not None and session_id is not None and start is not None:
                    episode_log.signal_lost(
                        session_id,
                        start + timedelta(seconds=s.start_s),
                        start + timedelta(seconds=s.start_s + s.duration_s),
                        s.reason,
                        channel=s.channel,
                        samples=s.samples,
                    )
                if not args.json:
                    end = s.start_s + s.duration_s
                    line = f"{s.start_s:9.2f} s - {end:9.2f} s  {_no_signal(s, locations)}"
                    print(line, flush=True)
            pending.clear()

        source = recording.blocks() if args.speed is None else paced(recording.blocks(), args.speed)
        for ev in run(pipeline, counted(source)):
            say_gone()
            if episode_log is not None and session_id is not None and start is not None:
                episode_log.record(session_id, start, ev)
            if ev.state == "open":
                continue
            count += 1
            if args.json:
                print(json.dumps(ev.as_dict()), flush=True)
            else:
                print(f"{ev.start_s:9.2f} s - {ev.end_s or 0:9.2f} s  {describe(ev)}", flush=True)
        pending.extend(watch.flush())
        say_gone()
        if episode_log is not None and session_id is not None and start is not None:
            episode_log.end_session(session_id, start + timedelta(seconds=samples / info.fs))
    finally:
        if episode_log is not None:
            episode_log.close()
    cut = getattr(recording, "cut", None)
    if cut is not None:
        print(f"warning: {cut_warning(cut)}", file=sys.stderr)
    if not args.json:
        for name, rate in pipeline.heart_rates.items():
            print(f"note: {heart_note(name, rate)}", file=sys.stderr)
        summary = f"{count} episode{'s' if count != 1 else ''} in {args.file}"
        if gone:
            n = len(gone)
            summary += f"; {n} stretch{'es' if n != 1 else ''} without usable signal (above)"
        print(summary, file=sys.stderr)
    return 0


def _no_signal(s: NoSignal, locations: dict[str, str]) -> str:
    """One line about a stretch without usable signal."""
    if s.reason == "packets":
        return (
            f"no signal       every channel: {s.samples} sample{'s' if s.samples != 1 else ''} lost"
        )
    where = f"{locations.get(s.channel or '', 'unspecified')} ({s.channel})"
    return f"no signal       {where}: flat for {s.duration_s:.1f} s (electrode off?)"


# -- episodes --------------------------------------------------------------------------------


def cmd_episodes(args: argparse.Namespace) -> int:
    if args.confirm or args.reject:
        return review(args)
    db = db_path(args)
    if not db.exists():
        raise SpasmwatchError(f"{db}: no episode log here yet (run spasmwatch monitor first)")
    with EpisodeLog(db) as episode_log:
        rows = episode_log.episodes(since=args.since)
    if args.json:
        for row in rows:
            print(json.dumps(row.as_dict()))
        return 0
    if not rows:
        print(
            "No episodes logged"
            + (f" since {args.since.astimezone():%Y-%m-%d %H:%M}." if args.since else ".")
        )
        return 0
    zone = datetime.now().astimezone().tzname()
    print(
        f"{'start (' + str(zone) + ')':<21} {'duration':>9}  {'type':<8} {'peak':>14}  {'state':<11} where"
    )
    for r in rows:
        start = parse_time(r.start_utc).astimezone()
        duration = f"{r.duration_s:.1f} s" if r.duration_s is not None else "open"
        peak = f"{r.peak:.3g} {r.units}" if r.peak is not None else "-"
        print(
            f"{start:%Y-%m-%d %H:%M:%S}   {duration:>9}  {r.type:<8} {peak:>14}  {r.state:<11} "
            f"{r.channel} ({r.location})"
        )
    print(f"{len(rows)} episode{'s' if len(rows) != 1 else ''}")
    return 0


# -- repair ----------------------------------------------------------------------------------


def cmd_repair(args: argparse.Namespace) -> int:
    from replay.bdf import repair

    for name in args.files:
        n = repair(name)
        print(f"{name}: {n} whole record{'s' if n != 1 else ''}; the header now says so")
    return 0


# -- bench -----------------------------------------------------------------------------------


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "speed":
        return bench_speed(args)
    if args.what == "ble":
        return bench_ble(args)
    from replay import bench

    results: list[bench.Result] = []
    methods = [] if args.no_baselines else list(bench.BASELINES)
    cases = bench.study() if args.study else bench.suite(quick=args.quick)
    which = "the study set" if args.study else "the suite"
    versions = bench.baseline_versions() if methods else {}
    if versions and not args.json:
        # The baselines' numbers are those of the versions installed: the table says which.
        named = (f"{n} {v or 'not installed'}" for n, v in versions.items())
        print(f"baselines: {', '.join(named)}", flush=True)
    for case in cases:
        if not args.json:
            duration = case.block.n_samples / case.block.fs
            length = f"{duration / 60:.0f} min" if duration >= 90 else f"{duration:.0f} s"
            print(f"{case.name}: {case.what} ({length})", flush=True)
        for r in [bench.run_ours(case)] + [bench.run_baseline(m, case) for m in methods]:
            results.append(r)
            print(bench.as_json(r) if args.json else bench.table_row(r), flush=True)
    ours = [r for r in results if r.method == "spasmwatch"]
    scored = [r for r in ours if r.f1 is not None]
    f1 = [r.f1 for r in scored if r.f1 is not None]
    onset = [r.onset_med_ms for r in scored if r.onset_med_ms is not None]
    false = [r.false_per_h for r in scored if r.false_per_h is not None]
    types = [r.type_pct for r in scored if r.type_pct is not None]
    latency = [r.latency_med_ms for r in scored if r.latency_med_ms is not None]
    summary: dict[str, object] = {
        "mean_f1": sum(f1) / len(f1) if f1 else None,
        "min_f1": min(f1) if f1 else None,
        "onset_median_ms": sorted(onset)[len(onset) // 2] if onset else None,
        "max_false_per_h": max(false) if false else None,
        "type_agreement_pct": sum(types) / len(types) if types else None,
        "latency_median_ms": sorted(latency)[len(latency) // 2] if latency else None,
    }
    counts = {r.case: (r.detected, r.expected) for r in ours if r.f1 is None}
    if args.json:
        print(json.dumps({"summary": summary, "counts": counts, "baselines": versions}))
        return 0

    def show(key: str, spec: str) -> str:
        v = summary[key]
        return "-" if not isinstance(v, int | float) else format(v, spec)

    print(
        f"spasmwatch over {which}: mean F1 {show('mean_f1', '.3f')} (lowest {show('min_f1', '.3f')}), "
        f"onset error median {show('onset_median_ms', '.0f')} ms (median of the cases' medians), "
        f"false episodes up to {show('max_false_per_h', '.1f')}/h, type agreement "
        f"{show('type_agreement_pct', '.0f')} %, live latency median {show('latency_median_ms', '.0f')} ms"
    )
    for name, (n, expected) in counts.items():
        print(f"{name}: {n} detected, {expected} expected")
    return 0


def bench_ble(args: argparse.Namespace) -> int:
    from spasmwatch import bench_ble as ble

    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    try:
        r = ble.run(say=say)
    except FileNotFoundError as exc:
        raise SpasmwatchError(str(exc)) from None
    if args.json:
        print(json.dumps(r))
        return 0
    print(
        f"BLE path (emulated BlueZ -> bleak -> decoder -> detector): up to "
        f"{r['max_lossless_per_s']:.0f} notifications/s with none lost; the decoder alone on "
        f"the same frames in memory: {r['baseline_per_s']:.0f}/s"
    )
    return 0


def bench_speed(args: argparse.Namespace) -> int:
    from replay import speed

    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    r = speed.run(say=say)
    if args.json:
        print(json.dumps({k: round(v, 3) for k, v in r.items() if k != "bandpass_samples_per_s"}))
        return 0
    print(
        f"replay from disk: {r['samples_per_s'] / 1e6:.1f} M samples/s ({r['realtime_factor']:.0f}x real time "
        f"for 8 channels at 2 kHz); bare band-pass on the same samples: "
        f"{r['bandpass_samples_per_s'] / 1e6:.1f} M samples/s; ratio {r['ratio_to_bandpass']:.2f} (target >= 0.2; "
        f">= 30 M samples/s)"
    )
    print(
        f"peak memory: {r['peak_rss_mb']:.0f} MB for 1 h, {r['peak_rss_mb_short']:.0f} MB for 10 min "
        f"(ratio {r['peak_rss_mb'] / r['peak_rss_mb_short']:.2f}, target <= 1.5)"
    )
    print(
        f"live: {r['live_block_us']:.0f} us per 25 ms block of 8 channels at 2 kHz; bare band-pass "
        f"{r['live_block_bandpass_us']:.0f} us (ratio {r['live_block_us'] / r['live_block_bandpass_us']:.1f}, "
        f"target <= 3)"
    )
    same = "the same episodes" if r["whole_call_same_episodes"] else "DIFFERENT episodes"
    print(
        f"one detect() call over a whole recording: {r['whole_call_samples_per_s'] / 1e6:.1f} M samples/s "
        f"for 10 min beside {r['quarter_call_samples_per_s'] / 1e6:.1f} M for its first 2.5 min (ratio "
        f"{r['whole_call_samples_per_s'] / r['quarter_call_samples_per_s']:.2f}, target >= 0.67: the cost "
        f"must grow with the length, not faster), {same} as block by block"
    )
    return 0


# -- config ----------------------------------------------------------------------------------


def cmd_config(args: argparse.Namespace) -> int:
    if args.action == "check":
        path = Path(args.file) if args.file else None
        settings, source = load(path, required=path is not None)
        if source is None:
            print(f"{default_config_path()}: no config file; the defaults apply")
        else:
            print(f"{source}: ok")
        return 0
    if args.action == "example":
        print(EXAMPLE, end="")
        return 0
    path = Path(args.config) if args.config else None
    settings, source = load(path, required=path is not None)
    print(f"# effective settings ({source or 'no config file: defaults'})")
    print(to_toml(settings.model_dump(mode="json")), end="")
    return 0


# -- parser ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="spasmwatch",
        description="Catch muscle spasms with a wearable sensor. Not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"spasmwatch {package_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens inside")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def signal_args(p: argparse.ArgumentParser, location: str | None, shown: str) -> None:
        p.add_argument(
            "--signal", choices=[EMG, ACC], default=EMG, help="sEMG (uV) or accelerometer (g)"
        )
        p.add_argument(
            "--location", default=location, help=f"body location of every channel ({shown})"
        )

    def sim_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--fs", type=_positive, help="sampling rate, Hz (default 1000 for emg, 50 for acc)"
        )
        p.add_argument(
            "--channels", type=int, default=1, help="sEMG channels or 3-axis sensors (default 1)"
        )

    m = sub.add_parser("monitor", help="watch a sensor live and log every episode")
    m.add_argument("--simulate", action="store_true", help="use the simulated wearable")
    m.add_argument("--device", metavar="NAME_OR_ADDRESS", help="a Bluetooth wearable")
    m.add_argument(
        "--profile",
        choices=PROFILES,
        help="how the wearable talks (default: from what it advertises)",
    )
    m.add_argument(
        "--seconds", type=_positive, help="stop after this much signal (default: until Ctrl-C)"
    )
    m.add_argument(
        "--speed", type=_positive, default=1.0, help="play the simulation faster (default 1)"
    )
    m.add_argument("--seed", type=int, help="seed of the simulation (default: random, printed)")
    signal_args(m, None, "default: the config file's placements, else left calf")
    sim_args(m)
    m.add_argument("--db", help=f"episode log (default {default_db_path()})")
    m.add_argument("--config", help=f"settings file (default {default_config_path()})")
    m.add_argument(
        "--record", metavar="FILE.bdf", help="record the raw signal here (default: beside the log)"
    )
    m.add_argument("--no-record", action="store_true", help="do not record the raw signal")
    m.add_argument(
        "--drop-packets", type=float, default=0.0, metavar="FRACTION", help="simulate a lossy link"
    )
    m.add_argument(
        "--battery-drain",
        type=float,
        default=0.0,
        metavar="PCT_PER_H",
        help="simulate a draining battery",
    )
    m.add_argument(
        "--lose-link",
        type=_lose_link,
        action="append",
        metavar="AT:FOR",
        help="simulate the link dropping at AT s of signal for FOR s (repeatable)",
    )
    m.set_defaults(func=cmd_monitor)

    sc = sub.add_parser("scan", help="list nearby Bluetooth wearables spasmwatch can use")
    sc.add_argument("--seconds", type=_positive, default=5.0, help="how long to listen (default 5)")
    sc.add_argument("--all", action="store_true", help="also list devices spasmwatch cannot use")
    sc.add_argument("--json", action="store_true", help="one JSON object per device per line")
    sc.set_defaults(func=cmd_scan)

    s = sub.add_parser("simulate", help="write a simulated recording (CSV) and its ground truth")
    s.add_argument("--out", required=True, help="the CSV file; the truth goes to FILE.truth.json")
    s.add_argument("--seconds", type=_positive, default=60.0, help="length (default 60)")
    s.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    s.add_argument(
        "--snr-db", type=float, default=20.0, help="spasm strength over rest, dB (default 20)"
    )
    s.add_argument(
        "--mains-hz", type=int, choices=[50, 60], default=50, help="mains hum (default 50)"
    )
    s.add_argument("--start", type=_time, help="wall-clock start written to the file (default now)")
    signal_args(s, "left calf", "default: left calf")
    sim_args(s)
    s.set_defaults(func=cmd_simulate)

    r = sub.add_parser("replay", help="run a recording through the live pipeline")
    r.add_argument("file", help="a recording (.csv, .edf or .bdf)")
    signal_args(r, None, "default: --config placements, else unspecified")
    r.add_argument("--start", type=_time, help="wall-clock start when the file does not say")
    r.add_argument(
        "--channels",
        type=_names,
        help="the signals to replay, by name, comma-separated (default: all; from an EDF or "
        "BDF, its sEMG signals: by label, as EDF+ types them, else by unit)",
    )
    r.add_argument(
        "--fs",
        type=_positive,
        help="sampling rate, Hz, of a file that does not say it: a text file without a time "
        "column, a DataLOG export, a MATLAB .mat file",
    )
    r.add_argument("--json", action="store_true", help="one JSON object per episode per line")
    r.add_argument(
        "--speed",
        type=_positive,
        help="pace it: 1 as the live session saw it (default: as fast as possible)",
    )
    r.add_argument("--db", help="also write the episodes to this log")
    r.add_argument("--preset", help="detector preset: default, aasm or envelope (default: default)")
    r.add_argument("--config", help="read detector settings and placements from this file")
    r.set_defaults(func=cmd_replay)

    e = sub.add_parser("episodes", help="list what the episode log holds")
    e.add_argument("--db", help=f"episode log (default {default_db_path()})")
    e.add_argument("--json", action="store_true", help="one JSON object per episode per line")
    e.add_argument("--since", type=_time, help="only episodes from this date or time on")
    e.add_argument("--confirm", type=int, action="append", metavar="ID", help="confirm episode ID")
    e.add_argument("--reject", type=int, action="append", metavar="ID", help="reject episode ID")
    e.add_argument("--note", help="a note kept with --confirm / --reject")
    e.add_argument("--config", help="settings file")
    e.set_defaults(func=cmd_episodes)

    rp = sub.add_parser("repair", help="make a recording whose writer was killed whole again")
    rp.add_argument("files", nargs="+", help="EDF or BDF files")
    rp.set_defaults(func=cmd_repair)

    b = sub.add_parser("bench", help="measure detection against known answers")
    bsub = b.add_subparsers(dest="what", required=True, parser_class=_Parser)
    acc = bsub.add_parser("accuracy", help="the detection suite, with NeuroKit2 and BioSPPy beside")
    acc.add_argument("--json", action="store_true", help="one JSON object per result per line")
    acc.add_argument("--quick", action="store_true", help="shorter cases, no 8-hour night")
    acc.add_argument("--no-baselines", action="store_true", help="spasmwatch alone")
    acc.add_argument(
        "--study",
        action="store_true",
        help="the study set instead: recordings apart from the suite, to choose constants on",
    )
    bb = bsub.add_parser("ble", help="notifications per second the BLE path takes with no loss")
    bb.add_argument("--json", action="store_true", help="one JSON object on one line")
    spd = bsub.add_parser("speed", help="replay speed, memory and live block cost")
    spd.add_argument("--json", action="store_true", help="one JSON object on one line")
    b.set_defaults(func=cmd_bench)

    c = sub.add_parser("config", help="check or show the settings file")
    csub = c.add_subparsers(dest="action", required=True, parser_class=_Parser)
    check = csub.add_parser("check", help="validate a settings file")
    check.add_argument("file", nargs="?", help=f"the file (default {default_config_path()})")
    show = csub.add_parser("show", help="the effective settings, defaults included")
    show.add_argument("--config", help="the file (default: the user's settings file)")
    csub.add_parser("example", help="print an example settings file")
    c.set_defaults(func=cmd_config)
    add_commands(sub, f"episode log (default {default_db_path()})")
    add_emulate(sub, _positive, _lose_link)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Libraries' own warnings (bleak guessing the BlueZ version, ...) are for -v.
        for name in ("bleak", "bleak_retry_connector", "dbus_fast"):
            logging.getLogger(name).setLevel(logging.ERROR)
    try:
        return int(args.func(args))
    except (UsageError, SettingsError) as exc:
        print(f"spasmwatch: error: {exc}", file=sys.stderr)
        return 2
    except SpasmwatchError as exc:
        print(f"spasmwatch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file to write or read that the system refused
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"spasmwatch: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
