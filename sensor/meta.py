"""The package version, saved with every output so a result can be traced to what made it."""

from __future__ import annotations

from importlib import metadata


def package_version() -> str:
    """Return the installed spasmwatch version, or ``"0+unknown"`` when run from a bare tree."""
    try:
        return metadata.version("spasmwatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"
