"""The clinician's report: every number against plain SQL and arithmetic on a hand-built log."""

from __future__ import annotations

import math
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import query, run_cli
from scipy import stats

from detect.events import Episode
from episodes import summary
from episodes.log import EpisodeLog
from episodes.report import render


class Tables(HTMLParser):
    """The text of every cell of every table with an id, and the page's visible text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)

    def row(self, table: str, first: str) -> list[str]:
        return next(r for r in self.tables[table] if r and r[0] == first)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CALF, BACK = "left calf", "lower back"
#: (session, channel, location, start UTC, duration s, type, peak uV, strength dB)
EPISODES = [
    (1, "ch1", CALF, "2026-03-02T21:30:00", 10.0, "tonic", 50.0, 12.0),
    (1, "ch1", CALF, "2026-03-02T23:00:00", 30.0, "clonic", 80.0, 15.0),
    (1, "ch1", CALF, "2026-03-03T02:00:00", 5.0, "tonic", 40.0, 9.0),
    (1, "ch1", CALF, "2026-03-03T04:00:00", 120.0, "mixed", 120.0, 20.0),
    (2, "ch1", CALF, "2026-03-09T22:00:00", 8.0, "tonic", 45.0, 10.0),
    (2, "ch1", CALF, "2026-03-09T23:30:00", 20.0, "tonic", 60.0, 11.0),
    (2, "ch2", BACK, "2026-03-10T00:30:00", 15.0, "clonic", 30.0, 8.0),
    (2, "ch2", BACK, "2026-03-10T03:00:00", 60.0, "tonic", 35.0, 7.0),
]
SESSIONS = {
    1: ("2026-03-02T21:00:00", "2026-03-03T05:00:00", {"ch1": CALF}),
    2: ("2026-03-09T21:00:00", "2026-03-10T05:00:00", {"ch1": CALF, "ch2": BACK}),
}
FS = 1000.0


def build(path: Path) -> list[int]:
    """The hand-built log; returns the episode ids in EPISODES order."""
    ids = []
    with EpisodeLog(path) as log:
        for sid, (start, end, where) in SESSIONS.items():
            got = log.start_session(
                source="test",
                signal="emg",
                fs=FS,
                started_at=utc(start),
                locations=where,
                config={},
                version="test",
                patient="P-042",
            )
            assert got == sid
            for s, ch, loc, at, dur, typ, peak, strength in EPISODES:
                if s != sid:
                    continue
                onset = round((utc(at) - utc(start)).total_seconds() * FS)
                ep = Episode(
                    ch,
                    loc,
                    "ended",
                    onset,
                    onset + round(dur * FS),
                    onset + 500,
                    FS,
                    "uV",
                    peak,
                    peak / 2,
                    strength,
                    typ,
                )
                ids.append(log.record(sid, utc(start), ep))
            log.end_session(sid, utc(end))
        # Session 1: the link was down for 30 min; the electrode was off for 20 min.
        log.signal_lost(1, utc("2026-03-03T01:00:00"), utc("2026-03-03T01:30:00"), "link")
        log.signal_lost(
            1, utc("2026-03-03T03:00:00"), utc("2026-03-03T03:20:00"), "detached", channel="ch1"
        )
        log.review(ids[1], "confirmed")
        log.review(ids[7], "rejected")
        log.add_mark(utc("2026-03-02T23:05:00"), "woke up with a cramp", CALF)
        log.add_mark(utc("2026-03-10T02:00:00"), "back pain", BACK)
        log.add_treatment("baclofen 10 mg", utc("2026-03-06T00:00:00"))
    return ids


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def sql(db: Path, text: str) -> list[tuple[object, ...]]:
    return query(db, text)


NOT_REJECTED = "id NOT IN (SELECT episode_id FROM reviews WHERE verdict = 'rejected')"


def monitored_h(db: Path, location: str) -> float:
    return float(
        sql(
            db,
            "SELECT sum((julianday(ended_at) - julianday(started_at)) * 24) FROM sessions "
            f"WHERE locations LIKE '%{location}%'",
        )[0][0]  # type: ignore[arg-type]
    )


def lost_h(db: Path, reasons: str, session_filter: str) -> float:
    v = sql(
        db,
        "SELECT coalesce(sum(duration_s), 0) / 3600.0 FROM signal_lost "
        f"WHERE reason IN ({reasons}) AND session_id IN ({session_filter})",
    )[0][0]
    return float(v)  # type: ignore[arg-type]


def test_every_number_in_the_report_matches_plain_sql(tmp_path: Path, berlin: None) -> None:
    db = tmp_path / "log.db"
    ids = build(db)
    with EpisodeLog(db) as log:
        page = render(log)
    t = Tables(page)

    # Period and zone: local time (Berlin is on CET in early March), zone named.
    assert "2026-03-02 22:00" in t.plain  # first session start, 21:00 UTC
    assert "(CET)" in t.plain
    assert "P-042" in t.plain
    assert "not a medical device" in t.plain

    # Coverage per location.
    calf_sessions = "SELECT id FROM sessions WHERE locations LIKE '%left calf%'"
    back_sessions = "SELECT id FROM sessions WHERE locations LIKE '%lower back%'"
    mon = {CALF: monitored_h(db, CALF), BACK: monitored_h(db, BACK)}
    lost = {CALF: lost_h(db, "'link'", calf_sessions), BACK: lost_h(db, "'link'", back_sessions)}
    bad = {
        CALF: lost_h(db, "'detached'", calf_sessions),
        BACK: float(
            sql(
                db,
                "SELECT coalesce(sum(duration_s), 0) / 3600.0 FROM signal_lost WHERE "
                f"reason = 'detached' AND channel = 'ch2' AND session_id IN ({back_sessions})",
            )[0][0]  # type: ignore[arg-type]
        ),
    }
    usable = {loc: mon[loc] - lost[loc] - bad[loc] for loc in mon}
    assert mon == {CALF: pytest.approx(16.0), BACK: pytest.approx(8.0)}  # sanity of the SQL
    for loc in (CALF, BACK):
        row = t.row("coverage-table", loc)
        assert row[1] == f"{mon[loc]:.1f} h"
        assert row[2] == (
            f"{lost[loc] * 60:.0f} min" if 0 < lost[loc] < 1 else f"{lost[loc]:.1f} h"
        )
        assert row[3] == (f"{bad[loc] * 60:.0f} min" if 0 < bad[loc] < 1 else f"{bad[loc]:.1f} h")
        assert row[4] == f"{usable[loc]:.1f} h"

    # Summary per location.
    for loc in (CALF, BACK):
        rows = sql(
            db,
            f"SELECT duration_s, peak, strength_db, type FROM episodes "
            f"WHERE location = '{loc}' AND {NOT_REJECTED}",
        )
        durations = [float(r[0]) for r in rows]  # type: ignore[arg-type]
        n = len(durations)
        days = usable[loc] / 24
        row = t.row("summary-table", loc)
        assert row[1] == str(n)
        assert row[2] == f"{n / days:.1f}"
        per_day_s = sum(durations) / days
        assert row[3] == (f"{per_day_s / 60:.1f} min" if per_day_s >= 90 else f"{per_day_s:.1f} s")
        med = statistics.median(durations)
        assert row[4] == (f"{med:.1f} s" if med < 90 else f"{med / 60:.1f} min")
        longest = max(durations)
        assert row[5] == (f"{longest:.1f} s" if longest < 90 else f"{longest / 60:.1f} min")
        assert row[6] == f"{statistics.median(float(r[1]) for r in rows):.3g} uV RMS"  # type: ignore[arg-type]
        assert row[7] == f"{statistics.median(float(r[2]) for r in rows):.1f} dB"  # type: ignore[arg-type]
        for typ in ("tonic", "clonic", "mixed"):
            share = sum(r[3] == typ for r in rows) / n
            if share:
                assert f"{typ} {100 * share:.0f}%" in row[8]
    # The rejected episode is out of the numbers: the back has one episode left.
    assert t.row("summary-table", BACK)[1] == "1"

    # Diary: the first mark is 4.5 min after an episode's end, the second 1.5 h from any.
    assert "1 of 2 marks had a detected episode within 15 min" in t.plain
    assert t.row("diary-table", "2026-03-03 00:05")[3].startswith("2026-03-03 00:00, 30.0 s")
    assert t.row("diary-table", "2026-03-10 03:00")[3] == "none"

    # Reviews: kept apart, never over the detector's rows.
    assert "1 confirmed, 1 rejected, 6 not reviewed" in t.plain
    assert t.tables["confirmed-table"][1][0] == str(ids[1])
    assert t.tables["rejected-table"][1][0] == str(ids[7])
    assert sql(db, f"SELECT state FROM episodes WHERE id = {ids[7]}") == [("ended",)]

    # Treatment: after = from its start (local midnight) to the period's end; before = as long.
    assert "baclofen 10 mg" in t.plain
    after_n = len(
        sql(
            db,
            f"SELECT id FROM episodes WHERE location = '{CALF}' AND {NOT_REJECTED} "
            "AND start_utc >= '2026-03-06T00:00:00.000Z'",
        )
    )
    before_n = 6 - after_n
    ratio = (after_n / usable_between(db, CALF, "2026-03-06", "2027")) / (
        before_n / usable_between(db, CALF, "2000", "2026-03-06")
    )
    assert f"rate ratio {ratio:.2f}" in t.plain

    # Longest episodes first, in local time, with the type and peak.
    heads = re.findall(r"<h3>(2026[^<]*)", page)
    assert heads[0].startswith("2026-03-03 05:00 · 2.0 min · left calf (ch1) · mixed")


def usable_between(db: Path, location: str, lo: str, hi: str) -> float:
    """Usable hours of sessions that started in [lo, hi) (each session is wholly on one side)."""
    sessions = (
        f"SELECT id FROM sessions WHERE locations LIKE '%{location}%' "
        f"AND started_at >= '{lo}' AND started_at < '{hi}'"
    )
    mon = float(
        sql(
            db,
            "SELECT coalesce(sum((julianday(ended_at) - julianday(started_at)) * 24), 0) "
            f"FROM sessions WHERE id IN ({sessions})",
        )[0][0]  # type: ignore[arg-type]
    )
    return mon - lost_h(db, "'link', 'detached'", sessions)


def test_compare_at_splits_the_period_and_words_the_result(tmp_path: Path, berlin: None) -> None:
    db = tmp_path / "log.db"
    build(db)
    with EpisodeLog(db) as log:
        page = render(log, compare_at=utc("2026-03-06T00:00:00"))
    t = Tables(page)
    assert "before and after 2026-03-06 01:00" in t.plain
    # Left calf: 4 episodes in 16 - 0.5 - 1/3 - 8 usable h before, 2 in 8 h after.
    r = summary.rate_ratio(2, 8.0, 4, 8 - 0.5 - 1 / 3)
    assert f"rate ratio {r.ratio:.2f}, 95% CI {r.low:.2f} to {r.high:.2f}" in t.plain
    assert "no clear change in how often" in t.plain


def test_rate_ratio_interval_and_p_value_agree_with_scipy() -> None:
    # Equal exposures, 10 vs 30 episodes: the ratio is 1/3 and clearly below 1.
    r = summary.rate_ratio(10, 100.0, 30, 100.0)
    assert r.ratio == pytest.approx(1 / 3)
    # The exact interval's bounds are where the binomial tails reach 2.5 %.
    p_low = r.low / (1 + r.low)  # type: ignore[operator]
    p_high = r.high / (1 + r.high)  # type: ignore[operator]
    assert stats.binom.sf(9, 40, p_low) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(10, 40, p_high) == pytest.approx(0.025, rel=1e-6)
    assert r.p == pytest.approx(stats.binomtest(10, 40, 0.5).pvalue)
    assert r.high < 1  # type: ignore[operator]
    assert "67% fewer episodes" in summary.as_words_rate(r)
    # Unequal exposures move the interval by the exposure ratio.
    r2 = summary.rate_ratio(10, 50.0, 30, 100.0)
    assert r2.ratio == pytest.approx(2 / 3)
    assert r2.low == pytest.approx(2 * r.low)  # type: ignore[operator]
    assert r2.p == pytest.approx(stats.binomtest(10, 40, 50 / 150).pvalue)
    # Nothing to compare is said in words, not a crash.
    assert summary.rate_ratio(0, 10.0, 0, 10.0).ratio is None
    assert "not enough" in summary.as_words_rate(summary.rate_ratio(0, 0.0, 3, 10.0))
    assert math.isinf(summary.rate_ratio(3, 10.0, 0, 10.0).ratio or 0.0)


def test_rank_test_known_answer() -> None:
    # Two fully separated samples of five: the exact two-sided p is 2 / C(10, 5) = 2 / 252.
    s = summary.shift([1.0, 2, 3, 4, 5], [6.0, 7, 8, 9, 10])
    assert s.p == pytest.approx(2 / 252)
    assert (s.before_median, s.after_median) == (3.0, 8.0)
    assert "a clear change" in summary.as_words_shift(s, "Duration", "s")


def test_empty_log_and_one_episode_say_so_plainly(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    EpisodeLog(db).close()
    out = tmp_path / "empty.html"
    done = run_cli("report", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "no monitoring yet" in Tables(out.read_text()).plain
    assert out.stat().st_mode & 0o777 == 0o600

    one = tmp_path / "one.db"
    with EpisodeLog(one) as log:
        sid = log.start_session(
            source="test",
            signal="emg",
            fs=FS,
            started_at=utc("2026-03-02T21:00:00"),
            locations={"ch1": CALF},
            config={},
            version="test",
        )
        log.record(
            sid,
            utc("2026-03-02T21:00:00"),
            Episode(
                "ch1", CALF, "ended", 60_000, 72_000, 60_500, FS, "uV", 50.0, 25.0, 10.0, "tonic"
            ),
        )
        log.end_session(sid, utc("2026-03-02T22:00:00"))
    out1 = tmp_path / "one.html"
    assert run_cli("report", "--db", str(one), "--out", str(out1)).returncode == 0
    text = Tables(out1.read_text()).plain
    assert "1 episode in 1.0 h of usable signal" in text
    assert "12.0 s" in text


def test_a_spasm_seen_on_two_channels_of_one_location_counts_once(tmp_path: Path) -> None:
    # Two electrodes on one calf: both see the spasm at 60 s (ch1 60-72 s, ch2 61-75 s,
    # stronger), only ch1 sees the one at 300 s. The calf had two spasms, not three.
    db = tmp_path / "two.db"
    start = utc("2026-03-02T21:00:00")
    with EpisodeLog(db) as log:
        sid = log.start_session(
            source="test",
            signal="emg",
            fs=FS,
            started_at=start,
            locations={"ch1": CALF, "ch2": CALF},
            config={},
            version="test",
        )
        for ch, a, b, peak, strength, typ in (
            ("ch1", 60.0, 72.0, 50.0, 10.0, "tonic"),
            ("ch2", 61.0, 75.0, 80.0, 14.0, "mixed"),
            ("ch1", 300.0, 303.0, 40.0, 9.0, "tonic"),
        ):
            onset, offset = round(a * FS), round(b * FS)
            ep = Episode(ch, CALF, "ended", onset, offset, onset + 500, FS, "uV", peak, 0.5 * peak,
                         strength, typ)  # fmt: skip
            log.record(sid, start, ep)
        log.end_session(sid, utc("2026-03-02T22:00:00"))
        data = summary.read_log(log)
        page = render(log)
    joined = summary.spasms(data.episodes)
    assert [(e.start, e.duration_s, e.peak, e.strength_db, e.type, e.channels) for e in joined] == [
        (utc("2026-03-02T21:01:00"), 15.0, 80.0, 14.0, "mixed", ("ch1", "ch2")),
        (utc("2026-03-02T21:05:00"), 3.0, 40.0, 9.0, "tonic", ()),
    ]
    lo, hi = utc("2026-03-02T00:00:00"), utc("2026-03-03T00:00:00")
    assert summary.summarise(data, lo, hi, CALF).count == 2
    t = Tables(page)
    assert "2 episodes in 1.0 h of usable signal" in t.plain
    assert t.row("summary-table", CALF)[1] == "2"
    assert "left calf (ch1, ch2) · mixed" in t.plain
    # The live tally counts the same way, episode by episode as they end.
    tally = summary.SpasmTally()
    for e in sorted(data.episodes, key=lambda e: e.start + timedelta(seconds=e.duration_s)):
        tally.add(e.location, e.start, e.start + timedelta(seconds=e.duration_s))
    assert tally.by_location == {CALF: (2, 18.0)}


def test_report_of_a_missing_log_is_one_clear_line(tmp_path: Path) -> None:
    done = run_cli("report", "--db", str(tmp_path / "nope.db"), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "no episode log here yet" in done.stderr
    assert not (tmp_path / "nope.db").exists()


def test_from_and_to_limit_the_period_by_whole_local_days(tmp_path: Path, berlin: None) -> None:
    db = tmp_path / "log.db"
    build(db)
    out = tmp_path / "second.html"
    done = run_cli(
        "report", "--db", str(db), "--from", "2026-03-09", "--to", "2026-03-10", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    t = Tables(out.read_text())
    # Only the second session: 8 h monitored, the calf's two episodes of that night.
    assert t.row("coverage-table", CALF)[1] == "8.0 h"
    assert t.row("summary-table", CALF)[1] == str(
        len(query(db, f"SELECT id FROM episodes WHERE location = '{CALF}' AND session_id = 2"))
    )
    backwards = run_cli(
        "report", "--db", str(db), "--from", "2026-03-10", "--to", "2026-03-01", "--out", str(out)
    )
    assert backwards.returncode == 1
    assert "--to is before --from" in backwards.stderr
