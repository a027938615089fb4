from spasmwatch.alerts import AlertWatch
from spasmwatch.settings import AlertSettings


def check(w: AlertWatch, **kw: object) -> list[str]:
    args = {"open_episodes": [], "no_signal_s": 0.0, "battery": 100, "detached": []}
    args.update(kw)
    return [a.kind for a in w.check(**args)]  # type: ignore[arg-type]


def test_each_alert_fires_once_and_rearms_when_cleared() -> None:
    w = AlertWatch(
        AlertSettings(
            episode_longer_than_s=60, no_signal_longer_than_s=30, battery_below_percent=15
        )
    )
    assert check(w, open_episodes=[("ch1", "calf", 59.0)]) == []
    assert check(w, open_episodes=[("ch1", "calf", 61.0)]) == ["long_episode"]
    assert check(w, open_episodes=[("ch1", "calf", 90.0)]) == []
    assert check(w) == []
    assert check(w, open_episodes=[("ch1", "calf", 61.0)]) == ["long_episode"]
    assert check(w, no_signal_s=31.0) == ["no_signal"]
    assert check(w, no_signal_s=45.0) == []
    assert check(w, no_signal_s=0.0) == []
    assert check(w, no_signal_s=31.0) == ["no_signal"]


def test_battery_alert_has_hysteresis() -> None:
    w = AlertWatch(AlertSettings(battery_below_percent=15))
    assert check(w, battery=14) == ["low_battery"]
    assert check(w, battery=16) == []  # still close to the limit: no re-arm
    assert check(w, battery=14) == []
    assert check(w, battery=20) == []
    assert check(w, battery=14) == ["low_battery"]
    assert check(w, battery=None) == []


def test_detached_electrode_per_channel_and_zero_turns_alerts_off() -> None:
    w = AlertWatch(AlertSettings())
    assert check(w, detached=[("ch2", "calf")]) == ["electrode_detached"]
    assert check(w, detached=[("ch2", "calf"), ("ch1", "calf")]) == ["electrode_detached"]
    off = AlertWatch(
        AlertSettings(
            episode_longer_than_s=0,
            no_signal_longer_than_s=0,
            battery_below_percent=0,
            electrode_detached=False,
        )
    )
    assert (
        check(
            off,
            open_episodes=[("ch1", "c", 1e6)],
            no_signal_s=1e6,
            battery=0,
            detached=[("ch1", "c")],
        )
        == []
    )
