import io
from datetime import UTC, datetime

from rich.console import Console

from detect.events import Episode
from spasmwatch.alerts import Alert
from spasmwatch.view import ChannelStatus, LiveView, PlainView, Status, duration_text

AT = datetime(2026, 7, 1, 2, 30, tzinfo=UTC)


def status(**kw: object) -> Status:
    channels = (
        ChannelStatus(
            "ch1",
            "left calf",
            level_db=30.0,
            rest_db=10.0,
            threshold_db=16.0,
            in_episode_s=12.0,
            detached=False,
        ),
        ChannelStatus(
            "ch2",
            "right calf",
            level_db=None,
            rest_db=None,
            threshold_db=None,
            in_episode_s=None,
            detached=True,
        ),
    )
    base = {
        "connection": "streaming",
        "battery": 80,
        "clock": AT,
        "signal_s": 3725.0,
        "lost_s": 2.0,
        "channels": channels,
        "today": {"left calf": (2, 75.0)},
    }
    base.update(kw)
    return Status(**base)  # type: ignore[arg-type]


def test_live_view_shows_what_a_patient_needs() -> None:
    buf = io.StringIO()
    view = LiveView(
        "spasmwatch: watching", Console(file=buf, force_terminal=True, width=100, color_system=None)
    )
    view.update(status())
    view.alert(Alert("low_battery", None, "sensor battery low: 12 %"), AT)
    view.close()
    text = buf.getvalue()
    assert "Sensor: streaming" in text
    assert "battery: 80 %" in text
    assert "watching for 1 h 02 min" in text
    assert "left calf (ch1)" in text
    assert "spasm for 12 s" in text
    assert "electrode looks detached" in text
    assert "Today: left calf: 2 spasms, 1 min 15 s" in text
    assert "ALERT: sensor battery low: 12 %" in text
    assert "\a" in text  # the terminal bell


def test_plain_view_prints_one_timestamped_line_per_event() -> None:
    buf = io.StringIO()
    view = PlainView(buf)
    ep = Episode(
        "ch1",
        "left calf",
        "ended",
        1000,
        4500,
        5000,
        1000.0,
        "uV",
        peak=80.0,
        mean=50.0,
        strength_db=12.0,
        type="clonic",
    )
    view.episode(ep, AT)
    view.alert(Alert("no_signal", None, "no signal from the sensor for over 30 s"), AT)
    view.update(status())  # nothing: plain lines are for events only
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("spasm ended     left calf (ch1): 3.5 s, clonic, peak 80 uV RMS")
    assert lines[1].endswith("ALERT: no signal from the sensor for over 30 s")
    assert lines[0][:4] == str(AT.astimezone().year)


def test_durations_read_naturally() -> None:
    assert [duration_text(s) for s in (4, 75, 3725)] == ["4 s", "1 min 15 s", "1 h 02 min"]
