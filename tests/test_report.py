"""`ergo report --html`: a self-contained page, rendered by a real browser (Debian's headless Chromium) whose
screenshot must show the bars in the kinds' colours."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ergo.records.report import COLOURS
from ergo.records.store import Store
from tests.desktop import require_tools
from tests.helpers import isolated_env


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type, _c, _f, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    channels = 3 if colour_type == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(b for j, b in enumerate(line) if j % 4 != 3))
        previous = line
    return width, height, rows


def count_colour(rows: list[bytes], rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    found = 0
    for row in rows:
        for x in range(0, len(row), 3):
            if all(abs(row[x + c] - rgb[c]) <= tolerance for c in range(3)):
                found += 1
    return found


def _rgb(hex_colour: str, opacity: float = 1.0) -> tuple[int, int, int]:
    solid = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(255 - opacity * (255 - c)) for c in solid)  # type: ignore[return-value]


def test_the_report_is_self_contained_and_chromium_draws_its_chart(tmp_path: Path) -> None:
    require_tools("chromium")
    state = tmp_path / "state"
    store = Store(state / "state.sqlite3")
    now = datetime.now(UTC).replace(microsecond=0)
    for days_ago in (0, 2):  # yesterday ergo did not run: a gap in the chart
        end = now - timedelta(days=days_ago)
        span = store.open_span("running", end - timedelta(hours=2))
        store.close_span(span, end)
        for minutes in (110, 80, 50, 20):
            at = end - timedelta(minutes=minutes)
            ref = store.record(at, "posture", "delivered", "via freedesktop")
            store.record(at + timedelta(seconds=30), "posture", "done", "via button", ref)
        ref = store.record(end - timedelta(minutes=60), "hydration", "delivered", "via freedesktop")
        store.record(end - timedelta(minutes=59), "hydration", "done", "via button", ref)
    store.close()
    env = isolated_env(tmp_path, dict(os.environ))
    env["ERGO_STATE_DIR"] = str(state)
    page = tmp_path / "week.html"
    done = subprocess.run([sys.executable, "-m", "ergo", "report", "--html", str(page)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    html = page.read_text("utf-8")
    lowered = html.lower()
    for forbidden in ("<script", "http:", "https:", "src=", "url(", "@import", "<link"):
        assert forbidden not in lowered, f"{forbidden} in the report: it must be self-contained"
    assert "<svg" in html and "not running" in html and "<table>" in html

    shot = tmp_path / "report.png"
    browser = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'chromium'}",
         "--hide-scrollbars", "--window-size=860,1100", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False, env={**env, "HOME": str(tmp_path)})
    assert shot.exists(), browser.stderr[-2000:]
    width, height, rows = read_png(shot)
    assert (width, height) == (860, 1100)
    chart = rows[200:560]  # the chart's band of the page
    solid_posture = count_colour(chart, _rgb(COLOURS["posture"]))
    light_posture = count_colour(chart, _rgb(COLOURS["posture"], 0.4))
    solid_hydration = count_colour(chart, _rgb(COLOURS["hydration"]))
    assert solid_posture > 2000, f"breaks bars not drawn ({solid_posture} posture pixels)"
    assert light_posture > 2000, f"reminder bars not drawn ({light_posture} light posture pixels)"
    assert solid_hydration > 300, f"hydration not drawn ({solid_hydration} pixels)"
    assert shutil.which("chromium")


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, dict(os.environ))
    env["ERGO_STATE_DIR"] = str(tmp_path / "state")
    for target, words in ((tmp_path, "is a directory"), (tmp_path / "missing" / "x.html", "cannot write it")):
        done = subprocess.run([sys.executable, "-m", "ergo", "report", "--html", str(target)], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 1 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
