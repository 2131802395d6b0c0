"""DST fall-back with a real daemon (issue 16, item 11): a zone built here with `zic` turns its clock
back a minute from now, and a work window lies in the repeated minute.

The real daemon, the real APScheduler and the zone's real rules (a TZif file from Debian's zic, read
by zoneinfo through PYTHONTZPATH); no clock is faked: the change simply happens, in real time.

The window is [L-1min, L) where L is the wall time at which the clock turns back to L-1min: it is
the repeated minute, shown twice. ergo follows the wall clock and keeps the window's nominal length
(docs/timing.md): the window closes the first time the clock shows its end (L, once, after the
second pass), so it is the second pass, and the first pass is outside hours. Before, the window ran
from the first L-1min to L: twice its length, across both passes (issue 16's 11:35-12:00 case).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, parse_iso, wait_for
from tests.helpers import cannot_run

ZONE = "Ergotest/FallBack"


def _build_zone(folder: Path, change: datetime) -> timedelta:
    """A zone that turns its clock back one minute at `change` (UTC), with an offset before the change
    (2h plus some seconds) that makes the wall time at the change a whole minute; returns that offset."""
    if shutil.which("zic") is None:
        cannot_run("zic is needed to build a test zone (Debian 12: libc-bin)")
    before = timedelta(hours=2, seconds=(60 - change.second) % 60)
    after = before - timedelta(minutes=1)

    def hms(offset: timedelta) -> str:
        seconds = int(offset.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    source = folder / "fallback.zi"
    source.write_text(f"Zone {ZONE} {hms(before)} - TSA {change:%Y %b %d %H:%M:%S}u\n"
                      f"{' ' * (5 + len(ZONE))}{hms(after)} - TSB\n", "ascii")
    subprocess.run(["zic", "-d", str(folder), str(source)], check=True, capture_output=True)
    return before


@pytest.mark.slow
def test_a_window_in_the_repeated_minute_counts_once_with_its_nominal_length(tmp_path: Path) -> None:
    change = (datetime.now(timezone.utc) + timedelta(seconds=20)).replace(microsecond=0)
    zones = tmp_path / "zoneinfo"
    zones.mkdir()
    offset = _build_zone(zones, change)
    from zoneinfo import ZoneInfo, reset_tzpath

    reset_tzpath([str(zones)])
    try:
        zone = ZoneInfo.no_cache(ZONE)
        before, after = (change - timedelta(seconds=1)).astimezone(zone), change.astimezone(zone)
        assert before.utcoffset() == offset and after.utcoffset() == offset - timedelta(minutes=1)
        assert after.second == 0 and after.replace(tzinfo=None) - before.replace(tzinfo=None) == timedelta(seconds=-59)
    finally:
        reset_tzpath()
    turn = (change + offset).replace(tzinfo=None)  # L: the wall time the clock shows when it turns back
    window = f"{turn - timedelta(minutes=1):%H:%M}-{turn:%H:%M}"
    with ErgoEnv.create(HYDRATION__ENABLED="false") as env:
        env.env.update(TZ=ZONE, PYTHONTZPATH=str(zones))
        env.write_config(f'[schedule]\nhours = "{window}"\n')
        with Daemon(env) as daemon:  # on the first pass through the window's minute
            status = daemon.status()
            posture = status["reminders"]["posture"]
            assert datetime.now(timezone.utc) < change, "the test machine was too slow to start before the change"
            assert posture["held"] == "outside hours", (window, posture)
            assert parse_iso(posture["resumes_at"]) == change  # the second pass: the clock shows L-1min again
            wait_for(lambda: env.db_deliveries(), (change - datetime.now(timezone.utc)).total_seconds() + 10,
                     what="a reminder in the second pass")
            delivered = env.db_deliveries()
            assert all(at >= change for at, _kind in delivered), (change, delivered)
            assert daemon.alive()
