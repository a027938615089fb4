from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from replay.csvio import CsvRecording, CsvWriter
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import Block, concat


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_round_trip_is_exact_for_float32_and_keeps_start(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((2500, 2)) * 50).astype(np.float32)
    start = datetime(2026, 3, 1, 22, 30, 0, 250000, tzinfo=UTC)
    w = CsvWriter(tmp_path / "r.csv", ["calf", "thigh"], 2000.0, start, "uV")
    w.write(Block(x[:1000], 2000.0, 0, ("calf", "thigh"), ("uV", "uV")))
    w.write(Block(x[1000:], 2000.0, 1000, ("calf", "thigh"), ("uV", "uV")))
    w.close()
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o600
    rec = CsvRecording(tmp_path / "r.csv", "emg")
    assert rec.info.fs == pytest.approx(2000.0)
    assert rec.info.start == start
    assert rec.info.channels == ("calf", "thigh")
    back = concat(list(rec.blocks()))
    np.testing.assert_array_equal(back.samples, x)


def test_reads_a_hand_written_accelerometer_file(tmp_path: Path) -> None:
    rows = "\n".join(f"{i / 50:.2f},0.01,-0.02,1.0" for i in range(100))
    p = write(tmp_path / "a.csv", f"# from a phone\ntime,ankle_x,ankle_y,ankle_z\n{rows}\n")
    rec = open_recording(p, "acc")
    assert rec.info.fs == pytest.approx(50.0)
    assert rec.info.units == ("g", "g", "g")
    assert rec.info.start is None
    assert rec.info.locations == {}
    assert sum(b.n_samples for b in rec.blocks()) == 100


def test_a_location_comment_names_every_channel_s_body_location(tmp_path: Path) -> None:
    p = write(tmp_path / "n.csv", "# location: neck\ntime,a,b\n0,1,2\n0.001,2,3\n")
    rec = open_recording(p, "emg")
    rec.close()
    assert rec.info.locations == {"a": "neck", "b": "neck"}


@pytest.mark.parametrize("written", ["µV", "μV", " uV "])
def test_micro_is_read_however_it_is_written(tmp_path: Path, written: str) -> None:
    """The micro sign and the Greek mu are both "uV", as the AASM preset needs it."""
    p = tmp_path / "u.csv"
    p.write_text(f"# units: {written}\ntime,a\n0,1\n0.001,2\n", encoding="utf-8")
    rec = open_recording(p, "emg")
    rec.close()
    assert rec.info.units == ("uV",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"x.csv:0: no header row"),
        ("time\n0\n1\n", r"x.csv:1: header must start with the time"),
        ("sample,a\n0,1\n1,2\n", r"x.csv:1: column .sample. counts samples .* --fs"),
        ("reading,a\n0,1\n1,2\n", r"x.csv:1: no time column .* give --fs"),
        ("# fs: 0\n1\n2\n", r"x.csv:2: no time column .* give --fs"),
        ("# fs: 100\na,b\n0,1\n1\n", r"x.csv:4: 1 fields, the header has 2"),
        ("# fs: 100\n1,2\n3,x\n", r"x.csv:3: field 2 is not a number: 'x'"),
        (
            "time,a\n0,1\n1,2\n2,3\n",
            r"x.csv:1: time steps of 1 s \(1 Hz\) are too slow .* name the column 'time \(ms\)'",
        ),
        ("time,EMG (g)\n0,1\n0.001,2\n", r"x.csv:1: column 'EMG \(g\)' is in g, .*--signal acc"),
        ("time,a\n0,1\n0.001,\xb5\n", r"x.csv:3: field 2 is not a number: '\xb5'"),
        ("time,a,a\n0,1,2\n0.001,1,2\n", r"x.csv:1: channel names"),
        ("time,a\n0,1\n0.001,2\n0.002,x\n", r"x.csv:4: field 2 is not a number: 'x'"),
        ("time,a\n0,1\n0.001,2\n0.002,3,4\n", r"x.csv:4: 3 fields, the header has 2"),
        (
            "time,a\n0,1\n0.001,2\n0.002,2\n0.003,2\n0.0045,3\n",
            r"x.csv:6: time 0.0045 s breaks uniform sampling at 1000 Hz",
        ),
        ("time,a,b\n0,1,2\n0.001,nan,2\n", r"x.csv:3: field 2 is not a finite number"),
        ("time,a,b\n0,1,2\n0.001,inf,inf\n", r"x.csv:3: field 2 is not a finite number"),
        ("time,a\n0,1\n", r"x.csv: needs at least two samples"),
        (
            "# start: yesterday\ntime,a\n0,1\n0.001,2\n",
            r"x.csv: '# start:' is not an ISO-8601 time",
        ),
        (
            "time,a,b\n0,1,2\n0.02,1,2\n",
            r"x.csv:1: accelerometer data needs columns in groups of three",
        ),
    ],
)
def test_malformed_files_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path / "x.csv", text)
    signal = "acc" if "groups of three" in message else "emg"
    with pytest.raises(ReplayError, match=message):
        list(open_recording(p, signal).blocks())


def test_a_row_of_nan_is_a_lost_sample_as_an_empty_one(tmp_path: Path) -> None:
    rows = "\n".join(f"{i / 1000:.3f},{i % 5},{-i % 3}" for i in range(10))
    empty = rows.replace("0.004,4,2", "0.004,,").replace("0.005,0,1", "0.005,NaN,nan")
    block = concat(
        list(open_recording(write(tmp_path / "x.csv", "time,a,b\n" + empty), "emg").blocks())
    )
    assert block.lost.tolist() == [i in (4, 5) for i in range(10)]
    assert block.samples[4:6].tolist() == [[0.0, 0.0], [0.0, 0.0]]  # read as 0, as lost samples are
    assert block.samples[6].tolist() == [1.0, 0.0]


def test_binary_and_unknown_files_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ReplayError, match="not a text file"):
        open_recording(p, "emg")
    with pytest.raises(ReplayError, match=r"unknown recording type '\.xyz'"):
        open_recording(tmp_path / "x.xyz", "emg")
    with pytest.raises(ReplayError, match="cannot open"):
        open_recording(tmp_path / "missing.csv", "emg")


def _dialect(
    path: Path,
    rows: np.ndarray,
    *,
    sep: str,
    time: str,
    unit: str,
    scale: float,
    comma: bool = False,
    quoted: bool = False,
    encoding: str = "utf-8",
    preamble: str = "",
    units_row: bool = False,
) -> Path:
    """``rows`` (time in s, signal in uV) as another tool writes them: with ``preamble``
    lines before the header, the units in a row under it (``units_row``)."""
    q = '"' if quoted else ""
    if units_row:
        head = sep.join(f"{q}{h}{q}" for h in (time, "calf"))
        head += "\n" + sep.join(f"{q}{h}{q}" for h in ({1.0: "s", 1000.0: "ms"}[scale], unit))
    else:
        head = sep.join(f"{q}{h}{q}" for h in (time, f"calf ({unit})" if unit else "calf"))
    head = preamble + head
    body = []
    for t, x in rows:
        line = f"{t * scale:.6f}{sep}{x / (1000.0 if unit == 'mV' else 1.0):.6f}"
        body.append(line.replace(".", ",") if comma else line)
    path.write_text(head + "\n" + "\n".join(body) + "\n", encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        (
            "semicolons.csv",
            {
                "sep": ";",
                "time": "Time (s)",
                "unit": "µV",
                "scale": 1.0,
                "comma": True,
                "quoted": True,
            },
        ),
        ("tabs.tsv", {"sep": "\t", "time": "time_ms", "unit": "", "scale": 1000.0}),
        ("delsys.csv", {"sep": ",", "time": "X[s]", "unit": "mV", "scale": 1.0}),
        ("ms.txt", {"sep": ",", "time": "Time [ms]", "unit": "uV", "scale": 1000.0}),
        ("bom.csv", {"sep": ",", "time": "t", "unit": "", "scale": 1.0, "encoding": "utf-8-sig"}),
        (
            "excel.csv",
            {
                "sep": ";",
                "time": "time",
                "unit": "µV",
                "scale": 1.0,
                "comma": True,
                "encoding": "cp1252",
            },
        ),
        (
            "units_row.csv",
            {"sep": ",", "time": "Time", "unit": "mV", "scale": 1.0, "units_row": True},
        ),
        (
            "mr3.csv",
            {
                "sep": ",",
                "time": "time",
                "unit": "uV",
                "scale": 1.0,
                "quoted": True,
                "preamble": '"MR3 export"\n"Record: patient 01, right leg"\n\n',
            },
        ),
        (
            "export.tsv",
            {
                "sep": "\t",
                "time": "Time",
                "unit": "µV",
                "scale": 1000.0,
                "units_row": True,
                "preamble": "Device: amplifier 2\nStart: 10:32\nChannels\t1\n",
            },
        ),
    ],
)
def test_what_other_tools_write_replays_as_spasmwatch_s_own_csv(
    tmp_path: Path, name: str, kw: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Separators, decimal commas, quotes, byte-order marks, time in ms and units in column
    names: the same signal, the same samples, rate and episodes as in spasmwatch's CSV (read
    in several chunks)."""
    monkeypatch.setattr("replay.csvio.CHUNK_ROWS", 5000)
    from detect.config import DetectorConfig
    from detect.pipeline import detect

    rng = np.random.default_rng(15)
    t = np.arange(12000) / 1000.0
    x = np.round(rng.standard_normal(12000) * 5.0, 3)
    x[4000:6000] *= 8.0  # a 2 s contraction
    ours = tmp_path / "ours.csv"
    ours.write_text(
        "time,calf\n" + "".join(f"{a:.3f},{b:.3f}\n" for a, b in zip(t, x, strict=True))
    )
    theirs = _dialect(tmp_path / name, np.column_stack([t, x]), **kw)  # type: ignore[arg-type]
    a = concat(list(open_recording(ours, "emg").blocks()))
    b = concat(list(open_recording(theirs, "emg").blocks()))
    assert b.channels == ("calf",)
    assert b.fs == pytest.approx(a.fs, rel=1e-9)
    per_uv = 1000.0 if kw["unit"] == "mV" else 1.0
    assert b.units == ("mV",) if kw["unit"] == "mV" else ("uV",)
    np.testing.assert_allclose(b.samples * per_uv, a.samples, rtol=1e-6, atol=1e-3)
    found = [
        [e for e in detect(DetectorConfig(), blk, "left calf") if e.state != "open"]
        for blk in (a, b)
    ]
    assert len(found[0]) == 1
    assert [(e.onset_index, e.offset_index, e.type) for e in found[1]] == [
        (e.onset_index, e.offset_index, e.type) for e in found[0]
    ]


def test_an_export_s_preamble_gives_the_rate_of_a_file_without_a_time_column(
    tmp_path: Path,
) -> None:
    rows = "".join(f"{v}\n" for v in range(1000))
    text = "Label: EMG 1\nSampling frequency: 1925.926\n\nEMG 1\n"
    rec = open_recording(write(tmp_path / "emg.txt", text + rows), "emg")
    assert rec.info.fs == pytest.approx(1925.926)
    assert rec.info.channels == ("EMG 1",)
    assert concat(list(rec.blocks())).samples[:3, 0].tolist() == [0, 1, 2]
    # Lines that are not a header over data, or data that does not match the header: the
    # usual one-line errors, naming the first line.
    with pytest.raises(ReplayError, match=r"x.csv:1: no time column"):
        open_recording(write(tmp_path / "x.csv", "Label: EMG 1\nEMG 1,EMG 2\n1\n2\n"), "emg")


def test_a_phone_s_accelerometer_in_m_per_s2_is_read_in_g(tmp_path: Path) -> None:
    """A sensor app's export: quoted header, time in s, acceleration in m/s^2."""
    head = '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"'
    rows = "\n".join(f"{i / 100:.9E},{0.1:.9E},{-0.2:.9E},{9.80665:.9E}" for i in range(300))
    rec = open_recording(write(tmp_path / "phone.csv", f"{head}\n{rows}\n"), "acc")
    block = concat(list(rec.blocks()))
    assert rec.info.channels == ("Acceleration x", "Acceleration y", "Acceleration z")
    assert rec.info.units == ("g", "g", "g")
    assert rec.info.fs == pytest.approx(100.0)
    np.testing.assert_allclose(block.samples[0], [0.1 / 9.80665, -0.2 / 9.80665, 1.0], rtol=1e-6)


def test_a_file_without_a_time_column_reads_at_the_rate_given(tmp_path: Path) -> None:
    """BioSPPy's text format (rate and label in comments, one value a row), a bare column of
    values with the rate given, and named columns: sample i is at i / fs."""
    from detect.config import DetectorConfig
    from detect.pipeline import detect

    recordings = Path(__file__).resolve().parent.parent / "recordings"
    ours = concat(list(open_recording(recordings / "biceps_bursts_1khz.csv", "emg").blocks()))
    values = "\n".join(f"{v:g}" for v in ours.samples[:, 0]) + "\n"
    biosppy = write(
        tmp_path / "emg.txt",
        "# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Resolution:= 16\n"
        "# Labels:= EMG\n" + values,
    )
    rec = open_recording(biosppy, "emg")
    assert (rec.info.channels, rec.info.fs) == (("EMG",), 1000.0)
    theirs = concat(list(rec.blocks()))
    np.testing.assert_array_equal(theirs.samples, ours.samples)
    found = [
        [(e.onset_index, e.offset_index) for e in detect(DetectorConfig(), b) if e.state != "open"]
        for b in (ours, theirs)
    ]
    assert len(found[0]) == 9
    assert found[1] == found[0]

    bare = write(tmp_path / "bare.txt", values)
    with pytest.raises(ReplayError, match=r"bare.txt:1: no time column .* give --fs"):
        open_recording(bare, "emg")
    rec = open_recording(bare, "emg", fs=1000.0)
    assert rec.info.channels == ("ch1",)
    assert concat(list(rec.blocks())).n_samples == ours.n_samples

    named = write(tmp_path / "named.csv", "calf,thigh\n1,2\n3,4\nnan,nan\n5,6\n")
    block = concat(list(open_recording(named, "emg", fs=200.0).blocks()))
    assert block.channels == ("calf", "thigh")
    assert block.lost.tolist() == [False, False, True, False]
    assert block.samples[3].tolist() == [5.0, 6.0]
    with pytest.raises(ReplayError, match=r"its time column says 1000 Hz, not the 500 Hz given"):
        open_recording(recordings / "biceps_bursts_1khz.csv", "emg", fs=500.0)
    with pytest.raises(ReplayError, match=r"says its own sampling rate; --fs is for text files"):
        open_recording(recordings / "sim_calf_1khz_2ch.bdf", "emg", fs=500.0)


@pytest.mark.parametrize(
    ("last", "reason"),
    [("2.990,1", "2 fields, the header has 3"), ("2.990,1.5,-", "field 3 is not a number: '-'")],
)
@pytest.mark.parametrize("chunk", [50, 299, 300, 20_000])
def test_a_last_line_cut_mid_row_is_left_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, last: str, reason: str, chunk: int
) -> None:
    """A writer stopped mid-row (no line end after the last line): the rows before it replay,
    whichever chunk the cut line falls in (alone in its chunk too), and the recording says
    which line it left out. The same row with a line end after it is still refused."""
    monkeypatch.setattr("replay.csvio.CHUNK_ROWS", chunk)
    whole = "time,calf,thigh\n" + "".join(f"{i / 100:.3f},{i % 7}.5,0\n" for i in range(299))
    p = write(tmp_path / "cut.csv", whole + last)
    rec = open_recording(p, "emg")
    b = concat(list(rec.blocks()))
    np.testing.assert_array_equal(b.samples[:, 0], [i % 7 + 0.5 for i in range(299)])
    assert not b.lost.any()
    assert rec.cut is not None
    assert (rec.cut.line, rec.cut.reason) == (301, reason)
    one = open_recording(p, "emg", ["thigh"])  # some channels only
    assert concat(list(one.blocks())).n_samples == 299
    assert one.cut is not None
    write(p, whole + last + "\n")
    with pytest.raises(ReplayError, match=f"cut.csv:301: {reason}"):
        list(open_recording(p, "emg").blocks())
    write(p, whole + "# a comment with no line end")
    rec = open_recording(p, "emg")
    assert concat(list(rec.blocks())).n_samples == 299
    assert rec.cut is None


def test_rows_missing_from_the_time_column_are_lost_samples_in_their_place(
    tmp_path: Path,
) -> None:
    """A logger that dropped rows (or a tool that dropped its empty ones): the samples that
    never arrived are lost samples where they were, the replay says so, and every later
    sample keeps its time. A step of no whole number of sample periods is still refused."""
    x = np.arange(3000) % 11 + 0.5
    keep = np.ones(3000, dtype=bool)
    keep[[5, 1000, 1001, 1002]] = False
    keep[2000:2040] = False
    # 2048 Hz printed in us: no step is exact, and 40 missing among the rows the rate comes
    # from (a rate from one step would be 0.1 % off, 0.04 periods over that gap).
    fast = "".join(f"{i / 2048:.6f},{x[i]}\n" for i in np.flatnonzero(keep[1990:]) + 1990)
    p = write(tmp_path / "fast.csv", f"time,calf\n{fast}")
    rec = open_recording(p, "emg")
    assert rec.info.fs == pytest.approx(2048.0, rel=1e-5)
    np.testing.assert_array_equal(concat(list(rec.blocks())).lost, ~keep[1990:])
    rows = "".join(f"{i / 500:.3f},{x[i]}\n" for i in np.flatnonzero(keep))
    p = write(tmp_path / "dropped.csv", f"time,calf\n{rows}")
    b = concat(list(open_recording(p, "emg").blocks()))
    assert b.n_samples == 3000
    np.testing.assert_array_equal(b.lost, ~keep)
    np.testing.assert_array_equal(b.samples[keep, 0], x[keep])
    rep = run_cli("replay", str(p))
    assert rep.returncode == 0, rep.stderr
    said = [line.split("every channel: ")[1] for line in rep.stdout.splitlines()]
    assert said == ["1 sample lost", "3 samples lost", "40 samples lost"]
    write(p, f"time,calf\n{rows.replace('0.012,', '0.0125,', 1)}")
    with pytest.raises(ReplayError, match=r"dropped.csv:7: time 0.0125 s breaks uniform sampling"):
        list(open_recording(p, "emg").blocks())


def test_a_column_counting_samples_is_timed_by_the_rate_given(tmp_path: Path) -> None:
    """A microcontroller's log numbers its samples: with the rate, sample n is at n / fs,
    numbers it skips are lost samples in their place, and the count is no channel."""
    x = np.arange(2000) % 13 + 0.5
    keep = np.ones(2000, dtype=bool)
    keep[[7, 900, 901]] = False
    rows = "".join(f"{i + 100},{x[i]},{-x[i]}\n" for i in np.flatnonzero(keep))
    p = write(tmp_path / "mcu.csv", f"sample,left,right\n{rows}")
    with pytest.raises(ReplayError, match=r"mcu.csv:1: column 'sample' counts samples but does"):
        open_recording(p, "emg")
    rec = open_recording(p, "emg", fs=500.0)
    assert rec.info.channels == ("left", "right")
    assert rec.info.fs == 500.0
    b = concat(list(rec.blocks()))
    assert b.n_samples == 2000
    np.testing.assert_array_equal(b.lost, ~keep)
    np.testing.assert_array_equal(b.samples[keep, 0], x[keep])
    commented = write(tmp_path / "commented.csv", f"# sampling rate: 500\nIndex,left,right\n{rows}")
    np.testing.assert_array_equal(
        concat(list(open_recording(commented, "emg").blocks())).lost, b.lost
    )


@pytest.mark.parametrize(
    ("stamp", "start"),
    [
        ("%Y-%m-%dT%H:%M:%S.%fZ", datetime(2026, 11, 20, 22, 0, tzinfo=UTC)),
        ("%Y-%m-%d %H:%M:%S.%f+01:00", datetime(2026, 11, 20, 21, 0, tzinfo=UTC)),
        ("%Y-%m-%d %H:%M:%S.%f", datetime(2026, 11, 20, 22, 0).astimezone().astimezone(UTC)),
    ],
)
def test_a_time_column_of_dates_and_times_times_the_samples_and_the_start(
    tmp_path: Path, stamp: str, start: datetime
) -> None:
    """Loggers and phone apps stamp each row with its date and time: the samples are read as
    with seconds, lost rows included, and the first stamp is the recording's start (local
    time unless the stamp names a zone)."""
    from datetime import timedelta

    t0 = datetime(2026, 11, 20, 22, 0)
    x = np.arange(3000) % 7 + 0.25
    keep = np.ones(3000, dtype=bool)
    keep[1500:1510] = False
    rows = "".join(
        f"{(t0 + timedelta(milliseconds=2 * int(i))).strftime(stamp)},{x[i]}\n"
        for i in np.flatnonzero(keep)
    )
    p = write(tmp_path / "stamped.csv", f"timestamp,calf\n{rows}")
    rec = open_recording(p, "emg")
    assert rec.info.fs == pytest.approx(500.0)
    assert rec.info.start == start
    b = concat(list(rec.blocks()))
    np.testing.assert_array_equal(b.lost, ~keep)
    np.testing.assert_array_equal(b.samples[keep, 0], x[keep])
    bad = rows.splitlines()
    stamp99, value99 = bad[99].split(",")
    # Not a date and time; and a zone on one row where the first named none, or none where
    # it named one: no time to read either.
    if stamp.endswith(("Z", "+01:00")):
        other_zone = stamp99.removesuffix("Z").removesuffix("+01:00")
    else:
        other_zone = stamp99 + "+01:00"
    for row in ("20 Nov 2026 22:00:00.198", other_zone):
        bad[99] = f"{row},{value99}"
        write(p, "timestamp,calf\n" + "\n".join(bad) + "\n")
        with pytest.raises(ReplayError, match=r"stamped.csv:101: field 1 is not a number"):
            list(open_recording(p, "emg").blocks())


def test_a_separator_ending_every_line_makes_no_column(tmp_path: Path) -> None:
    """Some spreadsheets and loggers end each line with the separator: the same samples and
    lost samples as without it."""
    x = np.arange(1000) % 9 + 0.5
    rows = [f"{i / 500:.3f},{x[i]},{-x[i]}" for i in range(1000)]
    rows[300] = f"{300 / 500:.3f},,"  # a lost sample
    plain = write(tmp_path / "plain.csv", "time,left,right\n" + "\n".join(rows) + "\n")
    ended = write(tmp_path / "ended.csv", "time,left,right,\n" + ",\n".join(rows) + ",\n")
    a = concat(list(open_recording(plain, "emg").blocks()))
    b = concat(list(open_recording(ended, "emg").blocks()))
    assert b.channels == ("left", "right")
    np.testing.assert_array_equal(b.samples, a.samples)
    np.testing.assert_array_equal(b.lost, a.lost)
    assert b.lost.sum() == 1


def test_a_column_of_labels_is_left_out_and_its_runs_are_the_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Labelled datasets keep their cues beside the signal (NinaPro's "restimulus", the UCI
    gesture files' "class"): read as a channel, every change of label was a flat stretch
    said as "electrode off?"."""
    monkeypatch.setattr("replay.csvio.CHUNK_ROWS", 700)  # runs across blocks stay whole
    rng = np.random.default_rng(4)
    n = 6000
    x = rng.standard_normal(n) * 5
    label = np.zeros(n, dtype=int)
    for a, b, g in [(1000, 2400, 3), (2400, 2600, 5), (4000, 6000, 1)]:
        x[a:b] *= 8
        label[a:b] = g
    rows = [f"{i / 1000:.3f},{label[i]},{v:.3f}\n" for i, v in enumerate(x)]
    for i in (1500, 4700):  # samples lost within a run: every field but the time empty
        rows[i] = f"{i / 1000:.3f},,\n"
    p = write(tmp_path / "cued.csv", "time,restimulus,flexor\n" + "".join(rows))
    rec = open_recording(p, "emg")
    block = concat(list(rec.blocks()))
    assert rec.info.channels == ("flexor",)
    assert rec.label_columns == ("restimulus",)  # type: ignore[union-attr]
    assert np.flatnonzero(block.lost).tolist() == [1500, 4700]
    kept = np.ones(n, dtype=bool)
    kept[[1500, 4700]] = False
    np.testing.assert_allclose(block.samples[kept, 0], np.round(x, 3)[kept], atol=1e-3)
    assert [(t["start"], t["end"], t["label"]) for t in rec.truth] == [
        (1.0, 2.4, 3.0),
        (2.4, 2.6, 5.0),
        (4.0, 6.0, 1.0),
    ]
    out = run_cli("replay", str(p), "--json")
    assert out.returncode == 0, out.stderr
    assert "note: restimulus holds the recording's labels, not a signal: left out" in out.stderr
    assert "no signal" not in out.stderr + out.stdout
    # A lone column named so is the signal.
    text = "time,marker\n" + "".join(f"{i / 100},{v}\n" for i, v in enumerate(x[:300]))
    lone = open_recording(write(tmp_path / "lone.csv", text), "emg")
    lone.close()
    assert lone.info.channels == ("marker",)
