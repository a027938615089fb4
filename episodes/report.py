"""The clinician's report: one self-contained HTML page from the episode log.

Figures are drawn with matplotlib and embedded as PNG data; the page loads nothing from
anywhere, prints cleanly (it can be saved as PDF for a patient's record) and shows every time
in local time with the zone named. The numbers come from :mod:`episodes.summary`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from episodes import summary as sm
from episodes.log import EpisodeLog
from replay.files import open_private
from sensor.errors import SpasmwatchError
from sensor.meta import package_version

if TYPE_CHECKING:
    from matplotlib.colors import Colormap

#: How many of the longest episodes are listed (with a strip of raw signal each).
LONGEST = 5
#: Raw signal shown either side of an episode in its strip, s; strips show at most STRIP_MAX_S.
STRIP_PAD_S = 3.0
STRIP_MAX_S = 40.0
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; color: #222; margin: 1.5em auto; max-width: 64em;
       padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
.glance { background: #f3f6fa; border-left: 4px solid #1f77b4; padding: .6em 1em; }
.warn { background: #fff4e5; border-left: 4px solid #e08a00; padding: .6em 1em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .6em; text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .9em; }
.muted { color: #666; }
footer { margin-top: 2.5em; color: #555; font-size: .85em; border-top: 1px solid #ccc; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  figure, table, .glance, .warn { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass(frozen=True)
class Period:
    """The report's period, UTC, half-open."""

    start: datetime
    end: datetime


def local(t: datetime) -> datetime:
    """A UTC time in the machine's local zone."""
    return t.astimezone()


def zone_name(p: Period) -> str:
    """The local zone's name(s) over the period, e.g. ``CET`` or ``CET/CEST``."""
    names = []
    for t in (p.start, p.end - timedelta(microseconds=1)):
        name = local(t).tzname() or "local time"
        if name not in names:
            names.append(name)
    return "/".join(names)


def when(t: datetime) -> str:
    return f"{local(t):%Y-%m-%d %H:%M}"


def dur(seconds: float | None) -> str:
    """``12.3 s``, ``4.5 min`` or ``2.0 h``."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def hrs(h: float) -> str:
    """Hours as ``8.0 h``, ``15 min`` or ``40 s``."""
    if h >= 1 or h == 0:
        return f"{h:.1f} h"
    if h * 60 >= 1:
        return f"{h * 60:.0f} min"
    return f"{h * 3600:.0f} s"


def _span(p: Period) -> str:
    days = (p.end - p.start).total_seconds() / 86400
    return f"{days:.1f} days" if days >= 2 else hrs(days * 24)


def _e(text: object) -> str:
    return html.escape(str(text))


def default_period(data: sm.LogData) -> Period | None:
    """From the first session's start to the last one's end (or the first/last episode)."""
    times = [s.start for s in data.sessions] + [s.end for s in data.sessions]
    times += [e.start for e in data.episodes] + [m.at for m in data.marks]
    if not times:
        return None
    lo, hi = min(times), max(times)
    return Period(lo, hi + timedelta(seconds=1))


# -- figures -------------------------------------------------------------------------------------


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(ident: str, png: str, alt: str, caption: str) -> str:
    return (
        f'<figure id="{ident}" class="fig"><img src="data:image/png;base64,{png}" '
        f'alt="{_e(alt)}"><figcaption>{caption}</figcaption></figure>'
    )


def _days(p: Period) -> list[date]:
    first, last = local(p.start).date(), local(p.end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _hour_of_day(t: datetime) -> float:
    lt = local(t)
    return lt.hour + lt.minute / 60 + lt.second / 3600


def _spans_by_day(
    intervals: Sequence[sm.Interval], days: Sequence[date]
) -> list[tuple[int, float, float]]:
    """Intervals cut at local midnights: (day index, from hour, to hour)."""
    index = {d: i for i, d in enumerate(days)}
    out = []
    for a, b in intervals:
        t = a
        while t < b:
            lt = local(t)
            midnight = (lt + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            stop = min(b, midnight.astimezone(UTC))
            i = index.get(lt.date())
            if i is not None:
                out.append(
                    (i, _hour_of_day(t), _hour_of_day(stop) if stop < b else _hour_of_day(b))
                )
            if stop >= b:
                break
            t = stop
    return [(i, h0, h1 if h1 > h0 else 24.0) for i, h0, h1 in out]


def figures(data: sm.LogData, p: Period, where: Sequence[str]) -> list[str]:
    """The page's figures, as HTML ``<figure>`` elements."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    eps = sm.spasms(sm.counted(sm.in_period(data.episodes, p.start, p.end)))
    days = _days(p)
    colour = {loc: COLOURS[i % len(COLOURS)] for i, loc in enumerate(where)}
    zone = zone_name(p)
    monitored = sm.union(sm.clip([(s.start, s.end) for s in data.sessions], p.start, p.end))
    lost = sm.intersect(
        monitored, sm.union(sm.clip([(g.start, g.end) for g in data.lost], p.start, p.end))
    )
    out = []
    width = max(7.0, min(14.0, 4.0 + 0.35 * len(days)))

    # 1. Timeline: each day a column, time of day upwards; monitored time shaded.
    fig = Figure(figsize=(width, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for i, h0, h1 in _spans_by_day(monitored, days):
        ax.bar(i, h1 - h0, bottom=h0, width=0.8, color="#e6eef7", edgecolor="none")
    for i, h0, h1 in _spans_by_day(lost, days):
        ax.bar(i, h1 - h0, bottom=h0, width=0.8, color="#9e9e9e", edgecolor="none")
    index = {d: i for i, d in enumerate(days)}
    for loc in where:
        mine = [e for e in eps if e.location == loc]
        if not mine:
            continue
        xs = [index[local(e.start).date()] for e in mine]
        ys = [_hour_of_day(e.start) for e in mine]
        sizes = [12 + 6 * math.sqrt(max(e.duration_s, 0.1)) for e in mine]
        ax.scatter(xs, ys, s=sizes, color=colour[loc], alpha=0.75, label=loc, edgecolor="white")
    ax.set_ylim(24, 0)
    ax.set_yticks(range(0, 25, 3))
    ax.set_ylabel(f"time of day ({zone})")
    _day_axis(ax, days)
    ax.set_xlim(-0.6, len(days) - 0.4)
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color="#e6eef7"), Patch(color="#9e9e9e")]
    labels += ["monitored", "signal lost or unusable"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    out.append(
        _figure(
            "fig-timeline",
            _png(fig),
            "timeline of episodes by day and time of day",
            "Every episode by day and time of day (dot size grows with duration). Light blue: "
            "monitored; grey: signal lost or unusable. Blank means not monitored.",
        )
    )

    # 2. Heatmap: episodes per hour of day x day; grey where nothing was monitored that hour.
    counts = np.zeros((24, len(days)))
    watched = np.zeros((24, len(days)))
    for e in eps:
        counts[int(_hour_of_day(e.start)) % 24, index[local(e.start).date()]] += 1
    for i, h0, h1 in _spans_by_day(monitored, days):
        for h in range(int(h0), math.ceil(h1)):
            watched[h % 24, i] += min(h1, h + 1) - max(h0, h)
    shown = np.ma.masked_where(watched <= 0, counts)
    fig = Figure(figsize=(width, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#d9d9d9")
    cmap = _cmap()
    im = ax.imshow(
        shown,
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=max(1.0, float(counts.max())),
        extent=(-0.5, len(days) - 0.5, 24, 0),
        interpolation="nearest",
    )
    ax.set_yticks(range(0, 25, 3))
    ax.set_ylabel(f"hour of day ({zone})")
    _day_axis(ax, days)
    fig.colorbar(im, ax=ax, label="episodes in that hour")
    out.append(
        _figure(
            "fig-heatmap",
            _png(fig),
            "episodes per hour of day and day",
            "Episodes per hour of the day, day by day (night spasms show at the top and "
            "bottom). Grey: not monitored in that hour.",
        )
    )

    # 3. Per day: episodes and time in spasm per location.
    fig = Figure(figsize=(width, 3.6), layout="constrained")
    a1, a2 = fig.subplots(1, 2)
    base_n = np.zeros(len(days))
    base_t = np.zeros(len(days))
    for loc in where:
        n = np.zeros(len(days))
        t = np.zeros(len(days))
        for e in eps:
            if e.location == loc:
                i = index[local(e.start).date()]
                n[i] += 1
                t[i] += e.duration_s / 60
        if n.any():
            a1.bar(range(len(days)), n, bottom=base_n, color=colour[loc], label=loc)
            a2.bar(range(len(days)), t, bottom=base_t, color=colour[loc], label=loc)
            base_n += n
            base_t += t
    a1.set_ylabel("episodes")
    a2.set_ylabel("time in spasm (min)")
    for ax in (a1, a2):
        _day_axis(ax, days)
    if len(where) > 1:
        a1.legend(fontsize=8)
    out.append(
        _figure(
            "fig-daily",
            _png(fig),
            "episodes and time in spasm per day",
            "Episodes (left) and minutes in spasm (right) per day, by body location. Compare "
            "with the coverage table: a day with little monitoring shows few episodes.",
        )
    )

    # 4. Duration distribution (log-spaced bins: spasms last from under a second to minutes).
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.add_subplot()
    durations = [e.duration_s for e in eps]
    if durations:
        lo = max(0.1, min(durations) * 0.8)
        hi = max(durations) * 1.25
        bins = np.geomspace(lo, max(hi, lo * 2), 20).tolist()
        groups = [[e.duration_s for e in eps if e.location == loc] for loc in where]
        used = [(g, loc) for g, loc in zip(groups, where, strict=True) if g]
        ax.hist(
            [g for g, _ in used],
            bins=bins,
            stacked=True,
            color=[colour[loc] for _, loc in used],
            label=[loc for _, loc in used],
        )
        ax.set_xscale("log")
        if len(used) > 1:
            ax.legend(fontsize=8)
    ax.set_xlabel("episode duration (s, log scale)")
    ax.set_ylabel("episodes")
    out.append(
        _figure(
            "fig-durations",
            _png(fig),
            "distribution of episode durations",
            "How long episodes lasted.",
        )
    )
    return out


def _cmap() -> Colormap:
    from matplotlib import colormaps

    return colormaps["YlOrRd"]


def _day_axis(ax: object, days: Sequence[date]) -> None:
    step = max(1, len(days) // 14)
    ticks = list(range(0, len(days), step))
    ax.set_xticks(ticks)  # type: ignore[attr-defined]
    ax.set_xticklabels(  # type: ignore[attr-defined]
        [f"{days[i]:%a %d %b}" for i in ticks], rotation=30 if len(ticks) > 4 else 0, ha="right"
    )
    ax.set_xlim(-0.6, len(days) - 0.4)  # type: ignore[attr-defined]


def strip(data: sm.LogData, e: sm.Ep, db_folder: Path) -> str | None:
    """A PNG of the raw signal around an episode, when its session's recording exists."""
    session = next((s for s in data.sessions if s.id == e.session_id), None)
    if session is None or not session.recording:
        return None
    path = Path(session.recording)
    if not path.is_absolute():
        path = db_folder / path
    if not path.exists():
        return None
    from matplotlib.figure import Figure

    from replay.bdf import EdfRecording

    try:
        rec = EdfRecording(path, session.signal)
        if e.channel not in rec.channels:
            return None
        fs = rec.fs
        show = min(e.duration_s, STRIP_MAX_S - 2 * STRIP_PAD_S)
        a = e.onset_index - int(STRIP_PAD_S * fs)
        b = e.onset_index + int((show + STRIP_PAD_S) * fs)
        x = rec.window(e.channel, a, b)
    except (SpasmwatchError, OSError, ValueError):
        return None
    if len(x) == 0:
        return None
    t = (np.arange(len(x)) + max(0, a) - e.onset_index) / fs
    fig = Figure(figsize=(9, 1.9), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t, x, lw=0.4, color="#333")
    ax.axvspan(0, e.duration_s, color="#d62728", alpha=0.12, lw=0)
    ax.set_xlabel("s from onset")
    ax.set_ylabel(e.units)
    ax.set_xlim(t[0], t[-1])
    return _png(fig)


# -- the page ------------------------------------------------------------------------------------


def _table(
    ident: str, head: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int]
) -> str:
    th = "".join(
        f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i in numeric else ""}">{_e(c)}</td>' for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f'<table id="{ident}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _amp(x: float | None, units: str) -> str:
    return "–" if x is None else f"{x:.3g} {units} RMS"


def render(
    log: EpisodeLog,
    period: Period | None = None,
    compare_at: datetime | None = None,
    *,
    patient: str | None = None,
) -> str:
    """The whole report as one HTML string (``patient``: the configured pseudonym, else the
    one the latest session stored)."""
    data = sm.read_log(log)
    patient = patient or next((s.patient for s in reversed(data.sessions) if s.patient), None)
    p = period or default_period(data)
    title = "spasmwatch report" + (f" for {patient}" if patient else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    disclaimer = (
        '<p class="warn">spasmwatch is not a medical device. It counts contractions a sensor '
        "picked up; use it beside clinical judgement, not instead of it.</p>"
    )
    if p is None:
        parts += [
            '<p class="glance">The episode log holds no monitoring yet: no sessions, no episodes, '
            "no diary marks. Run <code>spasmwatch monitor</code> to start.</p>",
            disclaimer,
            _footer(log),
            "</body></html>",
        ]
        return "\n".join(parts)
    zone = zone_name(p)
    where = sm.locations(data)
    parts.append(
        f'<p class="sub">Period: {when(p.start)} to {when(p.end)} ({_e(zone)}), '
        f"{_span(p)}. "
        + (f"Patient: {_e(patient)}." if patient else "No patient pseudonym configured.")
        + "</p>"
    )
    parts.append(disclaimer)
    total = sm.coverage(data, p.start, p.end)
    every = sm.in_period(data.episodes, p.start, p.end)
    eps = sm.spasms(sm.counted(every))
    sums = [sm.summarise(data, p.start, p.end, loc) for loc in where]

    # At a glance
    if total.monitored_h == 0 and not eps:
        glance = "No monitoring in this period: there is no data, so no conclusion about spasms."
    elif not eps:
        glance = (
            f"No episodes were detected in {hrs(total.exposure_h)} of usable signal "
            f"({hrs(total.monitored_h)} monitored)."
        )
    else:
        busiest = max(sums, key=lambda s: s.count)
        longest = max(e.duration_s for e in eps)
        glance = (
            f"{len(eps)} episode{'s' if len(eps) != 1 else ''} in {hrs(total.exposure_h)} of usable "
            f"signal ({hrs(total.monitored_h)} monitored)"
            + (f", most at the {_e(busiest.location)} ({busiest.count})" if len(where) > 1 else "")
            + f". Longest: {dur(longest)}."
        )
    gaps = [
        f"lost for {hrs(h)}" if what == "lost" else f"unusable for {hrs(h)}"
        for what, h in (("lost", total.lost_h), ("unusable", total.unusable_h))
        if h > 0
    ]
    lost_note = (
        f" Signal was {' and '.join(gaps)}: episodes in those stretches could not be seen."
        if gaps
        else ""
    )
    if eps and 0 < total.exposure_h < 24:
        lost_note += (
            f" Rates per 24 h below are projected from only {hrs(total.exposure_h)} of signal."
        )
    parts.append(f'<h2 id="glance">At a glance</h2><p class="glance">{glance}{lost_note}</p>')

    # Coverage
    cov_rows = [
        [
            s.location,
            hrs(s.coverage.monitored_h),
            hrs(s.coverage.lost_h),
            hrs(s.coverage.unusable_h),
            hrs(s.coverage.exposure_h),
        ]
        for s in sums
    ]
    parts.append(
        '<h2 id="coverage">Coverage</h2>'
        "<p>How long each location was watched. Rates below are per 24 h of usable signal, so "
        "“no spasms” and “no data” never look alike.</p>"
        + _table(
            "coverage-table",
            ["location", "monitored", "signal lost", "unusable signal", "usable"],
            cov_rows,
            {1, 2, 3, 4},
        )
    )

    # Summary per location
    rows = []
    for s in sums:
        types = ", ".join(f"{t} {100 * v:.0f}%" for t, v in s.types.items() if v > 0) or "–"
        rows.append(
            [
                s.location,
                s.count,
                "–" if s.per_day is None else f"{s.per_day:.1f}",
                "–" if s.spasm_s_per_day is None else dur(s.spasm_s_per_day),
                dur(s.median_s),
                dur(s.longest_s),
                _amp(s.median_peak, s.units),
                "–" if s.median_strength_db is None else f"{s.median_strength_db:.1f} dB",
                types,
            ]
        )
    parts.append(
        '<h2 id="summary">Summary per body location</h2>'
        + _table(
            "summary-table",
            [
                "location",
                "episodes",
                "per 24 h",
                "in spasm per 24 h",
                "median duration",
                "longest",
                "median peak",
                "median strength over rest",
                "types",
            ],
            rows,
            {1, 2, 3, 4, 5, 6, 7},
        )
        + '<p class="muted">Episodes a clinician rejected are left out of every number. '
        "Strength: the episode's mean power over the resting level. Tonic: sustained; clonic: "
        "rhythmic jerks (3-8 Hz); mixed: both.</p>"
    )

    # Figures
    if eps or total.monitored_h > 0:
        parts.append('<h2 id="figures">Over the days</h2>')
        parts += figures(data, p, where)

    # Treatments and comparisons
    splits = sm.treatment_splits(data, p.start, p.end, where)
    if compare_at is not None:
        splits.append(
            sm.compare(
                data,
                f"before and after {when(compare_at)}",
                (p.start, compare_at),
                (compare_at, p.end),
                where,
            )
        )
    parts.append('<h2 id="treatments">Treatments and before/after</h2>')
    if data.treatments:
        parts.append(
            _table(
                "treatment-table",
                ["treatment", "from", "to"],
                [
                    [t.name, when(t.start), when(t.end) if t.end else "ongoing"]
                    for t in data.treatments
                ],
                set(),
            )
        )
    if not splits:
        parts.append(
            "<p>No treatments stored (<code>spasmwatch treatment add</code>) and no "
            "<code>--compare-at</code> date given.</p>"
        )
    for sp in splits:
        parts.append(
            f'<h3>{_e(sp.title)}</h3><p class="muted">Before: {when(sp.before[0])} to '
            f"{when(sp.before[1])}; after: {when(sp.after[0])} to {when(sp.after[1])}.</p>"
        )
        if not sp.rows:
            parts.append("<p>No monitoring on either side to compare.</p>")
        items = []
        for c in sp.rows:
            r = c.rate
            items.append(
                f"<li><b>{_e(c.location)}</b>: {_e(sm.as_words_rate(r))}; {r.before} episodes in "
                f"{hrs(r.before_h)} before, {r.after} in {hrs(r.after_h)} after. "
                f"{_e(sm.as_words_shift(c.duration, 'Duration', 's'))}. "
                f"{_e(sm.as_words_shift(c.strength, 'Strength over rest', 'dB'))}.</li>"
            )
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
    if splits:
        parts.append(
            '<p class="muted">Rate ratio: episodes per usable hour after / before, with an '
            "exact 95% confidence interval for Poisson counts; a ratio whose interval excludes 1 "
            "is a clear change. Duration and strength: Mann-Whitney rank test, two-sided.</p>"
        )

    # Longest episodes
    parts.append('<h2 id="longest">Longest episodes</h2>')
    longest_eps = sorted(eps, key=lambda e: -e.duration_s)[:LONGEST]
    if not longest_eps:
        parts.append("<p>No episodes in this period.</p>")
    for e in longest_eps:
        parts.append(
            f"<h3>{when(e.start)} · {dur(e.duration_s)} · {_e(e.location)} "
            f"({_e(', '.join(e.channels or (e.channel,)))}) · "
            f"{_e(e.type)} · peak {_amp(e.peak, e.units)}"
            + (f" · {_e(e.verdict)}" if e.verdict != sm.UNREVIEWED else "")
            + (" · cut short" if e.state == "interrupted" else "")
            + f' <span class="muted">#{e.id}</span></h3>'
        )
        png = strip(data, e, log.path.parent)
        if png is not None:
            parts.append(
                _figure(
                    f"fig-strip-{e.id}",
                    png,
                    f"raw signal of episode {e.id}",
                    "Raw signal around the episode (shaded: the episode).",
                )
            )
        else:
            parts.append('<p class="muted">No recording of the raw signal for this session.</p>')

    # Diary
    parts.append('<h2 id="diary">The patient\'s diary</h2>')
    matches = sm.mark_matches(data, p.start, p.end)
    if not matches:
        parts.append('<p>No diary marks in this period (<code>spasmwatch mark "TEXT"</code>).</p>')
    else:
        hit = sum(1 for _, e in matches if e is not None)
        window = int(sm.MARK_WINDOW.total_seconds() // 60)
        parts.append(
            f"<p>{hit} of {len(matches)} marks had a detected episode within {window} min.</p>"
            + _table(
                "diary-table",
                ["time", "location", "note", "detected episode nearby"],
                [
                    [
                        when(m.at),
                        m.location or "–",
                        m.text,
                        f"{when(e.start)}, {dur(e.duration_s)}, {e.location}" if e else "none",
                    ]
                    for m, e in matches
                ],
                set(),
            )
        )

    # Reviews
    parts.append('<h2 id="reviews">Clinician review</h2>')
    confirmed = [e for e in every if e.verdict == sm.CONFIRMED]
    rejected = [e for e in every if e.verdict == sm.REJECTED]
    parts.append(
        f"<p>{len(confirmed)} confirmed, {len(rejected)} rejected, "
        f"{len(every) - len(confirmed) - len(rejected)} not reviewed "
        "(<code>spasmwatch episodes --confirm ID</code> / <code>--reject ID</code>).</p>"
    )
    for name, group in (("Confirmed", confirmed), ("Rejected (left out of the numbers)", rejected)):
        if group:
            parts.append(
                f"<h3>{name}</h3>"
                + _table(
                    f"{name.split()[0].lower()}-table",
                    ["#", "time", "duration", "location", "type"],
                    [[e.id, when(e.start), dur(e.duration_s), e.location, e.type] for e in group],
                    {0, 2},
                )
            )
    parts += [_footer(log), "</body></html>"]
    return "\n".join(parts)


def _footer(log: EpisodeLog) -> str:
    now = datetime.now(UTC)
    return (
        f"<footer>Made by spasmwatch {_e(package_version())} on {when(now)} "
        f"({_e(local(now).tzname())}) from {_e(log.path.name)}. Times are local "
        "time. An episode counts on the day it began; episodes at one location at the same "
        "time (seen on several channels) count as one.</footer>"
    )


def write(
    log: EpisodeLog,
    out: Path,
    period: Period | None,
    compare_at: datetime | None,
    *,
    patient: str | None = None,
) -> None:
    """Write the report, readable by its owner only (it is health data)."""
    text = render(log, period, compare_at, patient=patient)
    with open_private(out, "w") as fh:
        fh.write(text)
