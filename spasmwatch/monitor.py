"""The live monitor: a wearable's frames in, episodes on screen and in the log.

One asyncio event loop. The source (the simulated wearable here, a BLE notification callback
later) only stamps arrival time and puts bytes on a bounded queue; one consumer decodes them,
runs the pipeline and writes the log. An overflowing queue is counted and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from detect.config import DetectorConfig
from detect.events import Episode
from detect.pipeline import Pipeline
from episodes.log import EpisodeLog
from sensor.block import concat
from sensor.errors import DecodeError
from sensor.frame import FrameAssembler, decode_frame
from sensor.meta import package_version
from sensor.simulate import SimulatedWearable

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
    session_id: int | None = None
    stopped: bool = False

    @property
    def seconds(self) -> float:
        """Signal time covered, s."""
        return self.samples / self.fs if self.fs else 0.0


Reporter = Callable[[Episode, datetime], None]


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
    index = 0
    per_frame = sim.samples_per_frame
    for payload in sim.frames():
        if stop.is_set():
            break
        due = t0 + index / sim.fs / speed
        delay = due - loop.time()
        await asyncio.sleep(max(0.0, delay))
        try:
            queue.put_nowait((time.monotonic_ns(), payload))
        except asyncio.QueueFull:
            stats.overflows += 1
            log.warning("receive queue full: a frame was dropped")
        index += per_frame
    await queue.put(None)


async def monitor_simulated(
    sim: SimulatedWearable,
    config: DetectorConfig,
    episode_log: EpisodeLog | None,
    *,
    speed: float,
    report: Reporter,
    stop: asyncio.Event | None = None,
) -> MonitorStats:
    """Run the live pipeline on the simulated wearable until it ends or ``stop`` is set.

    Parameters
    ----------
    speed : float
        1 paces the stream in real time; 100 plays it a hundred times faster.
    report : callable
        Called with each episode event and the session's wall-clock start.
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
    pipeline = Pipeline(
        config, sim.fs, sim.channels, (sim.units,) * len(sim.channels), sim.config.location
    )
    session_start: datetime | None = None
    last_beat = time.monotonic()

    def handle(events: list[Episode]) -> None:
        assert session_start is not None
        for ev in events:
            if episode_log is not None and stats.session_id is not None:
                episode_log.record(stats.session_id, session_start, ev)
            if ev.state != "open":
                stats.episodes.append(ev)
            report(ev, session_start)

    try:
        done = False
        while not done:
            get = asyncio.ensure_future(queue.get())
            halt = asyncio.ensure_future(stop.wait())
            finished, _ = await asyncio.wait({get, halt}, return_when=asyncio.FIRST_COMPLETED)
            if get not in finished:
                get.cancel()
                break
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
                if session_start is None:
                    # The session starts at the wall-clock time of its first sample.
                    session_start = datetime.now(UTC) - timedelta(
                        seconds=blocks[0].start_index / sim.fs
                    )
                    if episode_log is not None:
                        stats.session_id = episode_log.start_session(
                            source="simulated",
                            device=f"simulated wearable (seed {sim.config.seed})",
                            signal=sim.config.signal,
                            fs=sim.fs,
                            started_at=session_start,
                            locations={c.name: c.location for c in pipeline.channels},
                            config=config.model_dump(mode="json"),
                            version=package_version(),
                        )
                handle(pipeline.process(concat(blocks)))
                stats.samples = assembler.index
            now = time.monotonic()
            if (
                episode_log is not None
                and stats.session_id is not None
                and now - last_beat >= HEARTBEAT_S
            ):
                assert session_start is not None
                episode_log.heartbeat(
                    stats.session_id, session_start + timedelta(seconds=stats.seconds)
                )
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
            if episode_log is not None and stats.session_id is not None:
                episode_log.end_session(
                    stats.session_id, session_start + timedelta(seconds=stats.seconds)
                )
    return stats
