import json
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from replay.bdf import (
    ANNOTATION_BYTES,
    BdfWriter,
    EdfRecording,
    label_site,
    read_header,
    record_seconds,
    repair,
)
from replay.errors import ReplayError
from replay.run import open_recording
from sensor.block import Block

START = datetime(2026, 11, 25, 22, 0, 1, 250000, tzinfo=UTC)


def write(path: Path, seconds: float = 5.5, close: bool = True) -> np.ndarray:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((int(seconds * 1000), 2)) * 50).astype(np.float32)
    w = BdfWriter(
        path,
        ["calf", "thigh"],
        ["uV", "uV"],
        1000.0,
        START,
        patient="P 017",
        recording="test",
        transducers=["left calf", "left thigh"],
    )
    for i in range(0, len(x), 700):
        w.write(Block(x[i : i + 700], 1000.0, i, ("calf", "thigh"), ("uV", "uV")))
        if i == 3500:  # the episode ended: written with the next record, with its true onset
            w.annotate(1.5, 2.0, "spasm calf tonic")
    if close:
        w.close()
    return x


def test_other_tools_read_what_we_write(tmp_path: Path) -> None:
    import edfio
    import mne
    import pyedflib

    p = tmp_path / "r.bdf"
    x = write(p)
    assert p.stat().st_mode & 0o777 == 0o600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw_bdf(p, preload=True, verbose="error")
    assert raw.ch_names == ["calf", "thigh"]
    assert raw.info["sfreq"] == 1000.0
    np.testing.assert_allclose(raw.get_data()[:, : len(x)] * 1e6, x.T, atol=0.012)
    assert next((a["onset"], a["duration"], a["description"]) for a in raw.annotations) == (
        1.5,
        2.0,
        "spasm calf tonic",
    )
    f = pyedflib.EdfReader(str(p))
    onsets, _durations, texts = f.readAnnotations()
    assert list(texts) == ["spasm calf tonic", "recording ends"]
    assert onsets[1] == pytest.approx(5.5)
    f.close()
    e = edfio.read_bdf(p)
    assert [s.label for s in e.signals] == ["calf", "thigh"]
    rec = EdfRecording(p, "emg")
    assert rec.info.start == START
    assert rec.truth == [{"start": 1.5, "end": 3.5, "channel": "calf", "type": "tonic"}]


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        ("spasmwatch_0.1.0 simulated", {"calf": "left calf", "thigh": "lower back"}),
        ("another tool", {}),  # its transducer fields name electrodes, not places
    ],
)
def test_the_body_locations_spasmwatch_wrote_are_read_back(
    tmp_path: Path, recording: str, expected: dict[str, str]
) -> None:
    p = tmp_path / "r.bdf"
    w = BdfWriter(
        p,
        ["calf", "thigh"],
        ["uV", "uV"],
        1000.0,
        START,
        recording=recording,
        transducers=["left calf", "lower back"],
    )
    w.write(Block(np.zeros((1000, 2), np.float32), 1000.0, 0, ("calf", "thigh"), ("uV", "uV")))
    w.close()
    assert EdfRecording(p, "emg").info.locations == expected


def test_a_killed_writer_loses_at_most_the_last_record(tmp_path: Path) -> None:
    import mne

    p = tmp_path / "killed.bdf"
    code = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_bdf import write
from pathlib import Path
write(Path({str(p)!r}), seconds=7.6, close=False)
os.kill(os.getpid(), 9)
"""
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == -9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw_bdf(p, preload=False, verbose="error")
    assert raw.n_times == 7000  # 7 whole records of 1 s; the 0.6 s being gathered is lost
    assert "spasm calf tonic" in list(raw.annotations.description)
    assert EdfRecording(p, "emg").damaged
    assert repair(p) == 7
    import pyedflib

    f = pyedflib.EdfReader(str(p))
    assert f.getNSamples()[0] == 7000
    f.close()
    assert not EdfRecording(p, "emg").damaged


def test_repair_refuses_what_is_not_edf(tmp_path: Path) -> None:
    p = tmp_path / "x.bdf"
    p.write_bytes(b"hello" * 100)
    with pytest.raises(ReplayError, match="not an EDF or BDF file"):
        repair(p)


def test_damage_is_named_and_a_file_cut_after_a_closed_header_is_flagged(tmp_path: Path) -> None:
    p = tmp_path / "r.bdf"
    write(p)
    whole = p.read_bytes()
    (tmp_path / "head.bdf").write_bytes(whole[:300])
    with pytest.raises(ReplayError, match=r"head.bdf: header cut short at byte 300"):
        EdfRecording(tmp_path / "head.bdf", "emg")
    cut = tmp_path / "cut.bdf"
    record = 2 * 1000 * 3 + ANNOTATION_BYTES  # 2 signals of 1000 3-byte samples, annotations
    cut.write_bytes(whole[: 768 + 3 * record + 500])  # 3 whole records and a piece
    rec = EdfRecording(cut, "emg")
    assert rec.damaged
    assert sum(b.n_samples for b in rec.blocks()) == 3000
    assert repair(cut) == 3


def test_record_length_holds_whole_samples() -> None:
    assert record_seconds(1000.0) == 1.0
    assert record_seconds(200.0) == 1.0
    assert record_seconds(250.0) == 1.0
    with pytest.raises(ReplayError, match="no record length"):
        record_seconds(1000.3)


def test_wfdb_records_replay_in_uv(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas 3)
        import wfdb

    from replay.run import open_recording

    rng = np.random.default_rng(9)
    x = rng.standard_normal((4000, 1)) * 0.005  # mV
    x[1500:2700] *= 20  # a 1.2 s contraction
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas 3)
        wfdb.wrsamp(
            "rec",
            fs=1000,
            units=["mV"],
            sig_name=["tibialis"],
            p_signal=x,
            fmt=["16"],
            adc_gain=[20000.0],
            baseline=[0],
            write_dir=str(tmp_path),
        )
    rec = open_recording(tmp_path / "rec.hea", "emg")
    assert rec.info.fs == 1000.0
    assert rec.info.units == ("uV",)
    got = np.concatenate([b.samples for b in rec.blocks()])
    np.testing.assert_allclose(got[:, 0], x[:, 0] * 1000, atol=0.06)


def test_a_wfdb_polygraph_replays_its_emg(tmp_path: Path) -> None:
    """PhysioNet's polygraphs name their signals by type ("ECG", "EMG", "EEG (C4-A1)"):
    an sEMG replay took every one of them, and each heartbeat was a spasm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wfdb's own deprecation chatter (pandas 3)
        import wfdb

    from replay.run import open_recording

    rng = np.random.default_rng(10)
    x = rng.standard_normal((4000, 4)) * 0.005
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wfdb.wrsamp(
            "psg",
            fs=250,
            units=["mV", "mV", "uV", "l"],
            sig_name=["ECG", "chin EMG", "EEG (C4-A1)", "Resp (sum)"],
            p_signal=x,
            fmt=["16"] * 4,
            adc_gain=[20000.0] * 4,
            baseline=[0] * 4,
            write_dir=str(tmp_path),
        )
    rec = open_recording(tmp_path / "psg.hea", "emg")
    assert rec.info.channels == ("chin EMG",)
    assert rec.left_out == ("ECG", "EEG (C4-A1)", "Resp (sum)")  # type: ignore[union-attr]
    got = np.concatenate([b.samples for b in rec.blocks()])
    np.testing.assert_allclose(got[:, 0], x[:, 1] * 1000, atol=0.06)
    ecg = open_recording(tmp_path / "psg.hea", "emg", ["ECG"])
    assert ecg.info.channels == ("ECG",)
    assert len(np.concatenate([b.samples for b in ecg.blocks()])) == 4000


def sleep_study(path: Path) -> None:
    """An EDF as a sleep lab writes it: EEG at 512 Hz, the leg sEMG slower at 256 Hz (as
    many labs record it), breathing at 32 Hz."""
    import edfio

    rng = np.random.default_rng(5)
    leg = rng.standard_normal(40 * 256) * 2.0
    leg[20 * 256 : 24 * 256] *= 20  # one 4 s contraction of the left leg
    eeg = rng.standard_normal(40 * 512) * 30.0
    eeg[5 * 512 : 9 * 512] *= 10  # an arousal: not a spasm, and not read when not asked for
    signals = [
        edfio.EdfSignal(eeg, 512, label="EEG C3-M2", physical_dimension="uV"),
        edfio.EdfSignal(leg, 256, label="Leg L", physical_dimension="uV"),
        edfio.EdfSignal(np.sin(np.arange(40 * 32) / 32 * 2 * np.pi * 0.25), 32, label="Thor"),
    ]
    edfio.Edf(signals).write(path)


def test_a_sleep_studys_leg_channel_replays_on_its_own(tmp_path: Path) -> None:
    p = tmp_path / "psg.edf"
    sleep_study(p)
    # Nothing chosen: the leg alone, the only signal in volts whose label names no other
    # type (the EEG's says EEG; the breathing belt has no unit).
    found = run_cli("replay", str(p), "--json")
    assert found.returncode == 0, found.stderr
    assert [json.loads(line)["channel"] for line in found.stdout.splitlines()] == ["Leg L"]
    assert "replaying the sEMG signals Leg L; left out EEG C3-M2, Thor" in found.stderr
    everything = run_cli("replay", str(p), "--channels", "EEG C3-M2,Leg L,Thor")
    assert everything.returncode == 1
    assert everything.stderr.strip().count("\n") == 0
    assert "(EEG C3-M2 512 Hz; Leg L 256 Hz; Thor 32 Hz)" in everything.stderr
    assert "--channels" in everything.stderr
    mixed = run_cli("replay", str(p), "--channels", "EEG C3-M2,Leg L")
    assert mixed.returncode == 1
    assert "(EEG C3-M2 512 Hz; Leg L 256 Hz)" in mixed.stderr
    # The leg, slower than the EEG, replays at its own rate, not resampled to the EEG's.
    assert open_recording(p, "emg", ["Leg L"]).info.fs == 256.0
    leg = run_cli("replay", str(p), "--channels", "Leg L", "--json")
    assert leg.returncode == 0, leg.stderr
    (ep,) = [json.loads(line) for line in leg.stdout.splitlines()]
    assert ep["channel"] == "Leg L"
    assert abs(ep["start"] - 20) < 0.2
    assert abs(ep["end"] - 24) < 0.4
    wrong = run_cli("replay", str(p), "--channels", "Leg R")
    assert wrong.returncode == 1
    assert "no signal named 'Leg R'; it has EEG C3-M2, Leg L, Thor" in wrong.stderr


def test_a_polygraph_replays_the_signals_its_labels_call_emg(tmp_path: Path) -> None:
    """A polysomnograph's EDF+ at one rate: EEG, EOG, ECG, breathing and oxygen beside the
    chin and leg sEMG, labelled by the EDF+ standard texts. Read as sEMG, the EEG's arousal,
    the eye movements and every heartbeat were spasms."""
    import edfio

    fs, seconds = 256, 60
    n = fs * seconds
    t = np.arange(n) / fs
    rng = np.random.default_rng(11)
    eeg = rng.standard_normal(n) * 20.0
    eeg[10 * fs : 14 * fs] *= 8  # an arousal
    eog = np.where((t % 7) < 0.4, 150.0, 0.0) + rng.standard_normal(n) * 5.0  # eye movements
    ecg = 800.0 * np.exp(-(((t % 0.9) - 0.45) ** 2) / 2e-4)  # a QRS every 0.9 s
    chin = rng.standard_normal(n) * 3.0
    leg = rng.standard_normal(n) * 2.0
    leg[30 * fs : 34 * fs] *= 20  # one 4 s contraction of the left leg
    signals = [
        edfio.EdfSignal(eeg, fs, label="EEG Fpz-Cz", physical_dimension="uV"),
        edfio.EdfSignal(eog, fs, label="EOG horizontal", physical_dimension="uV"),
        edfio.EdfSignal(ecg, fs, label="ECG II", physical_dimension="uV"),
        edfio.EdfSignal(chin, fs, label="EMG Chin", physical_dimension="uV"),
        edfio.EdfSignal(leg, fs, label="EMG LAT", physical_dimension="uV"),
        edfio.EdfSignal(np.sin(2 * np.pi * 0.25 * t), fs, label="Resp chest"),
        edfio.EdfSignal(np.full(n, 96.0), fs, label="SaO2", physical_dimension="%"),
    ]
    p = tmp_path / "psg.edf"
    edfio.Edf(signals).write(p)
    out = run_cli("replay", str(p), "--json")
    assert out.returncode == 0, out.stderr
    (ep,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert ep["channel"] == "EMG LAT"
    assert ep["location"] == "left tibialis anterior"  # the label's site, as the log keeps it
    assert abs(ep["start"] - 30) < 0.2
    assert open_recording(p, "emg").info.locations == {
        "EMG Chin": "chin",
        "EMG LAT": "left tibialis anterior",
    }
    given = run_cli("replay", str(p), "--json", "--location", "left calf")
    assert json.loads(given.stdout)["location"] == "left calf"  # the user's word first
    assert (
        "replaying the sEMG signals EMG Chin, EMG LAT; "
        "left out EEG Fpz-Cz, EOG horizontal, ECG II, Resp chest, SaO2"
    ) in out.stderr
    # Chosen by name, any signal replays as before.
    eeg_out = run_cli("replay", str(p), "--channels", "EEG Fpz-Cz", "--json")
    assert eeg_out.returncode == 0, eeg_out.stderr
    assert "left out" not in eeg_out.stderr
    # A file whose labels name no sEMG says so.
    q = tmp_path / "eeg.edf"
    edfio.Edf(signals[:3]).write(q)
    none = run_cli("replay", str(q))
    assert none.returncode == 1
    assert none.stderr.strip() == (
        f"spasmwatch: error: {q}: no sEMG signal: its labels say EEG Fpz-Cz, EOG horizontal, "
        "ECG II; choose signals with --channels"
    )


def test_latin1_labels_and_the_micro_sign_are_read_as_other_tools_write_them(
    tmp_path: Path,
) -> None:
    """EDF headers should be ASCII, but European tools write Latin-1 labels and "µV"."""
    import edfio

    rng = np.random.default_rng(7)
    leg = rng.standard_normal(30 * 256) * 2.0
    leg[10 * 256 : 14 * 256] *= 20  # one 4 s contraction
    p = tmp_path / "mollet.edf"
    edfio.Edf([edfio.EdfSignal(leg, 256, label="Mollet gauche", physical_dimension="uV")]).write(p)
    raw = bytearray(p.read_bytes())
    raw[256 : 256 + 16] = "Mollet gauche é".encode("latin-1").ljust(16)
    raw[256 + 96 : 256 + 104] = "µV".encode("latin-1").ljust(8)
    p.write_bytes(bytes(raw))
    rec = open_recording(p, "emg")
    assert rec.info.channels == ("Mollet gauche é",)
    assert rec.info.units == ("uV",)
    # The AASM preset's thresholds are in uV: it runs only when the unit is known.
    out = run_cli("replay", str(p), "--channels", "Mollet gauche é", "--preset", "aasm", "--json")
    assert out.returncode == 0, out.stderr
    (ep,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert abs(ep["start"] - 10) < 0.2


def test_signals_with_the_same_label_are_told_apart(tmp_path: Path) -> None:
    """Two signals labelled "EMG" (as some exports write them) are EMG-0 and EMG-1, as MNE
    names them, and each replays its own samples."""
    import edfio

    rng = np.random.default_rng(8)
    quiet, active = rng.standard_normal((2, 30 * 256)) * 2.0
    active[10 * 256 : 14 * 256] *= 20
    p = tmp_path / "twice.edf"
    edfio.Edf(
        [
            edfio.EdfSignal(quiet, 256, label="EMG", physical_dimension="uV"),
            edfio.EdfSignal(active, 256, label="EMG", physical_dimension="uV"),
        ]
    ).write(p)
    rec = open_recording(p, "emg", ["EMG-1", "EMG-0"])
    assert rec.info.channels == ("EMG-1", "EMG-0")
    x = np.concatenate([b.samples for b in rec.blocks()])
    np.testing.assert_allclose(x[:, 0], active, atol=1e-2)
    np.testing.assert_allclose(x[:, 1], quiet, atol=1e-2)
    out = run_cli("replay", str(p), "--json")
    assert out.returncode == 0, out.stderr
    (ep,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert ep["channel"] == "EMG-1"
    assert abs(ep["start"] - 10) < 0.2
    wrong = run_cli("replay", str(p), "--channels", "EMG")
    assert "no signal named 'EMG'; it has EMG-0, EMG-1" in wrong.stderr


def discontinuous_edf(path: Path, starts: dict[int, float]) -> None:
    """An EDF+D of 30 one-second records at 256 Hz, with a 4 s contraction in records 20-23:
    record k starts at ``starts[k]`` s where given, else one record after the one before."""
    import edfio

    rng = np.random.default_rng(3)
    x = rng.standard_normal(30 * 256) * 2.0
    x[20 * 256 : 24 * 256] *= 20
    signal = edfio.EdfSignal(x, 256, label="Leg", physical_dimension="uV")
    note = edfio.EdfAnnotation(0.5, None, "lights off")
    edfio.Edf([signal], annotations=[note]).write(path)
    raw = bytearray(path.read_bytes())
    raw[192:197] = b"EDF+D"
    head = read_header(path)
    tal = 2 * head.per_record[0]  # the leg's samples, then the annotations' (2 bytes each)
    size = head.record_bytes - tal
    onset = 0.0
    for k in range(30):
        onset = starts.get(k, onset + 1.0 if k else 0.0)
        at = head.header_bytes + k * head.record_bytes + tal
        rest = bytes(raw[at : at + size]).split(b"\x14", 1)[1]  # the record's other notes
        raw[at : at + size] = (f"+{onset:g}".encode() + b"\x14" + rest)[:size]
    path.write_bytes(bytes(raw))


def test_a_discontinuous_edf_keeps_its_gaps_as_lost_samples(tmp_path: Path) -> None:
    """A recorder that paused for 100 s after 10 s: what follows is 100 s later, not joined."""
    p = tmp_path / "paused.edf"
    discontinuous_edf(p, {10: 110.0})
    rec = open_recording(p, "emg")
    blocks = list(rec.blocks())
    lost = np.concatenate([b.lost for b in blocks])
    x = np.concatenate([b.samples[:, 0] for b in blocks])
    assert len(lost) == 130 * 256
    assert not lost[: 10 * 256].any()
    assert lost[10 * 256 : 110 * 256].all()
    assert not lost[110 * 256 :].any()
    # The samples after the gap are the file's 11th record on: the same as before, moved.
    import edfio

    file = edfio.read_edf(p).signals[0].data
    np.testing.assert_allclose(x[110 * 256 :], file[10 * 256 :], atol=1e-3)
    out = run_cli("replay", str(p), "--json")
    assert out.returncode == 0, out.stderr
    (ep,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert abs(ep["start"] - 120) < 0.2  # the contraction, at its true time
    text = run_cli("replay", str(p)).stdout
    assert "every channel: 25600 samples lost" in text


def test_a_discontinuous_edf_whose_records_overlap_is_named(tmp_path: Path) -> None:
    p = tmp_path / "overlap.edf"
    discontinuous_edf(p, {10: 8.5})
    out = run_cli("replay", str(p))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    head = read_header(p)
    at = head.header_bytes + 10 * head.record_bytes + 2 * 256  # record 10's annotations
    assert f"record 10 starts at 8.5 s, before the one before it ends (byte {at})" in out.stderr


def test_channels_are_chosen_from_a_csv_too(tmp_path: Path) -> None:
    csv = tmp_path / "two.csv"
    rng = np.random.default_rng(6)
    x = rng.standard_normal((20_000, 2)) * 3.0
    x[8000:12_000, 1] *= 15
    csv.write_text(
        "time,calf,ecg\n"
        + "\n".join(f"{i / 1000:.3f},{a:.3f},{b:.3f}" for i, (a, b) in enumerate(x))
        + "\n"
    )
    rec = open_recording(csv, "emg", ["ecg"])
    assert rec.info.channels == ("ecg",)
    block = next(rec.blocks())
    assert block.channels == ("ecg",)
    np.testing.assert_allclose(block.samples[:, 0], x[: block.n_samples, 1], atol=1e-3)
    rec.close()
    with pytest.raises(ReplayError, match="no signal named 'thigh'; it has calf, ecg"):
        open_recording(csv, "emg", ["thigh"])
    twice = run_cli("replay", str(csv), "--channels", "calf,calf")
    assert twice.returncode == 2
    assert "names must be unique and not empty: 'calf,calf'" in twice.stderr


@pytest.mark.parametrize(
    ("label", "site"),
    [
        ("EMG LAT", "left tibialis anterior"),
        ("LAT1-LAT2", "left tibialis anterior"),
        ("EMG_RAT", "right tibialis anterior"),
        ("Chin1-Chin2", "chin"),
        ("EMG submental", "chin"),
        ("Leg L", "left leg"),
        ("RLeg", "right leg"),
        ("Left leg", "left leg"),
        ("EMG Leg", "leg"),
        ("Latissimus", None),
        ("EEG Fpz-Cz", None),
        ("ch1", None),
    ],
)
def test_a_sleep_studys_emg_label_names_its_site(label: str, site: str | None) -> None:
    assert label_site(label) == site
