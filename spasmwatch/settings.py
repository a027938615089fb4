"""The config file ``spasmwatch.toml``: who wears the sensor, where, and how to watch.

Validated with pydantic; every problem is reported with the key and the line it is on.
``monitor`` and ``report`` read the file from the user's config folder (or ``--config``);
``replay`` reads one only when given ``--config``, so a replay never depends on the machine.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detect.config import DetectorConfig, preset
from sensor.errors import SpasmwatchError

EXAMPLE = """\
# spasmwatch settings. Every key is optional; `spasmwatch config show` prints them all.
patient = "P-017"                  # a pseudonym, never a name

[placements]                       # channel -> body location
ch1 = "left calf"

[detector]
preset = "default"                 # or "aasm" (limb-movement scoring rules), or "envelope"
                                   # (a sensor that sends the envelope: MyoWare's ENV)
on_db = 4.5                        # start at least this far over rest (more where rest is noisy)
off_db = 2.5                       # stay in the episode while above this
min_duration_s = 0.5
merge_gap_s = 0.5
max_duration_s = 600               # longer over rest: learnt as the new rest (0: no limit)
mains_hz = "auto"                  # "auto" (found from the signal), 50, 60 or "off"

[alerts]
episode_longer_than_s = 60         # 0 turns an alert off
no_signal_longer_than_s = 30
battery_below_percent = 15
electrode_detached = true

[paths]
db = "~/.local/share/spasmwatch/spasmwatch.db"

[recording]
keep_days = 30                     # days to keep raw recordings, once recording is on (never the log)
"""


class SettingsError(SpasmwatchError):
    """A config file that cannot be used.

    Attributes
    ----------
    path : Path
    key : str or None
        Dotted key (``detector.on_db``) where the problem is.
    line : int or None
        1-based line of that key in the file.
    """

    def __init__(
        self, path: Path, reason: str, key: str | None = None, line: int | None = None
    ) -> None:
        where = f"{path}:{line}" if line else str(path)
        what = f"{key}: " if key else ""
        super().__init__(f"{where}: {what}{reason}")
        self.path = path
        self.key = key
        self.line = line


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DetectorSettings(_Section):
    """The detector: a preset and the thresholds a clinician may want to change."""

    preset: Literal["default", "aasm", "envelope"] = "default"
    on_db: float | None = Field(default=None, ge=0, le=40)
    off_db: float | None = Field(default=None, ge=0, le=40)
    min_duration_s: float | None = Field(default=None, ge=0, le=60)
    merge_gap_s: float | None = Field(default=None, ge=0, le=60)
    #: 0 turns the limit off.
    max_duration_s: float | None = Field(default=None, ge=0, le=86_400)
    mains_hz: Literal["auto", "off", 50, 60] | None = None

    def build(self, signal: Literal["emg", "acc"]) -> DetectorConfig:
        """The detector configuration these settings give for a signal kind."""
        base = preset(self.preset, signal)
        threshold = base.threshold.model_copy(
            update={
                k: v for k, v in (("on_db", self.on_db), ("off_db", self.off_db)) if v is not None
            }
        )
        timing: dict[str, float | None] = {
            k: v
            for k, v in (
                ("min_duration_s", self.min_duration_s),
                ("merge_gap_s", self.merge_gap_s),
                ("max_duration_s", self.max_duration_s),
            )
            if v is not None
        }
        if timing.get("max_duration_s") == 0:
            timing["max_duration_s"] = None  # no limit
        episode = base.episode.model_copy(update=timing)
        notch = (
            base.notch
            if self.mains_hz is None
            else base.notch.model_copy(update={"mains_hz": self.mains_hz})
        )
        # Re-validate as a whole, so a combination that makes no sense is refused.
        return DetectorConfig.model_validate(
            {
                **base.model_dump(),
                "threshold": threshold.model_dump(),
                "episode": episode.model_dump(),
                "notch": notch.model_dump(),
            }
        )


class AlertSettings(_Section):
    """When to alert the patient; 0 turns an alert off."""

    episode_longer_than_s: float = Field(default=60.0, ge=0)
    no_signal_longer_than_s: float = Field(default=30.0, ge=0)
    battery_below_percent: int = Field(default=15, ge=0, le=100)
    electrode_detached: bool = True


class PathSettings(_Section):
    """Where data goes."""

    db: Path | None = None


class RecordingSettings(_Section):
    """Raw signal recordings (read by the recorder; the episode log is never removed)."""

    keep_days: int = Field(default=30, ge=0)


class Settings(_Section):
    """Everything ``spasmwatch.toml`` can say."""

    patient: str | None = Field(default=None, max_length=64)
    placements: dict[str, str] = Field(default_factory=dict)
    detector: DetectorSettings = DetectorSettings()
    alerts: AlertSettings = AlertSettings()
    paths: PathSettings = PathSettings()
    recording: RecordingSettings = RecordingSettings()

    def location(self, channel: str, default: str = "unspecified") -> str:
        """Body location of a channel."""
        return self.placements.get(channel, default)


def default_config_path() -> Path:
    """``~/.config/spasmwatch/spasmwatch.toml`` on Linux (the platform's user config folder)."""
    return Path(platformdirs.user_config_dir("spasmwatch", appauthor=False)) / "spasmwatch.toml"


def find_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line where a dotted key is set: ``[table]`` then ``key = ...`` inside it.

    tomllib gives no positions, so the text is searched; good enough for the flat files
    spasmwatch reads (tables one deep, simple keys).
    """
    names = [str(p) for p in loc]
    lines = text.splitlines()
    table: list[str] = []
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    assignment = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")
    table_line = None
    for n, line in enumerate(lines, start=1):
        h = header.match(line)
        if h:
            table = [p.strip().strip("\"'") for p in h.group(1).split(".")]
            if table == names[: len(table)] and len(table) == len(names):
                table_line = n
            continue
        a = assignment.match(line)
        if a:
            key = [p.strip().strip("\"'") for p in a.group(1).split(".")]
            if table + key == names[: len(table) + len(key)]:
                return n
    return table_line


def load(path: Path | None, *, required: bool) -> tuple[Settings, Path | None]:
    """Read and validate settings.

    Parameters
    ----------
    path : Path or None
        The file; None means the default location.
    required : bool
        True when the user named the file: then a missing file is an error.

    Returns
    -------
    (Settings, Path or None)
        The settings and the file they came from (None: only defaults).
    """
    target = path.expanduser() if path is not None else default_config_path()
    if not target.exists():
        if required:
            raise SettingsError(target, "no such config file")
        return Settings(), None
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(target, f"cannot read: {exc}") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise SettingsError(
            target,
            f"not valid TOML ({str(exc).split(' (at')[0]})",
            line=int(m.group(1)) if m else None,
        ) from exc
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = ".".join(str(p) for p in loc) or None
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if (
            err["type"] != "extra_forbidden"
            and "input" in err
            and not isinstance(err["input"], dict)
        ):
            msg += f" (got {err['input']!r})"
        raise SettingsError(target, msg, key, find_line(text, loc) if loc else None) from exc
    try:
        settings.detector.build("emg")
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][-1]) if err["loc"] else ""
        key = "detector." + ("off_db" if field == "threshold" else field)
        line = find_line(text, tuple(key.split("."))) or find_line(text, ("detector",))
        raise SettingsError(target, err["msg"].removeprefix("Value error, "), key, line) from exc
    return settings, target


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(data: dict[str, Any]) -> str:
    """Settings as TOML text (tables one deep; unset values shown as comments)."""
    lines: list[str] = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif value is None:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            k = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)
            lines.append(f"# {k} = (not set)" if value is None else f"{k} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
