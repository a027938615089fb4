"""Commands for the patient's diary and the clinician's review: mark, treatment, report, export.

Each reads or writes the episode log given by ``--db``, else the settings file's
``paths.db``, else the default log.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from episodes import export
from episodes.log import EpisodeLog, default_db_path
from episodes.report import Period, write
from replay.files import open_private
from replay.timefmt import parse_time
from sensor.errors import SpasmwatchError
from spasmwatch.settings import Settings, load


def settings_of(args: argparse.Namespace) -> Settings:
    """The user's settings file (``--config``, or the default file where it exists)."""
    path = Path(args.config) if getattr(args, "config", None) else None
    settings, _ = load(path, required=path is not None)
    return settings


def db_path(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    """Where the episode log is: ``--db``, the settings' ``paths.db``, or the default."""
    if getattr(args, "db", None):
        return Path(args.db).expanduser()
    settings = settings or settings_of(args)
    return Path(settings.paths.db or default_db_path()).expanduser()


def existing_log(path: Path) -> EpisodeLog:
    """Open a log that must already exist."""
    if not path.exists():
        raise SpasmwatchError(f"{path}: no episode log here yet (run spasmwatch monitor first)")
    return EpisodeLog(path)


def day_or_time(text: str, *, end: bool = False) -> datetime:
    """An ISO date or date-time, local unless it names a zone. A bare date means the start of
    that day, or with ``end`` the end of it (so ``--to 2026-11-30`` includes the 30th)."""
    try:
        t = parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date or date-time: {text!r}") from None
    if end and len(text.strip()) == 10:
        local = t.astimezone()
        t = (local + timedelta(days=1)).replace(hour=0, minute=0).astimezone(UTC)
    return t


def _local(t: datetime) -> str:
    lt = t.astimezone()
    return f"{lt:%Y-%m-%d %H:%M} ({lt.tzname()})"


# -- mark ------------------------------------------------------------------------------------


def cmd_mark(args: argparse.Namespace) -> int:
    at = args.at or datetime.now(UTC)
    with EpisodeLog(db_path(args)) as log:
        log.add_mark(at, args.text, args.location)
    where = f" at the {args.location}" if args.location else ""
    print(f"Noted{where}, {_local(at)}: {args.text.strip()}")
    return 0


# -- treatment -------------------------------------------------------------------------------


def cmd_treatment(args: argparse.Namespace) -> int:
    if args.action == "add":
        with EpisodeLog(db_path(args)) as log:
            log.add_treatment(args.name, args.start, args.end)
        until = f" to {_local(args.end)}" if args.end else " (ongoing)"
        print(f"Treatment {args.name.strip()!r} from {_local(args.start)}{until} stored.")
        return 0
    with existing_log(db_path(args)) as log:
        rows = log.treatments()
    if not rows:
        print("No treatments stored (spasmwatch treatment add NAME --from DATE).")
        return 0
    for r in rows:
        end = _local(parse_time(r["to_utc"])) if r["to_utc"] else "ongoing"
        print(f"{r['id']:>3}  {_local(parse_time(r['from_utc']))} to {end}  {r['name']}")
    return 0


# -- report ----------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    out = Path(args.out)
    if not out.parent.exists():
        raise SpasmwatchError(f"{out.parent}: no such folder for the report")
    with existing_log(db_path(args, settings)) as log:
        period = None
        if args.start or args.end:
            span = log.query(
                "SELECT min(started_at), max(coalesce(ended_at, last_heartbeat)) FROM sessions"
            )
            first = parse_time(span[0][0]) if span[0][0] else datetime.now(UTC)
            last = parse_time(span[0][1]) if span[0][1] else datetime.now(UTC)
            period = Period(args.start or first, args.end or last + timedelta(seconds=1))
            if period.end <= period.start:
                raise SpasmwatchError("--to is before --from: the period is empty")
        write(log, out, period, args.compare_at, patient=settings.patient)
    print(f"Report written to {out} (open it in a browser; it is private health data).")
    return 0


# -- export ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    with existing_log(db_path(args)) as log:
        if args.format == "events-tsv":
            written = export.write_events(log, out, sys.stdout)
            for p in written:
                print(f"wrote {p}", file=sys.stderr)
            return 0
        if args.format == "edf-annotations":
            data = export.edf_annotations(log)
            if out is None:
                sys.stdout.buffer.write(data)
            else:
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            return 0
        writer = export.write_csv if args.format == "csv" else export.write_jsonl
        if out is None:
            writer(log, sys.stdout)
        else:
            with open_private(out) as fh:
                n = writer(log, fh)
            print(f"wrote {n} rows to {out}", file=sys.stderr)
    return 0


# -- episodes --confirm / --reject -----------------------------------------------------------


def review(args: argparse.Namespace) -> int:
    """A clinician's verdict on episodes (``episodes --confirm ID`` / ``--reject ID``)."""
    with existing_log(db_path(args)) as log:
        for ids, verdict in ((args.confirm or [], "confirmed"), (args.reject or [], "rejected")):
            for i in ids:
                log.review(i, verdict, args.note)
                print(f"episode {i}: {verdict} (kept beside the detector's row)")
    return 0


def add_commands(sub: Any, db_help: str) -> None:
    """Register mark, treatment, report and export."""
    m = sub.add_parser("mark", help="note a spasm you felt, in your own words")
    m.add_argument("text", help='what happened, e.g. "calf cramp woke me up"')
    m.add_argument("--at", type=day_or_time, help="when (default now; e.g. 2026-11-25T03:10)")
    m.add_argument("--location", help="where, e.g. 'left calf'")
    m.add_argument("--db", help=db_help)
    m.add_argument("--config", help="settings file")
    m.set_defaults(func=cmd_mark)

    t = sub.add_parser("treatment", help="store or list treatment periods")
    tsub = t.add_subparsers(dest="action", required=True, metavar="add|list")
    ta = tsub.add_parser("add", help="store a treatment period")
    ta.add_argument("name", help="e.g. 'baclofen 10 mg' or 'physical therapy'")
    ta.add_argument("--from", dest="start", type=day_or_time, required=True, help="first day")
    ta.add_argument(
        "--to", dest="end", type=lambda s: day_or_time(s, end=True), help="last day (or ongoing)"
    )
    tl = tsub.add_parser("list", help="list stored treatments")
    for p in (ta, tl):
        p.add_argument("--db", help=db_help)
        p.add_argument("--config", help="settings file")
    t.set_defaults(func=cmd_treatment)

    r = sub.add_parser("report", help="write the clinician's report (one HTML file)")
    r.add_argument("--out", required=True, help="the HTML file to write")
    r.add_argument("--from", dest="start", type=day_or_time, help="first day (default: the log's)")
    r.add_argument(
        "--to", dest="end", type=lambda s: day_or_time(s, end=True), help="last day (inclusive)"
    )
    r.add_argument("--compare-at", type=day_or_time, help="also compare before and after this date")
    r.add_argument("--db", help=db_help)
    r.add_argument("--config", help="settings file (for the patient's pseudonym)")
    r.set_defaults(func=cmd_report)

    e = sub.add_parser("export", help="episodes, marks and signal-lost stretches for other tools")
    e.add_argument("--format", choices=export.FORMATS, required=True)
    e.add_argument("--out", help="file (or, for events-tsv, a folder: one file per session)")
    e.add_argument("--db", help=db_help)
    e.add_argument("--config", help="settings file")
    e.set_defaults(func=cmd_export)
