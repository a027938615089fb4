"""The log's episodes, diary marks and signal-lost stretches in formats other tools read.

- ``csv``: one row per item, a ``kind`` column (``episode``, ``mark``, ``signal_lost``);
- ``jsonl``: the same, one JSON object per line;
- ``events-tsv``: the BIDS events layout (``onset``, ``duration``, ``trial_type``, then
  ``session``, ``channel``, ``location`` and more), onsets in seconds from the session's first
  sample, with a JSON sidecar describing the columns and where they came from; one file per
  session, or one file with every session;
- ``edf-annotations``: an EDF+ file holding only annotations (onsets from the first session's
  start, UTC as spasmwatch's recordings are), for EDF viewers and MNE.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from episodes.errors import LogError
from episodes.log import EpisodeLog
from replay.files import open_private, private_dir
from replay.timefmt import parse_time
from sensor.meta import package_version

FORMATS = ("csv", "jsonl", "events-tsv", "edf-annotations")
FIELDS = (
    "kind",
    "id",
    "session",
    "start_utc",
    "end_utc",
    "duration_s",
    "channel",
    "location",
    "type",
    "peak",
    "mean",
    "units",
    "strength_db",
    "state",
    "verdict",
    "reason",
    "text",
)
BIDS_COLUMNS = (
    "onset",
    "duration",
    "trial_type",
    "session",
    "channel",
    "location",
    "spasm_type",
    "peak",
    "units",
    "strength_db",
    "state",
    "verdict",
    "note",
)
BIDS_SIDECAR: dict[str, Any] = {
    "onset": {"Description": "Seconds from the session's first sample.", "Units": "s"},
    "duration": {"Description": "Seconds; n/a for a diary mark (a moment).", "Units": "s"},
    "trial_type": {
        "Description": "What the row is.",
        "Levels": {
            "spasm": "an involuntary contraction episode detected by spasmwatch",
            "mark": "the patient's own diary note of a spasm",
            "signal_lost": "a stretch without usable signal (see note for the reason)",
        },
    },
    "session": {"Description": "spasmwatch session id in the episode log."},
    "channel": {"Description": "sEMG channel or accelerometer sensor; n/a: every channel."},
    "location": {"Description": "Body location of the channel."},
    "spasm_type": {
        "Description": "tonic (sustained), clonic (rhythmic 3-8 Hz), mixed, or unknown."
    },
    "peak": {"Description": "Largest RMS amplitude over 100 ms during the episode."},
    "units": {"Description": "Units of peak: uV (sEMG) or g (acceleration)."},
    "strength_db": {"Description": "Mean power over the resting level.", "Units": "dB"},
    "state": {
        "Description": "ended, or interrupted (cut short by a stop, a lost link, or a level "
        "held over rest for longer than any spasm)."
    },
    "verdict": {"Description": "A clinician's review: confirmed, rejected or unreviewed."},
    "note": {"Description": "The diary text, or why the signal was lost."},
}


@dataclass(frozen=True)
class Item:
    """One exported thing, with every field as text-ready values (None when it has none)."""

    values: dict[str, Any]
    start: datetime
    session: int | None


def items(log: EpisodeLog) -> list[Item]:
    """Every ended episode, mark and signal-lost stretch, by time."""
    verdicts = log.verdicts()
    out: list[Item] = []
    for r in log.query("SELECT * FROM episodes WHERE state != 'open' ORDER BY start_utc, id"):
        v: dict[str, Any] = dict.fromkeys(FIELDS)
        v.update(
            kind="episode",
            id=r["id"],
            session=r["session_id"],
            start_utc=r["start_utc"],
            end_utc=r["end_utc"],
            duration_s=r["duration_s"],
            channel=r["channel"],
            location=r["location"],
            type=r["type"],
            peak=r["peak"],
            mean=r["mean"],
            units=r["units"],
            strength_db=r["strength_db"],
            state=r["state"],
            verdict=verdicts.get(r["id"], "unreviewed"),
        )
        out.append(Item(v, parse_time(r["start_utc"]), r["session_id"]))
    spans = [
        (r["id"], parse_time(r["started_at"]), parse_time(r["ended_at"] or r["last_heartbeat"]))
        for r in log.query("SELECT * FROM sessions ORDER BY id")
    ]
    for r in log.query("SELECT * FROM marks ORDER BY at_utc, id"):
        at = parse_time(r["at_utc"])
        session = next((sid for sid, a, b in spans if a <= at <= b), None)
        v = dict.fromkeys(FIELDS)
        v.update(
            kind="mark",
            id=r["id"],
            session=session,
            start_utc=r["at_utc"],
            location=r["location"],
            text=r["text"],
        )
        out.append(Item(v, at, session))
    for r in log.query("SELECT * FROM signal_lost ORDER BY start_utc, id"):
        v = dict.fromkeys(FIELDS)
        v.update(
            kind="signal_lost",
            id=r["id"],
            session=r["session_id"],
            start_utc=r["start_utc"],
            end_utc=r["end_utc"],
            duration_s=r["duration_s"],
            channel=r["channel"],
            reason=r["reason"],
        )
        out.append(Item(v, parse_time(r["start_utc"]), r["session_id"]))
    out.sort(key=lambda i: (i.start, i.values["kind"], i.values["id"]))
    return out


def write_csv(log: EpisodeLog, fh: IO[str]) -> int:
    """Every item as CSV; returns the row count."""
    rows = items(log)
    w = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for it in rows:
        w.writerow({k: "" if v is None else v for k, v in it.values.items()})
    return len(rows)


def write_jsonl(log: EpisodeLog, fh: IO[str]) -> int:
    """Every item as one JSON object per line."""
    rows = items(log)
    for it in rows:
        fh.write(json.dumps(it.values) + "\n")
    return len(rows)


def _na(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x).replace("\t", " ").replace("\n", " ")


def _bids_rows(log: EpisodeLog) -> Iterator[tuple[int, dict[str, str]]]:
    starts = {
        r["id"]: parse_time(r["started_at"])
        for r in log.query("SELECT id, started_at FROM sessions")
    }
    for it in items(log):
        sid = it.session
        if sid is None:
            continue  # a mark outside every session has no onset to give
        v = it.values
        trial = {"episode": "spasm", "mark": "mark", "signal_lost": "signal_lost"}[v["kind"]]
        yield (
            sid,
            {
                "onset": f"{(it.start - starts[sid]).total_seconds():.3f}",
                "duration": _na(v["duration_s"]),
                "trial_type": trial,
                "session": str(sid),
                "channel": _na(v["channel"]),
                "location": _na(v["location"]),
                "spasm_type": _na(v["type"]),
                "peak": _na(v["peak"]),
                "units": _na(v["units"]),
                "strength_db": _na(v["strength_db"]),
                "state": _na(v["state"]),
                "verdict": _na(v["verdict"]),
                "note": _na(v["text"] if v["kind"] == "mark" else v["reason"]),
            },
        )


def _tsv(rows: list[dict[str, str]]) -> str:
    lines = ["\t".join(BIDS_COLUMNS)]
    lines += ["\t".join(r[c] for c in BIDS_COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def _sidecar(log: EpisodeLog, sessions: list[int]) -> str:
    info = {
        r["id"]: {"StartTimeUTC": r["started_at"], "Source": r["source"], "Device": r["device"]}
        for r in log.query("SELECT * FROM sessions")
        if r["id"] in sessions
    }
    doc = {
        **BIDS_SIDECAR,
        "GeneratedBy": [{"Name": "spasmwatch", "Version": package_version()}],
        "Sessions": {str(k): v for k, v in sorted(info.items())},
    }
    return json.dumps(doc, indent=2) + "\n"


def write_events(log: EpisodeLog, out: Path | None, stdout: IO[str]) -> list[Path]:
    """BIDS events: to stdout, to one file, or one file per session in a folder."""
    rows = list(_bids_rows(log))
    if out is None:
        stdout.write(_tsv([r for _, r in rows]))
        return []
    if out.is_dir() or str(out).endswith("/"):
        private_dir(out)
        written = []
        ids = sorted({sid for sid, _ in log.query("SELECT id, 0 FROM sessions")})
        for sid in ids:
            tsv = out / f"ses-{sid}_events.tsv"
            with open_private(tsv) as fh:
                fh.write(_tsv([r for s, r in rows if s == sid]))
            with open_private(tsv.with_suffix(".json")) as fh:
                fh.write(_sidecar(log, [sid]))
            written += [tsv, tsv.with_suffix(".json")]
        return written
    with open_private(out) as fh:
        fh.write(_tsv([r for _, r in rows]))
    sidecar = out.with_suffix(".json")
    with open_private(sidecar) as fh:
        fh.write(_sidecar(log, sorted({s for s, _ in rows})))
    return [out, sidecar]


def edf_annotations(log: EpisodeLog) -> bytes:
    """An annotations-only EDF+ file: episodes, marks and signal-lost stretches."""
    from edfio import Edf, EdfAnnotation, Recording

    all_items = items(log)
    if not all_items:
        raise LogError(
            log.path, "nothing to export as EDF annotations: no episodes, marks or gaps yet"
        )
    first = [parse_time(r["started_at"]) for r in log.query("SELECT started_at FROM sessions")]
    first += [it.start for it in all_items]
    start = min(first) if first else datetime.now().astimezone()
    start = start.astimezone(UTC).replace(microsecond=0)
    notes = []
    for it in all_items:
        v = it.values
        if v["kind"] == "episode":
            text = f"spasm {v['channel']} {v['type']} ({v['location']}, {v['verdict']})"
        elif v["kind"] == "mark":
            text = f"mark: {v['text']}" + (f" ({v['location']})" if v["location"] else "")
        else:
            text = f"signal lost: {v['reason']}" + (f" {v['channel']}" if v["channel"] else "")
        onset = (it.start - start).total_seconds()
        notes.append(EdfAnnotation(round(onset, 3), v["duration_s"], text))
    edf = Edf(
        [],
        annotations=notes,
        starttime=start.time(),
        recording=Recording(startdate=start.date()),
    )
    buf = io.BytesIO()
    edf.write(buf)
    return buf.getvalue()
