"""The acute-back plan on a real desktop: `ergo plan start acute-back` with no daemon running, then `ergo run`
under a private D-Bus, Xvfb and a real dunst. The daemon's first notification must carry the warning signs in
full; the test reads them from dunst's history and from a screenshot of the bubble, read back with OCR."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ergo.tips import red_flag
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import desktop_session, require_desktop_tools

BUBBLE = "width = 600\nheight = 440\norigin = top-left\noffset = 10x10\nfont = DejaVu Sans 9\nword_wrap = yes\n" \
         "format = \"<b>%s</b>\\n%b\"\nmarkup = full\nshow_age_threshold = -1\n"


def _ocr(png: Path, workdir: Path) -> str:
    """Crop the bubble's corner, scale it up 3x, greyscale (negated: dunst draws light text on dark), then black
    and white at 50 % (tesseract reads nothing off dunst's mid-blue otherwise), and read it."""
    big = workdir / "bubble-3x.png"
    subprocess.run(["convert", str(png), "-crop", "640x200+0+0", "+repage", "-resize", "300%", "-colorspace", "Gray",
                    "-negate", "-threshold", "50%", str(big)], check=True, timeout=30)
    return subprocess.run(["tesseract", str(big), "-"], capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.mark.slow
def test_the_daemons_first_notification_after_an_offline_start_carries_the_warning_signs(tmp_path: Path) -> None:
    require_desktop_tools("import", "convert", "tesseract")
    with desktop_session(dunst_settings=BUBBLE) as desk:
        with ErgoEnv.create(desk.env, NOTIFIER="auto", POSTURE__ENABLED="false", HYDRATION__ENABLED="false") as env:
            started = env.cli("plan", "start", "acute-back", "--waking", "00:00-24:00")
            assert started.returncode == 0 and "ergo is not running" in started.stdout, started.stderr
            with Daemon(env):
                [note] = desk.notifications(count=1, timeout=10)
                assert note["summary"] == "Plan started: Acute back spasm"
                body = note["body"]
                assert f'"{red_flag().quote}"' in body  # the documents' warning signs in full, on the wire
                assert "ergo's own caution" in body
                shot = tmp_path / "desktop.png"
                seen: list[str] = []

                def drawn() -> bool:  # dunst draws a moment after it answers Notify
                    subprocess.run(["import", "-display", desk.display, "-window", "root", str(shot)], check=True, timeout=30)
                    seen[:] = [" ".join(_ocr(shot, tmp_path).split())]
                    if os.environ.get("ERGO_KEEP_SCREENSHOTS"):  # to look at it: a folder of your own
                        shutil.copy(shot, Path(os.environ["ERGO_KEEP_SCREENSHOTS"]) / "plan-started.png")
                    return "Plan started" in seen[0]

                wait_for(drawn, 15, what="the bubble on screen")
                text = seen[0]
                for words in ("Plan started", "persist, are severe", "numbness, tingling, or weakness", "medical attention"):
                    assert words in text, f"{words!r} not on screen; OCR read: {text}"
            [kept] = desk.dunst_history(count=1)
            assert kept["summary"] == "Plan started: Acute back spasm" and red_flag().quote in kept["body"]
