"""Shared helpers: running the real ``spasmwatch`` command and waiting on observable things."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m spasmwatch ARGS`` to completion."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "spasmwatch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )


def start_cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start ``python -m spasmwatch ARGS`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "spasmwatch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def wait_for(probe: Callable[[], T | None], deadline_s: float, what: str) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline_s} s waiting for {what}")
        time.sleep(0.05)


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a read-only query on a log another process may be writing; [] until it exists."""
    import sqlite3

    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def need_tool(name: str, install: str) -> str:
    """The path of a system tool a test needs.

    Without it the test skips, saying how to get it; under CI (``CI=true``) it fails instead,
    so CI always runs such tests.
    """
    import shutil

    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({install})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run this test")
    pytest.skip(message)
