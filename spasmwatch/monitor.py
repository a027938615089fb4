"""The live monitor: a wearable's notifications in, episodes on screen and in the log.

One asyncio event loop. The source (the simulated wearable, or a BLE wearable whose
notification callback only stamps arrival time) puts items on a bounded queue; one consumer
decodes them, runs the pipeline, writes the log, raises alerts and updates the view. An
overflowing queue is counted and reported. When the link drops, the decoder's gap closes any
episode in progress as interrupted and a ``signal_lost`` row is opened; it is closed when the
signal comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from detect.config import DetectorConfig
from detect.events import Episode
from detect.heart import heart_note
from detect.pipeline import Pipeline
from episodes.resilient import ResilientLog
from episodes.summary import SpasmTally
from sensor.ble import BleWearable, Item
from sensor.block import ACC, EMG, Block, concat, sensor_groups
from sensor.errors import DecodeError
from sensor.meta import package_version
from sensor.simulate import SimulatedWearable
from sensor.stream import OpenFrameDecoder, StreamDecoder
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
#: After a stop, the source has this long to close its stream (a BLE wearable is told to
#: stop sending and disconnected) before it is cancelled, s.
STOP_WAIT_S = 10.0


@dataclass
class MonitorStats:
    """What happened during a monitoring session."""

    frames: int = 0
    lost_frames: int = 0
    lost_samples: int = 0
    decode_errors: int = 0
    overflows: int = 0
    link_losses: int = 0
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


class Source(Protocol):
    """Where the monitor's items come from."""

    @property
    def kind(self) -> str:
        """``simulated``, ``ble:<address>``."""

    @property
    def device(self) -> str:
        """What it is, for the log."""

    @property
    def state(self) -> str:
        """The connection as the patient sees it."""

    @property
    def decoder(self) -> StreamDecoder | None: ...

    @property
    def battery(self) -> int | None: ...

    async def run(self, queue: asyncio.Queue[Item | None], stop: asyncio.Event) -> None: ...


class SimulatedSource:
    """The simulated wearable's open frames, paced in (scaled) real time.

    Parameters
    ----------
    speed : float
        1 is real time; 100 plays a hundred times faster.
    link_losses : sequence of (at_s, for_s)
        The link drops at ``at_s`` seconds of signal for ``for_s`` seconds: frames measured
        meanwhile never arrive, and the monitor is told the link went and came back.
    """

    kind = "simulated"

    def __init__(
        self,
        sim: SimulatedWearable,
        speed: float = 1.0,
        link_losses: Sequence[tuple[float, float]] = (),
    ) -> None:
        self.sim = sim
        self.speed = speed
        self.losses = sorted(link_losses)
        self.device = f"simulated wearable (seed {sim.config.seed})"
        self.state = "connecting"
        self.overflows = 0
        self._decoder = OpenFrameDecoder()

    @property
    def decoder(self) -> StreamDecoder:
        return self._decoder

    @property
    def battery(self) -> int | None:
        return self._decoder.battery

    async def run(self, queue: asyncio.Queue[Item | None], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        wraps, last_us = 0, 0
        losses = list(self.losses)
        down_until: float | None = None
        self.state = "streaming"
        for payload in self.sim.frames():
            if stop.is_set():
                break
            # Pace by the frame's device time (bytes 6-9, microseconds, wrapping at 2**32).
            t_us = int.from_bytes(payload[6:10], "little")
            if t_us < last_us:
                wraps += 1
            last_us = t_us
            t_s = (wraps * 2**32 + t_us) / 1e6
            await asyncio.sleep(max(0.0, t0 + t_s / self.speed - loop.time()))
            if losses and t_s >= losses[0][0]:
                at, length = losses.pop(0)
                down_until = at + length
                self.state = "reconnecting"
                await queue.put(Item("down", time.monotonic_ns()))
            if down_until is not None:
                if t_s < down_until:
                    continue  # measured by the device, never received
                down_until = None
                self.state = "streaming"
                await queue.put(Item("up", time.monotonic_ns()))
            try:
                queue.put_nowait(Item("data", time.monotonic_ns(), payload))
            except asyncio.QueueFull:
                self.overflows += 1
                log.warning("receive queue full: a frame was dropped")
        self.state = "stopped"
        await queue.put(None)


class BleSource:
    """A wearable over BLE (see :class:`sensor.ble.BleWearable`)."""

    def __init__(self, wearable: BleWearable) -> None:
        self.wearable = wearable

    @property
    def kind(self) -> str:
        return f"ble:{self.wearable.address or self.wearable.target}"

    @property
    def device(self) -> str:
        info = self.wearable.stats.info
        model = " ".join(v for v in (info.get("manufacturer"), info.get("model")) if v)
        return f"{self.wearable.name} ({self.wearable.profile}{', ' + model if model else ''})"

    @property
    def state(self) -> str:
        return self.wearable.state

    @property
    def decoder(self) -> StreamDecoder | None:
        return self.wearable.decoder

    @property
    def battery(self) -> int | None:
        dec = self.wearable.decoder
        return dec.battery if dec is not None and dec.battery is not None else self.wearable.battery

    @property
    def overflows(self) -> int:
        return self.wearable.stats.overflows

    async def run(self, queue: asyncio.Queue[Item | None], stop: asyncio.Event) -> None:
        self.wearable.queue = queue
        try:
            await self.wearable.run(stop)
        finally:
            await queue.put(None)


async def monitor(
    source: Source,
    build_config: Callable[[str], DetectorConfig],
    episode_log: ResilientLog | None,
    view: View,
    *,
    settings: Settings,
    location_of: Callable[[str], str],
    today: SpasmTally | None = None,
    stop: asyncio.Event | None = None,
    recorder_factory: Callable[[Block, datetime], Recorder | None] | None = None,
) -> MonitorStats:
    """Run the live pipeline on a source until it ends or ``stop`` is set.

    Parameters
    ----------
    build_config : callable
        The detector configuration for a signal type (``emg`` or ``acc``), asked once the
        first samples show which it is.
    location_of : callable
        Channel (or accelerometer sensor) name -> body location.
    today : SpasmTally
        Spasms already logged today per location; this session's are added to it.
    recorder_factory : callable
        Makes the raw-signal recorder once the first samples (and so the start) are known.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    stats = MonitorStats()

    def on_signal() -> None:
        stats.stopped = True
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    queue: asyncio.Queue[Item | None] = asyncio.Queue(QUEUE_FRAMES)
    producer = asyncio.create_task(source.run(queue, stop))
    alerts = AlertWatch(settings.alerts)
    tally = today if today is not None else SpasmTally()
    session_start: datetime | None = None
    last_beat = last_frame = last_check = time.monotonic()
    open_since: dict[str, int] = {}
    recorder: Recorder | None = None
    was_detached: set[str] = set()
    pipeline: Pipeline | None = None
    link_down = False  # between a link loss and the first samples after it
    link_gap: tuple[int, int | None] | None = None  # the latest link gap, sample indices

    def drift_ppm() -> float:
        decoder = source.decoder
        return plausible_drift(decoder.clock.drift_ppm) if decoder is not None else 0.0

    def clock() -> datetime:
        if session_start is None:
            return datetime.now(UTC)
        return at_index(stats.samples)

    def at_index(index: int) -> datetime:
        assert session_start is not None
        return wall_time(session_start, index, stats.fs, drift_ppm())

    told: set[str] = set()  # channels whose heartbeat the view has been told of

    def handle(events: list[Episode]) -> None:
        assert session_start is not None
        if pipeline is not None and len(pipeline.heart_rates) > len(told):
            for name, rate in pipeline.heart_rates.items():
                if name not in told:
                    told.add(name)
                    view.say(heart_note(name, rate))
        for ev in events:
            # The log counts from the session's start in the device's seconds; the start
            # handed to it puts this episode's onset at its host (wall-clock) time.
            onset_at = at_index(ev.onset_index)
            if episode_log is not None:
                episode_log.record(onset_at - timedelta(seconds=ev.start_s), ev)
            if recorder is not None:
                recorder.episode(ev)
            if ev.state == "open":
                open_since[ev.channel] = ev.onset_index
                at = onset_at
            else:
                open_since.pop(ev.channel, None)
                stats.episodes.append(ev)
                at = onset_at + timedelta(seconds=ev.duration_s or 0.0)
                tally.add(ev.location, onset_at, at)
            view.episode(ev, at)

    def start(first: Block) -> Pipeline:
        nonlocal session_start, recorder
        kind = ACC if first.units[0] == "g" else EMG
        names = (
            [name for name, _ in sensor_groups(first.channels)]
            if kind == ACC
            else list(first.channels)
        )
        config = build_config(kind)
        pipe = Pipeline(
            config, first.fs, first.channels, first.units, {n: location_of(n) for n in names}
        )
        stats.fs = first.fs
        # The session starts at the wall-clock time of its first sample.
        session_start = datetime.now(UTC) - timedelta(seconds=first.start_index / first.fs)
        if episode_log is not None:
            episode_log.start_session(
                source=source.kind,
                device=source.device,
                signal=kind,
                fs=first.fs,
                started_at=session_start,
                locations={c.name: c.location for c in pipe.channels},
                config=config.model_dump(mode="json"),
                version=package_version(),
                patient=settings.patient,
            )
        if recorder_factory is not None:
            recorder = recorder_factory(first, session_start)
            if recorder is not None and episode_log is not None:
                episode_log.set_recording(str(recorder.path.resolve()))
        return pipe

    def check(now: float) -> None:
        decoder = source.decoder
        state = source.state
        connection = "streaming" if now - last_frame < 2.0 else "no signal"
        if state in ("connecting", "reconnecting", "scanning"):
            connection = state
        off = pipeline.detached() if pipeline else []
        # Seconds into the spasm going on, per channel. An ended spasm the detector holds
        # (for clonus to resume it) is not yet reported, but the muscle is at rest.
        in_spasm = {
            ch.name: (stats.samples - open_since[ch.name]) / stats.fs
            for ch, det in zip(
                pipeline.channels if pipeline else [],
                pipeline.detectors if pipeline else [],
                strict=True,
            )
            if ch.name in open_since and det.in_episode
        }
        fired = alerts.check(
            open_episodes=[
                (ch.name, ch.location, in_spasm[ch.name])
                for ch in (pipeline.channels if pipeline else [])
                if ch.name in in_spasm
            ],
            no_signal_s=now - last_frame,
            battery=source.battery,
            detached=[(ch.name, ch.location) for ch in off],
        )
        detached = {ch.name for ch in off}
        if episode_log is not None and session_start is not None and pipeline is not None:
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
                battery=source.battery,
                clock=clock(),
                signal_s=stats.seconds,
                lost_s=(decoder.lost_samples / stats.fs) if decoder and stats.fs else 0.0,
                channels=tuple(
                    ChannelStatus(
                        name=ch.name,
                        location=ch.location,
                        level_db=det.level_db,
                        rest_db=det.baseline_db,
                        threshold_db=det.on_threshold_db,
                        in_episode_s=in_spasm.get(ch.name),
                        detached=ch.name in detached,
                    )
                    for ch, det in zip(
                        pipeline.channels if pipeline else [],
                        pipeline.detectors if pipeline else [],
                        strict=True,
                    )
                ),
                today=dict(tally.by_location),
            )
        )

    def take(batch: list[Item | None]) -> bool:
        """Decode a batch of items and run the pipeline on it; True once the stream ended."""
        nonlocal pipeline, link_down, link_gap, last_frame
        blocks: list[Block] = []
        resumed_at: int | None = None
        ended = False
        for item in batch:
            if item is None:
                ended = True
                if source.decoder is not None:
                    blocks.extend(source.decoder.flush())
                break
            decoder = source.decoder
            if decoder is None:
                continue
            if item.kind == "down":
                gap = decoder.link_lost(item.t_ns)
                # Samples the decoder still held come first, then the gap.
                down_at = None
                for b in reversed(gap):
                    if not b.lost.all():
                        break
                    down_at = b.start_index
                if down_at is not None and not link_down:
                    stats.link_losses += 1
                    link_down = True
                    link_gap = (down_at, None)
                    if session_start is not None:
                        if episode_log is not None:
                            episode_log.signal_lost(at_index(down_at), None, "link")
                        view.say(
                            f"{at_index(down_at).astimezone():%H:%M:%S}  "
                            "sensor disconnected: "
                            "reconnecting (episodes in progress are closed as cut short)"
                        )
                blocks.extend(gap)
                continue
            if item.kind != "data":
                continue
            try:
                got = decoder.push(item.payload, item.t_ns, item.source)
            except DecodeError as exc:
                stats.decode_errors += 1
                log.warning("%s", exc)
                continue
            if link_down and got:
                link_down = False
                resumed_at = next((b.start_index for b in got if not b.lost.all()), None)
                if link_gap is not None:
                    link_gap = (link_gap[0], resumed_at)
            blocks.extend(got)
            stats.frames += 1
        if blocks:
            last_frame = time.monotonic()
            if pipeline is None:
                pipeline = start(blocks[0])
            assert session_start is not None
            if episode_log is not None:
                for b in blocks:
                    if b.lost.any() and not _within(b.start_index, link_gap):
                        # Frames lost on the way (not a lost link): one row per gap block.
                        lost_start = at_index(b.start_index)
                        episode_log.signal_lost(
                            lost_start,
                            lost_start + timedelta(seconds=b.n_samples / stats.fs),
                            "packets",
                            samples=int(np.count_nonzero(b.lost)),
                        )
                if resumed_at is not None:
                    episode_log.signal_back(at_index(resumed_at), "link")
            if resumed_at is not None:
                view.say(f"{at_index(resumed_at).astimezone():%H:%M:%S}  sensor back: streaming")
            if recorder is not None:
                for b in blocks:
                    recorder.write(b)
            handle(pipeline.process(concat(blocks)))
            stats.samples = blocks[-1].stop_index
        return ended

    # A stop (Ctrl-C, --seconds) ends the session as the end of the stream does: the source
    # is told and closes its stream, and what is still on its way (queued frames, what the
    # decoder holds) is taken in before the pipeline is flushed.
    deadline: float | None = None  # set by a stop: the source's stream has until then to end
    try:
        done = False
        while not done:
            get = asyncio.ensure_future(queue.get())
            halt = asyncio.ensure_future(stop.wait()) if deadline is None else None
            finished, _ = await asyncio.wait(
                {get} if halt is None else {get, halt},
                timeout=TICK_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if halt is not None:
                halt.cancel()
            if get not in finished:
                get.cancel()
                now = time.monotonic()
                if halt is not None and halt in finished:
                    deadline = now + STOP_WAIT_S
                elif producer.done() or (deadline is not None and now >= deadline):
                    break  # the source ended without its end marker (failed), or out of time
                check(now)
                continue
            batch = [get.result()]
            if batch[0] is not None:
                await asyncio.sleep(COALESCE_S)
            while not queue.empty() and len(batch) < BATCH_FRAMES:
                batch.append(queue.get_nowait())
            done = take(batch)
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
        if not done:
            # The source did not end its stream in time: what it queued, then the end.
            rest: list[Item | None] = []
            while not queue.empty():
                rest.append(queue.get_nowait())
            take([*rest, None])
        # The stream's last moments are judged too (between two ticks they were not yet, so
        # a battery that ran low in them went unsaid when the machine was busy).
        check(time.monotonic())
    finally:
        stop.set()
        wait_s = STOP_WAIT_S if deadline is None else max(0.0, deadline - time.monotonic())
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(producer, wait_s)
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        decoder = source.decoder
        if decoder is not None:
            stats.lost_frames = decoder.lost_frames
            stats.lost_samples = decoder.lost_samples
        stats.overflows = int(getattr(source, "overflows", 0))
        if session_start is not None and pipeline is not None:
            handle(pipeline.flush())
            if episode_log is not None:
                episode_log.end_session(clock())
        if recorder is not None:
            recorder.close()
        if episode_log is not None:
            stats.unsaved = episode_log.pending
        view.close()
        if producer.done() and not producer.cancelled() and producer.exception() is not None:
            raise producer.exception()  # type: ignore[misc]
    return stats


#: A device clock is trusted to drift at most this much (the BLE core specification allows
#: sleep clocks up to 500 ppm). More means the stream is not real time (a simulation played
#: faster, a replay): its times are left as the device counts them.
MAX_DRIFT_PPM = 500.0


def plausible_drift(ppm: float) -> float:
    """``ppm`` when a crystal could drift that much, else 0."""
    return ppm if abs(ppm) <= MAX_DRIFT_PPM else 0.0


def wall_time(start: datetime, index: int, fs: float, drift_ppm: float) -> datetime:
    """When sample ``index`` was measured, on the host's clock.

    The device counts samples by its own crystal; when that runs slow or fast against the
    host's clock (``drift_ppm``, measured by the decoder's :class:`~sensor.stream.ClockMap`;
    20-50 ppm is usual, up to 0.2 s an hour), the host time of a sample is its device time
    scaled by ``1 + drift``.
    """
    return start + timedelta(seconds=index / fs * (1.0 + drift_ppm * 1e-6))


def _within(index: int, span: tuple[int, int | None] | None) -> bool:
    """True when a sample index lies in a link gap (``(from, to)``, ``to`` None while open)."""
    return span is not None and index >= span[0] and (span[1] is None or index < span[1])
