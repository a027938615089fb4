"""The live monitor: a wearable's frames in, episodes on screen and in the log.

One asyncio event loop. The source (the simulated wearable here, a BLE notification callback
later) only stamps arrival time and puts bytes on a bounded queue; one consumer decodes them,
runs the pipeline, writes the log, raises alerts and updates the view. An overflowing queue
is counted and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from detect.config import DetectorConfig
from detect.events import Episode
from detect.pipeline import Pipeline
from episodes.resilient import ResilientLog
from sensor.block import Block, concat
from sensor.errors import DecodeError
from sensor.frame import FrameAssembler, decode_frame
from sensor.meta import package_version
from sensor.simulate import SimulatedWearable
from spasmwatch.alerts import AlertWatch
from spasmwatch.recorder import Recorder
from spasmwatch.settings import Settings
from spasmwatch.view import ChannelStatus, Status, View

log = logging.getLogger(__name__)

#: Frames waiting between the source and the consumer; a full queue drops and counts.
QUEUE_FRAMES = 4096
#: Wall-clock seconds between heartbeats in the log.
HEARTBEAT_S = 2.0
#: After the first frame of a batch arrives, wait this long for more: it adds at most 10 ms
#: to the live latency and lets one pipeline call take many frames when the stream is fast.
COALESCE_S = 0.01
#: Most frames taken in one batch.
BATCH_FRAMES = 4096
#: How often the view and the alerts are refreshed when nothing arrives, s.
TICK_S = 0.25


@dataclass
class MonitorStats:
    """What happened during a monitoring session."""

    frames: int = 0
    lost_frames: int = 0
    lost_samples: int = 0
    decode_errors: int = 0
    overflows: int = 0
    samples: int = 0
    fs: float = 0.0
    episodes: list[Episode] = field(default_factory=list)
    alerts: int = 0
    stopped: bool = False
    unsaved: int = 0

    @property
    def seconds(self) -> float:
        """Signal time covered, s."""
        return self.samples / self.fs if self.fs else 0.0


async def _produce(
    sim: SimulatedWearable,
    queue: asyncio.Queue[tuple[int, bytes] | None],
    speed: float,
    stop: asyncio.Event,
    stats: MonitorStats,
) -> None:
    """Pace the simulated wearable's frames in (scaled) real time onto the queue."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    wraps, last_us = 0, 0
    for payload in sim.frames():
        if stop.is_set():
            break
        # Pace by the frame's device time (bytes 6-9, microseconds, wrapping at 2**32).
        t_us = int.from_bytes(payload[6:10], "little")
        if t_us < last_us:
            wraps += 1
        last_us = t_us
        delay = t0 + (wraps * 2**32 + t_us) / 1e6 / speed - loop.time()
        await asyncio.sleep(max(0.0, delay))
        try:
            queue.put_nowait((time.monotonic_ns(), payload))
        except asyncio.QueueFull:
            stats.overflows += 1
            log.warning("receive queue full: a frame was dropped")
    await queue.put(None)


@dataclass
class _Tally:
    """Today's episodes per location: what the log already had plus this session's."""

    today: dict[str, tuple[int, float]]

    def add(self, ev: Episode) -> None:
        n, s = self.today.get(ev.location, (0, 0.0))
        self.today[ev.location] = (n + 1, s + (ev.duration_s or 0.0))


async def monitor_simulated(
    sim: SimulatedWearable,
    config: DetectorConfig,
    episode_log: ResilientLog | None,
    view: View,
    *,
    speed: float,
    settings: Settings,
    locations: Mapping[str, str],
    today: dict[str, tuple[int, float]] | None = None,
    stop: asyncio.Event | None = None,
    recorder_factory: Callable[[Block, datetime], Recorder | None] | None = None,
) -> MonitorStats:
    """Run the live pipeline on the simulated wearable until it ends or ``stop`` is set.

    Parameters
    ----------
    speed : float
        1 paces the stream in real time; 100 plays it a hundred times faster.
    locations : mapping
        Channel -> body location.
    today : dict
        Episodes already logged today per location (count, total seconds).
    recorder_factory : callable
        Makes the raw-signal recorder once the first samples (and so the start) are known.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    stats = MonitorStats(fs=sim.fs)

    def on_signal() -> None:
        stats.stopped = True
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue(QUEUE_FRAMES)
    producer = asyncio.create_task(_produce(sim, queue, speed, stop, stats))
    assembler = FrameAssembler(sim.channels)
    pipeline = Pipeline(config, sim.fs, sim.channels, (sim.units,) * len(sim.channels), locations)
    alerts = AlertWatch(settings.alerts)
    tally = _Tally(dict(today or {}))
    session_start: datetime | None = None
    last_beat = last_frame = last_check = time.monotonic()
    open_since: dict[str, int] = {}
    recorder: Recorder | None = None
    was_detached: set[str] = set()

    def clock() -> datetime:
        start = session_start or datetime.now(UTC)
        return start + timedelta(seconds=stats.seconds)

    def handle(events: list[Episode]) -> None:
        assert session_start is not None
        for ev in events:
            if episode_log is not None:
                episode_log.record(session_start, ev)
            if recorder is not None:
                recorder.episode(ev)
            if ev.state == "open":
                open_since[ev.channel] = ev.onset_index
                at = session_start + timedelta(seconds=ev.start_s)
            else:
                open_since.pop(ev.channel, None)
                stats.episodes.append(ev)
                tally.add(ev)
                at = session_start + timedelta(seconds=ev.end_s or 0.0)
            view.episode(ev, at)

    def check(now: float) -> None:
        connection = "streaming" if now - last_frame < 2.0 else "no signal"
        off = pipeline.detached()
        fired = alerts.check(
            open_episodes=[
                (ch.name, ch.location, (assembler.index - open_since[ch.name]) / sim.fs)
                for ch in pipeline.channels
                if ch.name in open_since
            ],
            no_signal_s=now - last_frame,
            battery=assembler.battery,
            detached=[(ch.name, ch.location) for ch in off],
        )
        detached = {ch.name for ch in off}
        if episode_log is not None and session_start is not None:
            for ch in off:
                if ch.name not in was_detached:
                    flat_s = pipeline.detectors[pipeline.channels.index(ch)].flat_s
                    episode_log.signal_lost(
                        clock() - timedelta(seconds=flat_s), None, "detached", ch.name
                    )
            for name in was_detached - detached:
                episode_log.signal_back(clock(), "detached", name)
        was_detached.clear()
        was_detached.update(detached)
        for a in fired:
            stats.alerts += 1
            if episode_log is not None and session_start is not None:
                episode_log.alert(clock(), a.kind, a.channel, a.message)
            view.alert(a, clock())
        view.update(
            Status(
                connection=connection,
                battery=assembler.battery,
                clock=clock(),
                signal_s=stats.seconds,
                lost_s=assembler.lost_samples / sim.fs,
                channels=tuple(
                    ChannelStatus(
                        name=ch.name,
                        location=ch.location,
                        level_db=det.level_db,
                        rest_db=det.baseline_db,
                        threshold_db=det.on_threshold_db,
                        in_episode_s=(assembler.index - open_since[ch.name]) / sim.fs
                        if ch.name in open_since
                        else None,
                        detached=ch.name in detached,
                    )
                    for ch, det in zip(pipeline.channels, pipeline.detectors, strict=True)
                ),
                today=dict(tally.today),
            )
        )

    try:
        done = False
        while not done:
            get = asyncio.ensure_future(queue.get())
            halt = asyncio.ensure_future(stop.wait())
            finished, _ = await asyncio.wait(
                {get, halt}, timeout=TICK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if get not in finished:
                get.cancel()
                halt.cancel()
                if halt in finished:
                    break
                check(time.monotonic())
                continue
            halt.cancel()
            batch = [get.result()]
            if batch[0] is not None:
                await asyncio.sleep(COALESCE_S)
            while not queue.empty() and len(batch) < BATCH_FRAMES:
                batch.append(queue.get_nowait())
            blocks = []
            for item in batch:
                if item is None:
                    done = True
                    break
                _, payload = item
                try:
                    frame = decode_frame(payload)
                except DecodeError as exc:
                    stats.decode_errors += 1
                    log.warning("%s", exc)
                    continue
                blocks.extend(assembler.push(frame))
                stats.frames += 1
            if blocks:
                last_frame = time.monotonic()
                if session_start is None:
                    # The session starts at the wall-clock time of its first sample.
                    session_start = datetime.now(UTC) - timedelta(
                        seconds=blocks[0].start_index / sim.fs
                    )
                    if episode_log is not None:
                        episode_log.start_session(
                            source="simulated",
                            device=f"simulated wearable (seed {sim.config.seed})",
                            signal=sim.config.signal,
                            fs=sim.fs,
                            started_at=session_start,
                            locations={c.name: c.location for c in pipeline.channels},
                            config=config.model_dump(mode="json"),
                            version=package_version(),
                            patient=settings.patient,
                        )
                    if recorder_factory is not None:
                        recorder = recorder_factory(blocks[0], session_start)
                        if recorder is not None and episode_log is not None:
                            episode_log.set_recording(str(recorder.path.resolve()))
                if episode_log is not None:
                    for b in blocks:
                        if b.lost.any():  # the assembler's gap blocks: frames lost on the way
                            lost_start = session_start + timedelta(seconds=b.start_index / sim.fs)
                            episode_log.signal_lost(
                                lost_start,
                                lost_start + timedelta(seconds=b.n_samples / sim.fs),
                                "packets",
                                samples=int(np.count_nonzero(b.lost)),
                            )
                if recorder is not None:
                    for b in blocks:
                        recorder.write(b)
                handle(pipeline.process(concat(blocks)))
                stats.samples = assembler.index
            now = time.monotonic()
            if (
                now - last_check >= TICK_S
            ):  # the view and alerts a few times a second, not per batch
                check(now)
                last_check = now
            if (
                episode_log is not None
                and session_start is not None
                and now - last_beat >= HEARTBEAT_S
            ):
                episode_log.heartbeat(clock())
                last_beat = now
    finally:
        stop.set()
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stats.lost_frames = assembler.lost_frames
        stats.lost_samples = assembler.lost_samples
        if session_start is not None:
            handle(pipeline.flush())
            if episode_log is not None:
                episode_log.end_session(clock())
        if recorder is not None:
            recorder.close()
        if episode_log is not None:
            stats.unsaved = episode_log.pending
        view.close()
    return stats
