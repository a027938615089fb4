"""The report in a real browser: headless Chromium loads it without errors, figures are drawn.

A new user's path: a simulated hour of monitoring, then ``spasmwatch report``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
from conftest import need_tool, run_cli
from matplotlib import image

#: Chromium as a test browser: no sandbox (CI runs as root), no GPU, nothing from the network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
WIDTH = 1200
#: Reads back where each figure is (run on a copy of the page, never on the report itself).
PROBE = """<script>
window.addEventListener('load', () => {
  const boxes = [...document.querySelectorAll('figure.fig img')].map(img => {
    const r = img.getBoundingClientRect();
    return {id: img.parentElement.id, x: r.left + scrollX, y: r.top + scrollY,
            w: r.width, h: r.height, loaded: img.complete && img.naturalWidth > 0};
  });
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({height: document.documentElement.scrollHeight, boxes});
  document.body.appendChild(pre);
});
</script>"""


def chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and ("error" in line.lower() or "Uncaught" in line)
    ]


def screenshot(browser: str, page: Path, tmp: Path) -> tuple[np.ndarray, list[dict], str]:
    """The page as pixels, its figures' boxes, and the browser's log of loading it."""
    probed = tmp / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium(browser, tmp / "p1", f"--window-size={WIDTH},900", "--dump-dom", probed.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = dom.stdout.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
    probe = json.loads(found.replace("&quot;", '"').replace("&amp;", "&"))
    png = tmp / "shot.png"
    shot = chromium(
        browser,
        tmp / "p2",
        f"--window-size={WIDTH},{probe['height']}",
        f"--screenshot={png}",
        page.as_uri(),
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    return image.imread(png), probe["boxes"], shot.stderr


def test_a_new_users_report_renders_with_every_figure_drawn(tmp_path: Path) -> None:
    browser = need_tool("chromium", "Debian: apt-get install chromium")
    db = tmp_path / "log.db"
    done = run_cli(
        "monitor", "--simulate", "--seconds", "900", "--speed", "300", "--seed", "11",
        "--db", str(db), "--drop-packets", "0.002",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert run_cli("mark", "calf cramp", "--location", "left calf", "--db", str(db)).returncode == 0
    out = tmp_path / "report.html"
    done = run_cli("report", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    # Self-contained: nothing to fetch from anywhere.
    assert not [u for u in re.findall(r'(?:src|href)="([^"]+)"', page)
                if not u.startswith(("data:", "#"))]  # fmt: skip

    pixels, boxes, log = screenshot(browser, out, tmp_path)
    assert not console_errors(log), console_errors(log)
    ids = {b["id"] for b in boxes}
    assert {"fig-timeline", "fig-heatmap", "fig-daily", "fig-durations"} <= ids
    assert any(i.startswith("fig-strip-") for i in ids), "no raw-signal strip for a long episode"
    for b in boxes:
        assert b["loaded"], f"{b['id']} did not load"
        assert b["w"] > 100, b
        assert b["h"] > 50, b
        x0, y0 = int(b["x"]) + 2, int(b["y"]) + 2
        inside = pixels[y0 : y0 + int(b["h"]) - 4, x0 : x0 + int(b["w"]) - 4, :3]
        assert inside.size, f"{b['id']} lies outside the screenshot"
        assert inside.std() > 0.02, f"{b['id']} is blank in the browser"


def test_console_errors_are_caught(tmp_path: Path) -> None:
    """The check above would see a broken page."""
    browser = need_tool("chromium", "Debian: apt-get install chromium")
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>undefinedCall();</script></body></html>")
    _, _, log = screenshot(browser, page, tmp_path)
    assert console_errors(log)
