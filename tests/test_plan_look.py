"""The acute-back plan on a real desktop: `ergo plan start acute-back` with no daemon running, then `ergo run`
under a private D-Bus, Xvfb and a real dunst. The daemon's first notification must carry the warning signs in
full; the test reads them from dunst's history and from a screenshot of the bubble, read back with OCR
(tests/look.py; ERGO_LOOK_DIR=/some/dir keeps the pictures to open). Then a stretch reminder from day 6 on,
carrying the plan's care."""

from __future__ import annotations

from pathlib import Path

import pytest

from ergo.tips import red_flag
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import desktop_session, require_desktop_tools
from tests.look import LOOK_TOOLS, read, screenshot

BUBBLE = "width = 600\nheight = 440\norigin = top-left\noffset = 10x10\nfont = DejaVu Sans 9\nword_wrap = yes\n" \
         "format = \"<b>%s</b>\\n%b\"\nmarkup = full\nshow_age_threshold = -1\n"


def _on_screen(desk, tmp_path: Path, words: str, keep_as: str) -> str:
    """Screenshot the Xvfb screen until OCR reads `words` in dunst's bubble at the top left (dunst draws a
    moment after it answers Notify). Light text on dunst's blue: negated, then black and white."""
    shot = tmp_path / keep_as
    seen: list[str] = [""]

    def drawn() -> bool:
        screenshot(desk.full_env(), shot)
        seen[0] = " ".join(read(shot, (0, 0, 640, 200), negate=True).split())
        return words in seen[0]

    wait_for(drawn, 15, what=f"{words!r} on screen")
    return seen[0]


@pytest.mark.slow
def test_the_daemons_first_notification_after_an_offline_start_carries_the_warning_signs(tmp_path: Path) -> None:
    require_desktop_tools(*LOOK_TOOLS)
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
                text = _on_screen(desk, tmp_path, "Plan started", "plan-started.png")
                for words in ("Plan started", "persist, are severe", "numbness, tingling, or weakness", "medical attention"):
                    assert words in text, f"{words!r} not on screen; OCR read: {text}"
            [kept] = desk.dunst_history(count=1)
            assert kept["summary"] == "Plan started: Acute back spasm" and red_flag().quote in kept["body"]


@pytest.mark.slow
def test_from_move_3_on_a_stretch_reminder_on_screen_carries_the_plans_care(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from ergo.plans import timing
    from ergo.plans.catalog import load_plans
    from ergo.records.store import Store

    require_desktop_tools(*LOOK_TOOLS)
    with desktop_session(dunst_settings=BUBBLE) as desk:
        with ErgoEnv.create(desk.env, NOTIFIER="auto", POSTURE__ENABLED="false", HYDRATION__ENABLED="false",
                            STRETCH__ENABLED="true", STRETCH__INTERVAL="3s", SCHEDULE__HOURS="00:00-24:00") as env:
            now = datetime.now(timezone.utc)
            began = now - timedelta(hours=121)  # day 6: move-3 has brought stretching back
            acute = load_plans()["acute-back"]
            running = timing.Running("acute-back", began, began + timedelta(days=7), "00:00-24:00",
                                     timing.resolve_options(acute, {}), now, now.astimezone().date().isoformat())
            env.state_dir.mkdir(parents=True, exist_ok=True)
            store = Store(env.state_dir / "state.sqlite3")
            store.save_plan(running.to_json())
            store.close()
            with Daemon(env):
                [note] = desk.notifications(count=1, timeout=15)
                assert note["summary"] == "Stretch break" and note["body"].endswith(acute.reminders["stretch"].note)
                text = _on_screen(desk, tmp_path, "Stop if it grows", "stretch-with-care.png")
                assert "Only if the sharp pain has eased" in text, text
