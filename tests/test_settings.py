import json
import os
from pathlib import Path

import pytest
from conftest import run_cli

from spasmwatch.settings import EXAMPLE, SettingsError, find_line, load


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spasmwatch.toml"
    p.write_text(text)
    return p


def test_the_example_is_valid_and_gives_a_detector(tmp_path: Path) -> None:
    settings, source = load(write(tmp_path, EXAMPLE), required=True)
    assert source == tmp_path / "spasmwatch.toml"
    assert settings.patient == "P-017"
    assert settings.location("ch1") == "left calf"
    assert settings.location("ch9") == "unspecified"
    config = settings.detector.build("emg")
    assert (config.threshold.on_db, config.threshold.off_db) == (4.5, 2.5)


def test_overrides_reach_the_detector(tmp_path: Path) -> None:
    text = '[detector]\npreset = "aasm"\nmin_duration_s = 1.5\nmains_hz = 60\n'
    config = load(write(tmp_path, text), required=True)[0].detector.build("emg")
    assert config.preset == "aasm"
    assert config.threshold.on_above == 8.0
    assert config.episode.min_duration_s == 1.5
    assert config.notch.mains_hz == 60
    assert config.episode.max_duration_s == 600  # the default
    text = "[detector]\nmax_duration_s = 120\n"
    assert (
        load(write(tmp_path, text), required=True)[0].detector.build("emg").episode.max_duration_s
        == 120
    )
    text = "[detector]\nmax_duration_s = 0\n"
    off = load(write(tmp_path, text), required=True)[0].detector.build("acc")
    assert off.episode.max_duration_s is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'patient = "x"\n\n[detector]\non_dbb = 3\n',
            r"spasmwatch.toml:4: detector.on_dbb: unknown key",
        ),
        (
            "[alerts]\nbattery_below_percent = 150\n",
            r":2: alerts.battery_below_percent: .*less than or equal to 100",
        ),
        (
            "[detector]\non_db = 3\noff_db = 5\n",
            r":3: detector.off_db: the off threshold must not be above",
        ),
        (
            "[detector]\npreset = 'fast'\n",
            r":2: detector.preset: .*'default', 'aasm' or 'envelope'",
        ),
        (
            "[detector]\nmax_duration_s = 0.2\n",
            r"max_duration_s must be longer than min_duration_s",
        ),
        ("[detector]\nmax_duration_s = -5\n", r":2: detector.max_duration_s: .*greater than"),
        ("[placements]\nch1 = 3\n", r":2: placements.ch1: .*valid string"),
        ("patient = \n", r":1: not valid TOML"),
        ("colour = 'red'\n", r":1: colour: unknown key"),
    ],
)
def test_errors_name_the_key_and_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(write(tmp_path, text), required=True)


def test_find_line_knows_tables_and_keys() -> None:
    text = "a = 1\n[x]\nb = 2\n[y]\nb = 3\n"
    assert find_line(text, ("a",)) == 1
    assert find_line(text, ("x", "b")) == 3
    assert find_line(text, ("y", "b")) == 5
    assert find_line(text, ("y",)) == 4


def test_a_missing_default_file_means_defaults_a_missing_named_file_is_an_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingsError, match="no such config file"):
        load(tmp_path / "nope.toml", required=True)


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def test_config_commands(tmp_path: Path) -> None:
    good = write(tmp_path, EXAMPLE)
    out = run_cli("config", "check", str(good))
    assert out.returncode == 0
    assert out.stdout.strip().endswith(": ok")
    bad = tmp_path / "bad.toml"
    bad.write_text("[alerts]\nsnooze = 5\n")
    out = run_cli("config", "check", str(bad))
    assert out.returncode == 2
    assert f"{bad}:2: alerts.snooze: unknown key" in out.stderr
    missing = run_cli("config", "check", str(tmp_path / "missing.toml"))
    assert missing.returncode == 2
    shown = run_cli("config", "show", "--config", str(good))
    assert shown.returncode == 0
    assert 'patient = "P-017"' in shown.stdout
    assert "battery_below_percent = 15" in shown.stdout
    example = run_cli("config", "example")
    assert example.stdout == EXAMPLE


def test_monitor_refuses_a_missing_or_bad_config(tmp_path: Path) -> None:
    out = run_cli(
        "monitor",
        "--simulate",
        "--seconds",
        "1",
        "--db",
        str(tmp_path / "l.db"),
        "--config",
        str(tmp_path / "x.toml"),
    )
    assert out.returncode == 2
    assert "no such config file" in out.stderr
    bad = write(tmp_path, "[detector]\non_db = -1\n")
    out = run_cli(
        "monitor",
        "--simulate",
        "--seconds",
        "1",
        "--db",
        str(tmp_path / "l.db"),
        "--config",
        str(bad),
    )
    assert out.returncode == 2
    assert ":2: detector.on_db" in out.stderr


def test_replay_reads_a_config_only_when_told(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    assert (
        run_cli("simulate", "--out", str(csv), "--seconds", "60", "--seed", "8101").returncode == 0
    )
    cfg_dir = tmp_path / "cfg" / "spasmwatch"
    cfg_dir.mkdir(parents=True)
    (cfg_dir / "spasmwatch.toml").write_text(
        '[placements]\nch1 = "right thigh"\n[detector]\non_db = 30\noff_db = 20\n'
    )
    import subprocess
    import sys

    def replay(*extra: str) -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, "-m", "spasmwatch", "replay", str(csv), "--json", *extra],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            check=True,
        )
        return [json.loads(line) for line in out.stdout.splitlines()]

    # The simulated file says where it was worn; the placements are for files that do not.
    placements = tmp_path / "placements.toml"
    placements.write_text('[placements]\nch1 = "right thigh"\n')
    assert {e["location"] for e in replay()} == {"left calf"}
    assert {e["location"] for e in replay("--config", str(placements))} == {"left calf"}
    text = csv.read_text().splitlines(keepends=True)
    csv.write_text("".join(line for line in text if not line.startswith("# location:")))
    plain = replay()
    assert plain
    assert {e["location"] for e in plain} == {"unspecified"}
    configured = replay("--config", str(cfg_dir / "spasmwatch.toml"))
    assert len(configured) < len(plain)  # a 30 dB threshold misses 20 dB spasms
    assert {e["location"] for e in configured} <= {"right thigh"}
