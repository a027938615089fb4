"""What the episode log says over a period: coverage, per-location summaries, comparisons.

Everything a clinician's report shows is computed here, from the log's rows, with no drawing;
``episodes.report`` turns it into a page. Times are UTC ``datetime`` objects.

Counting rules:

- an episode counts in the period its onset falls in; episodes a clinician rejected are
  left out of every number (and shown apart), confirmed and unreviewed ones count;
- episodes of one location that overlap in time are one spasm seen on several channels, and
  count once (:func:`spasms`);
- monitored time is the union of the sessions' spans (from the first sample to the end, or to
  the last heartbeat of a session that stopped without closing) for the sessions that watched
  a location;
- lost time is the part of monitored time where the signal was lost (frames lost on the way,
  the sensor's link down) or unusable (a detached or clipped electrode); the exposure behind
  every rate is monitored minus lost time, so hours without signal never dilute a rate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from scipy import stats

from episodes.log import EpisodeLog
from replay.timefmt import parse_time

#: A diary mark "had a detected episode nearby" when an episode at the mark's location (or any
#: location, when the mark names none) overlaps this window around the mark. Patients write
#: their note after the spasm, from memory, so the time they give is approximate: a quarter of
#: an hour either side covers "it happened just before I wrote this".
MARK_WINDOW = timedelta(minutes=15)
#: Signal-lost reasons that mean no data arrived, as opposed to data that could not be used.
LOST_REASONS = ("packets", "link")
UNUSABLE_REASONS = ("detached", "unusable")
#: Verdicts and what an unreviewed episode is called.
CONFIRMED, REJECTED, UNREVIEWED = "confirmed", "rejected", "unreviewed"
TYPES = ("tonic", "clonic", "mixed", "unknown")

Interval = tuple[datetime, datetime]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Merge overlapping intervals; empty ones are dropped."""
    out: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(intervals: Iterable[Interval], lo: datetime, hi: datetime) -> list[Interval]:
    """The parts of ``intervals`` inside ``[lo, hi)``."""
    return [(max(a, lo), min(b, hi)) for a, b in intervals if b > lo and a < hi]


def intersect(xs: Sequence[Interval], ys: Sequence[Interval]) -> list[Interval]:
    """Where two sorted, disjoint interval lists overlap."""
    out: list[Interval] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if b > a:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def hours(intervals: Iterable[Interval]) -> float:
    """Total length, h."""
    return sum((b - a).total_seconds() for a, b in intervals) / 3600.0


@dataclass(frozen=True)
class Ep:
    """An episode as the report sees it."""

    id: int
    session_id: int
    channel: str
    location: str
    start: datetime
    duration_s: float
    peak: float | None
    mean: float | None
    units: str
    strength_db: float | None
    type: str
    state: str
    onset_index: int
    verdict: str
    #: Every channel that saw it, when it is a spasm joined from several (:func:`spasms`).
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    id: int
    start: datetime
    end: datetime
    locations: dict[str, str]  # channel -> location
    fs: float
    signal: str
    recording: str | None
    patient: str | None
    state: str


@dataclass(frozen=True)
class Lost:
    session_id: int
    channel: str | None
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class Mark:
    id: int
    at: datetime
    location: str | None
    text: str


@dataclass(frozen=True)
class Treatment:
    id: int
    name: str
    start: datetime
    end: datetime | None


@dataclass
class LogData:
    """The rows of a log, parsed."""

    sessions: list[Session]
    episodes: list[Ep]
    lost: list[Lost]
    marks: list[Mark]
    treatments: list[Treatment]


def read_log(log: EpisodeLog) -> LogData:
    """Every row the report needs, parsed (open episodes are left out: they have no end yet)."""
    sessions = []
    for r in log.query("SELECT * FROM sessions ORDER BY id"):
        end = r["ended_at"] or r["last_heartbeat"]
        sessions.append(
            Session(
                id=r["id"],
                start=parse_time(r["started_at"]),
                end=parse_time(end),
                locations=json.loads(r["locations"]),
                fs=r["fs_hz"],
                signal=r["signal"],
                recording=r["recording"],
                patient=r["patient"],
                state=r["state"],
            )
        )
    verdicts = log.verdicts()
    episodes = [
        Ep(
            id=r["id"],
            session_id=r["session_id"],
            channel=r["channel"],
            location=r["location"],
            start=parse_time(r["start_utc"]),
            duration_s=float(r["duration_s"]),
            peak=r["peak"],
            mean=r["mean"],
            units=r["units"],
            strength_db=r["strength_db"],
            type=r["type"],
            state=r["state"],
            onset_index=r["onset_index"],
            verdict=verdicts.get(r["id"], UNREVIEWED),
        )
        for r in log.query(
            "SELECT * FROM episodes WHERE state != 'open' AND duration_s IS NOT NULL "
            "ORDER BY start_utc, id"
        )
    ]
    ends = {s.id: s.end for s in sessions}
    lost = [
        Lost(
            session_id=r["session_id"],
            channel=r["channel"],
            start=parse_time(r["start_utc"]),
            end=parse_time(r["end_utc"]) if r["end_utc"] else ends[r["session_id"]],
            reason=r["reason"],
        )
        for r in log.query("SELECT * FROM signal_lost ORDER BY start_utc, id")
    ]
    marks = [
        Mark(id=r["id"], at=parse_time(r["at_utc"]), location=r["location"], text=r["text"])
        for r in log.query("SELECT * FROM marks ORDER BY at_utc, id")
    ]
    treatments = [
        Treatment(
            id=r["id"],
            name=r["name"],
            start=parse_time(r["from_utc"]),
            end=parse_time(r["to_utc"]) if r["to_utc"] else None,
        )
        for r in log.query("SELECT * FROM treatments ORDER BY from_utc, id")
    ]
    return LogData(sessions, episodes, lost, marks, treatments)


# -- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """Monitoring of one location (or of anything, ``location`` None) over a period, h."""

    monitored_h: float
    lost_h: float  # no data arrived
    unusable_h: float  # data arrived but could not be used
    exposure_h: float  # monitored minus lost minus unusable


def _spans(data: LogData, location: str | None) -> dict[int, Interval]:
    return {
        s.id: (s.start, s.end)
        for s in data.sessions
        if location is None or location in s.locations.values()
    }


def coverage(data: LogData, lo: datetime, hi: datetime, location: str | None = None) -> Coverage:
    """Monitored, lost and unusable time for a location (None: any location) in ``[lo, hi)``."""
    spans = _spans(data, location)
    monitored = union(clip(spans.values(), lo, hi))

    def gone(reasons: Sequence[str]) -> list[Interval]:
        out = []
        for g in data.lost:
            if g.reason not in reasons or g.session_id not in spans:
                continue
            if g.channel is not None and location is not None:
                where = next(s.locations for s in data.sessions if s.id == g.session_id)
                if where.get(g.channel) != location:
                    continue
            out.append((g.start, g.end))
        return intersect(monitored, union(clip(out, lo, hi)))

    lost = gone(LOST_REASONS)
    either = gone(LOST_REASONS + UNUSABLE_REASONS)
    lost_h, either_h = hours(lost), hours(either)
    m = hours(monitored)
    return Coverage(m, lost_h, either_h - lost_h, max(0.0, m - either_h))


# -- per location ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationSummary:
    location: str
    coverage: Coverage
    count: int
    per_day: float | None  # episodes per 24 h of usable signal
    spasm_s_per_day: float | None  # seconds in spasm per 24 h of usable signal
    median_s: float | None
    longest_s: float | None
    median_peak: float | None
    median_strength_db: float | None
    units: str
    types: dict[str, float]  # type -> share (0-1)
    confirmed: int
    rejected: int


def spasms(eps: Iterable[Ep]) -> list[Ep]:
    """Episodes as spasms: those of one location that overlap in time are one spasm.

    Several channels at one location (an armband's eight electrodes around a forearm, two on
    one calf) each log the spasm they all see; counted per channel it would be counted once
    per channel. A joined spasm spans its episodes, takes the strongest one's peak, mean and
    strength and the longest one's type, and is confirmed when any of them is; its ``channel``
    and onset are the first episode's, ``channels`` names them all.
    """
    out: list[Ep] = []
    last: dict[str, int] = {}  # location -> index in out of its latest spasm
    ends: list[datetime] = []
    members: list[list[Ep]] = []
    for e in sorted(eps, key=lambda e: (e.start, e.id)):
        end = e.start + timedelta(seconds=e.duration_s)
        i = last.get(e.location)
        if i is not None and e.start <= ends[i]:
            members[i].append(e)
            ends[i] = max(ends[i], end)
            continue
        last[e.location] = len(out)
        out.append(e)
        ends.append(end)
        members.append([e])
    return [_joined(group, end) for group, end in zip(members, ends, strict=True)]


def _joined(group: list[Ep], end: datetime) -> Ep:
    if len(group) == 1:
        return group[0]
    first = group[0]

    def strongest(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known) if known else None

    return replace(
        first,
        channels=tuple(dict.fromkeys(e.channel for e in group)),
        duration_s=(end - first.start).total_seconds(),
        peak=strongest([e.peak for e in group]),
        mean=strongest([e.mean for e in group]),
        strength_db=strongest([e.strength_db for e in group]),
        type=max(group, key=lambda e: e.duration_s).type,
        verdict=CONFIRMED if any(e.verdict == CONFIRMED for e in group) else first.verdict,
    )


class SpasmTally:
    """Spasms per location and their total seconds, episode by episode as they end.

    As :func:`spasms` counts: an episode that overlaps the latest spasm at its location is
    part of it (and lengthens it), not one more.
    """

    def __init__(self) -> None:
        self.by_location: dict[str, tuple[int, float]] = {}
        self._latest: dict[str, Interval] = {}

    def add(self, location: str, start: datetime, end: datetime) -> None:
        """One more ended episode."""
        n, total = self.by_location.get(location, (0, 0.0))
        latest = self._latest.get(location)
        if latest is not None and start <= latest[1] and end >= latest[0]:
            a, b = min(latest[0], start), max(latest[1], end)
            total += ((b - a) - (latest[1] - latest[0])).total_seconds()
        else:
            a, b = start, end
            n += 1
            total += (end - start).total_seconds()
        self._latest[location] = (a, b)
        self.by_location[location] = (n, total)


def median(xs: Sequence[float]) -> float | None:
    """The median, None for nothing."""
    if not xs:
        return None
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def in_period(eps: Iterable[Ep], lo: datetime, hi: datetime) -> list[Ep]:
    """Episodes whose onset is in ``[lo, hi)``."""
    return [e for e in eps if lo <= e.start < hi]


def counted(eps: Iterable[Ep]) -> list[Ep]:
    """The episodes that count: all but those a clinician rejected."""
    return [e for e in eps if e.verdict != REJECTED]


def locations(data: LogData) -> list[str]:
    """Every body location that was watched or had an episode, sorted."""
    names = {loc for s in data.sessions for loc in s.locations.values()}
    names.update(e.location for e in data.episodes)
    return sorted(names)


def summarise(data: LogData, lo: datetime, hi: datetime, location: str) -> LocationSummary:
    """One location's numbers over ``[lo, hi)``."""
    cov = coverage(data, lo, hi, location)
    every = in_period((e for e in data.episodes if e.location == location), lo, hi)
    eps = spasms(counted(every))
    days = cov.exposure_h / 24.0
    durations = [e.duration_s for e in eps]
    n = len(eps)
    return LocationSummary(
        location=location,
        coverage=cov,
        count=n,
        per_day=n / days if days > 0 else None,
        spasm_s_per_day=sum(durations) / days if days > 0 else None,
        median_s=median(durations),
        longest_s=max(durations) if durations else None,
        median_peak=median([e.peak for e in eps if e.peak is not None]),
        median_strength_db=median([e.strength_db for e in eps if e.strength_db is not None]),
        units=eps[0].units if eps else "",
        types={t: sum(e.type == t for e in eps) / n for t in TYPES} if n else {},
        confirmed=sum(e.verdict == CONFIRMED for e in every),
        rejected=sum(e.verdict == REJECTED for e in every),
    )


# -- diary marks -------------------------------------------------------------------------------


def mark_matches(data: LogData, lo: datetime, hi: datetime) -> list[tuple[Mark, Ep | None]]:
    """Each mark in ``[lo, hi)`` with the nearest counted episode within :data:`MARK_WINDOW`."""
    eps = counted(data.episodes)
    out: list[tuple[Mark, Ep | None]] = []
    for m in data.marks:
        if not lo <= m.at < hi:
            continue
        best: Ep | None = None
        best_gap = MARK_WINDOW
        for e in eps:
            if m.location and e.location != m.location:
                continue
            end = e.start + timedelta(seconds=e.duration_s)
            gap = max(e.start - m.at, m.at - end, timedelta(0))
            if gap <= best_gap:
                best, best_gap = e, gap
        out.append((m, best))
    return out


# -- comparisons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRatio:
    """Episode rate after / before with an exact 95 % interval (Poisson counts, exposures)."""

    before: int
    after: int
    before_h: float
    after_h: float
    ratio: float | None  # None when there is nothing to compare
    low: float | None
    high: float | None
    p: float | None


def rate_ratio(after: int, after_h: float, before: int, before_h: float) -> RateRatio:
    """The ratio of two Poisson rates with its exact conditional 95 % interval and p-value.

    Given the total ``after + before``, the after-count is binomial with
    ``p = after_h * r_a / (after_h * r_a + before_h * r_b)``; the Clopper-Pearson interval of
    that proportion maps to the rate ratio, and the exact binomial test of
    ``p = after_h / (after_h + before_h)`` tests "no change" (a standard method for comparing
    two Poisson rates: Breslow & Day 1987, Statistical Methods in Cancer Research II, 2.8).
    """
    n = after + before
    if n == 0 or after_h <= 0 or before_h <= 0:
        return RateRatio(before, after, before_h, after_h, None, None, None, None)
    test = stats.binomtest(after, n, after_h / (after_h + before_h))
    ci = test.proportion_ci(confidence_level=0.95, method="exact")
    scale = before_h / after_h

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * scale

    ratio = math.inf if before == 0 else (after / after_h) / (before / before_h)
    return RateRatio(
        before,
        after,
        before_h,
        after_h,
        ratio,
        to_ratio(ci.low),
        to_ratio(ci.high),
        float(test.pvalue),
    )


@dataclass(frozen=True)
class Shift:
    """A change in a distribution (durations, intensity) with a two-sided rank test."""

    before_median: float | None
    after_median: float | None
    p: float | None


def shift(before: Sequence[float], after: Sequence[float]) -> Shift:
    """Medians before and after, and the Mann-Whitney U test's two-sided p-value."""
    p = None
    if before and after:
        p = float(stats.mannwhitneyu(after, before, alternative="two-sided").pvalue)
        if math.isnan(p):
            p = None
    return Shift(median(before), median(after), p)


@dataclass(frozen=True)
class Comparison:
    """One location before and after a date."""

    location: str
    rate: RateRatio
    duration: Shift
    strength: Shift
    units: str


@dataclass(frozen=True)
class Split:
    """A before/after split: a stored treatment or an ad-hoc date."""

    title: str
    before: Interval
    after: Interval
    rows: list[Comparison] = field(default_factory=list)


def compare(
    data: LogData, title: str, before: Interval, after: Interval, where: Sequence[str]
) -> Split:
    """Each location's rate, duration and intensity after vs before."""
    rows = []
    for loc in where:
        cb = coverage(data, *before, loc)
        ca = coverage(data, *after, loc)
        eb = spasms(counted(in_period((e for e in data.episodes if e.location == loc), *before)))
        ea = spasms(counted(in_period((e for e in data.episodes if e.location == loc), *after)))
        if cb.monitored_h == 0 and ca.monitored_h == 0:
            continue
        rows.append(
            Comparison(
                location=loc,
                rate=rate_ratio(len(ea), ca.exposure_h, len(eb), cb.exposure_h),
                duration=shift([e.duration_s for e in eb], [e.duration_s for e in ea]),
                strength=shift(
                    [e.strength_db for e in eb if e.strength_db is not None],
                    [e.strength_db for e in ea if e.strength_db is not None],
                ),
                units=(ea or eb)[0].units if (ea or eb) else "",
            )
        )
    return Split(title, before, after, rows)


def treatment_splits(
    data: LogData, lo: datetime, hi: datetime, where: Sequence[str]
) -> list[Split]:
    """Each treatment (clipped to the period) against an equally long stretch just before it."""
    out = []
    for t in data.treatments:
        start = max(t.start, lo)
        end = min(t.end or hi, hi)
        if end <= start:
            continue
        length = end - start
        before = (max(lo, t.start - length), t.start)
        if before[1] <= before[0]:
            before = (t.start, t.start)
        out.append(compare(data, t.name, before, (start, end), where))
    return out


def as_words_rate(r: RateRatio) -> str:
    """The rate comparison in a sentence a clinician reads at a glance."""
    if r.ratio is None or r.low is None or r.high is None:
        return "not enough monitored time or episodes to compare"
    if math.isinf(r.ratio):
        return f"{r.after} episodes after, none before"
    ci = f"rate ratio {r.ratio:.2f}, 95% CI {r.low:.2f} to {_num(r.high)}"
    if r.high < 1.0:
        return f"{100 * (1 - r.ratio):.0f}% fewer episodes per hour monitored ({ci})"
    if r.low > 1.0:
        return f"{100 * (r.ratio - 1):.0f}% more episodes per hour monitored ({ci})"
    return f"no clear change in how often ({ci})"


def _num(x: float) -> str:
    return "infinity" if math.isinf(x) else f"{x:.2f}"


def as_words_shift(s: Shift, what: str, unit: str, fmt: str = "{:.1f}") -> str:
    """A distribution comparison in a sentence."""
    if s.before_median is None or s.after_median is None:
        return f"{what}: not enough episodes on both sides"
    change = f"median {fmt.format(s.before_median)} {unit} before, {fmt.format(s.after_median)} {unit} after"
    if s.p is None:
        return f"{what}: {change}"
    verdict = "a clear change" if s.p < 0.05 else "no clear change"
    return f"{what}: {verdict} ({change}; rank test p = {s.p:.3g})"


def as_dict(obj: Any) -> Any:
    """Dataclasses, datetimes and floats as JSON-ready values (for tests and exports)."""
    if hasattr(obj, "__dataclass_fields__"):
        return {k: as_dict(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [as_dict(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj
