"""What a notification looks like: merged heading and bullets, the icon on a real dunst,
notify-test leaving the rotation alone, and a one-line start-up message."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

from ergo.tips.compose import compose, kind_texts
from ergo.notify.freedesktop import FreedesktopNotifier
from ergo.notify.icon import app_icon
from ergo.records.store import Store
from ergo.tips import load_catalog
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import DesktopSession
from tests.helpers import REPO, ergo_env  # noqa: F401

TITLES = {"posture": "Posture check", "hydration": "Drink some water", "stretch": "Stretch break"}


def texts() -> dict:
    catalog = load_catalog()
    return {kind: kind_texts(kind, title, [], catalog) for kind, title in TITLES.items()}


def test_merged_notification_has_one_short_heading_and_one_bullet_per_kind() -> None:
    message, _ = compose(("posture", "hydration", "stretch"), texts(), {}, random.Random(3))
    assert message.title == "3 breaks due"
    lines = message.body.splitlines()
    assert len(lines) == 3 and all(line.startswith("• ") for line in lines)
    for kind, title in TITLES.items():
        assert (message.title + "\n" + message.body).count(title) == 1, f"{title!r} must appear once"
    single, _ = compose(("posture",), texts(), {}, random.Random(3))
    assert single.title == "Posture check" and not single.body.startswith("Posture check")


def test_every_notification_carries_the_shipped_icon_to_a_real_server(desktop: DesktopSession) -> None:
    icon = app_icon()
    assert Path(icon).is_file() and icon.endswith("ergo.svg") and Path(icon).read_text().lstrip().startswith("<svg")
    message, _ = compose(("posture", "hydration"), texts(), {})
    from ergo.notify.base import Notification

    with FreedesktopNotifier() as notifier:
        notifier.send(Notification(message.key, message.title, message.body))
    [note] = desktop.notifications(count=1)
    assert note["app_icon"] == icon  # what went over the bus (dbus-monitor)
    assert note["summary"] == "2 breaks due"
    [kept] = desktop.dunst_history(count=1)
    assert kept["summary"] == "2 breaks due" and kept["body"].count("•") == 2


def test_notify_test_leaves_the_rotation_alone_and_reuses_a_tip_already_shown(ergo_env) -> None:
    state = Path(ergo_env["ERGO_STATE_DIR"]) / "state.sqlite3"
    store = Store(state)
    store.save_shown_tips({"posture": {"posture-03"}, "hydration": {"hydration-02", "hydration-05"}})
    store.close()
    env = {**ergo_env, "ERGO_NOTIFIER": "console"}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-m", "ergo", "notify-test", "posture"], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "(tip posture-03)" in done.stdout  # the one already shown: the daemon's next pick differs
    store = Store(state)
    try:
        assert store.shown_tips() == {"posture": {"posture-03"}, "hydration": {"hydration-02", "hydration-05"}}
    finally:
        store.close()


def test_start_up_is_one_line_and_durations_have_no_microseconds() -> None:
    with ErgoEnv.create(None, POSTURE__INTERVAL="1s", HYDRATION__ENABLED="false") as env:
        with Daemon(env) as daemon:
            wait_for(lambda: "delivered via" in daemon.stderr(), 5, what="a delivery")
            lines = daemon.stderr().splitlines()
            before = lines[: next(i for i, line in enumerate(lines) if " ergo: reminder " in line)]
            assert len(before) == 2, before  # a short start-up line, then the details
            line = before[0]
            # "in 1s", or "in 0s" when starting took a second (a loaded machine): whole seconds either way
            assert re.search(r" ergo \d+\.\d+\.\d+ started \(pid \d+\); first reminder: posture at [\d:]+ \(in [01]s\); "
                             r"reminders go to the log$", line), line
            assert before[1].endswith(f"ergo: config: {env.config}, not found: built-in defaults; idle detection: none, "
                                      "you count as present"), before[1]
        debug = {**env.env, "ERGO_LOG_LEVEL": "debug"}
        env.env = debug
        with Daemon(env, name="again") as again:
            wait_for(lambda: "continuing saved countdowns" in again.stderr(), 5, what="the restart line")
            text = again.stderr()
            assert re.search(r"down for \d+s$", text, re.M), text
            assert not re.search(r"\d\.\d{4,}s\b", text), "a duration printed with microseconds"
