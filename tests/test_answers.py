"""Answering a reminder: Done / Snooze 10 min / Skip buttons on real notification servers, the same answers as
commands, the diary in `ergo history`, and the store's versioned migration."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ergo.records.diary import describe, diary
from ergo.notify.answers import AnswerListener
from ergo.notify.base import Notification
from ergo.notify.freedesktop import FreedesktopNotifier
from ergo.timing.policy import Engine
from ergo.timing.decisions import Record, ReminderSpec, Timing
from ergo.records.schema import SCHEMA_VERSION
from ergo.records.store import HistoryRow, Store
from ergo.timing.worktime import WorkHours
from tests.daemon_helpers import Daemon, ErgoEnv, parse_iso, wait_for
from tests.desktop import DesktopSession, desktop_session, require_desktop_tools, require_tools

ACTIONS = ["default", "", "done", "Done", "snooze", "Snooze 10 min", "skip", "Skip"]
# dunst lists the default action by its label in its menu: there it is the one Done (ergo.notify.buttons)
DUNST_ACTIONS = ["default", "Done", "snooze", "Snooze 10 min", "skip", "Skip"]
ONE = {"POSTURE__INTERVAL": "3s", "HYDRATION__ENABLED": "false"}
NOTIFICATION_DAEMON = "/usr/lib/notification-daemon/notification-daemon"


def _pick_script(tmp: Path, choice: str) -> Path:
    """A dmenu stand-in for dunst's context menu: it saves the menu it was offered and picks the `choice` line."""
    script = tmp / "pick.sh"
    script.write_text(f"#!/bin/sh\ncat > {tmp}/menu.txt\ngrep -m1 '{choice}' {tmp}/menu.txt\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# --- buttons on real servers ------------------------------------------------------------------------


def test_done_pressed_in_dunst_is_recorded_and_restarts_the_countdown(make_env: Callable[..., ErgoEnv],
                                                                       tmp_path: Path) -> None:
    """dunst's context menu (run by `dunstctl context`) picks "Done": history, status and the diary all say so."""
    require_desktop_tools()
    script = _pick_script(tmp_path, "Done")
    with desktop_session(dunst_settings=f"dmenu = {script}") as desk:
        env = make_env(desk.env, NOTIFIER="auto", POSTURE__INTERVAL="4s", HYDRATION__ENABLED="false")
        with Daemon(env) as daemon:
            wait_for(lambda: daemon.delivered(), 10, what="the first reminder")
            [note, *_] = desk.notifications(count=1)
            assert note["actions"] == DUNST_ACTIONS, note["actions"]
            pressed = datetime.now(UTC)
            desk._dunstctl("context")
            rows = wait_for(lambda: [r for r in env.history() if r["outcome"] == "done"], 5, what="the Done answer")
            menu = (tmp_path / "menu.txt").read_text().splitlines()
            assert len(menu) == 3 and any("Snooze 10 min" in line for line in menu), f"dunst offered three buttons: {menu}"
            assert [line.startswith("#Done") for line in menu].count(True) == 1, f"one Done, no blank entry: {menu}"
            assert rows[0]["what"] == "reminder" and rows[0]["via"] == "button"
            assert rows[0]["answers"][0]["event"] == "done"
            due = parse_iso(daemon.status()["reminders"]["posture"]["next_due"])
            assert due >= pressed + timedelta(seconds=3), "Done restarts the countdown from the press"
            text = env.cli("history").stdout
            assert "posture" in text and "done with the button" in text, text
            assert any("answered posture: done via button" in line for line in daemon.log_lines())
            # ... and in stats and the report, as the "done means" asks
            stats = json.loads(env.cli("stats", "--day", "--json").stdout)
            assert stats["kinds"]["posture"]["done"] == 1 and stats["kinds"]["posture"]["answered_with_break"] == 1
            assert stats["days"][0]["ran"] is True and stats["hours_covered"] > 0
            page = tmp_path / "week.html"
            assert env.cli("report", "--html", str(page)).returncode == 0
            assert "posture: 1 break<" in page.read_text()  # the SVG bar's title (one break: singular)


def test_snooze_and_skip_buttons_in_dunst(make_env: Callable[..., ErgoEnv], tmp_path: Path) -> None:
    """"Snooze 10 min" brings the reminder back ten minutes after the press; "Skip" restarts its countdown."""
    require_desktop_tools()
    script = _pick_script(tmp_path, "Snooze 10 min")
    with desktop_session(dunst_settings=f"dmenu = {script}") as desk:
        env = make_env(desk.env, NOTIFIER="auto", POSTURE__INTERVAL="3s", HYDRATION__ENABLED="false")
        with Daemon(env) as daemon:
            wait_for(lambda: daemon.delivered(), 10, what="the first reminder")
            pressed = datetime.now(UTC)
            desk._dunstctl("context")
            [row] = wait_for(lambda: [r for r in env.history() if r["outcome"] == "snoozed"], 5, what="the snooze")
            assert row["via"] == "button"
            entry = daemon.status()["reminders"]["posture"]
            assert abs((parse_iso(entry["next_due"]) - (pressed + timedelta(minutes=10))).total_seconds()) < 3
            assert entry["held"] == "snoozed"
            assert len(daemon.delivered()) == 1, "nothing more until the snooze ends"
            # the same menu, now picking Skip on a fresh reminder
            script.write_text(script.read_text().replace("Snooze 10 min", "Skip"))
            daemon.env.cli("now", "posture")
            wait_for(lambda: len(daemon.delivered()) == 2, 5, what="the reminder asked for")
            desk._dunstctl("context")
            wait_for(lambda: [r for r in env.history() if r["outcome"] == "skipped" and r["via"] == "button"], 5,
                     what="the skip")


def test_merged_done_marks_every_kind(make_env: Callable[..., ErgoEnv], tmp_path: Path) -> None:
    require_desktop_tools()
    script = _pick_script(tmp_path, "Done")
    with desktop_session(dunst_settings=f"dmenu = {script}") as desk:
        env = make_env(desk.env, NOTIFIER="auto", POSTURE__INTERVAL="3s", HYDRATION__INTERVAL="3s", MERGE_WINDOW="2s")
        with Daemon(env) as daemon:
            wait_for(lambda: len(daemon.delivered()) >= 2, 10, what="a merged reminder")
            desk._dunstctl("context")
            done = wait_for(lambda: {r["kind"] for r in env.history() if r["outcome"] == "done"} >= {"posture", "hydration"}
                            and [r for r in env.history() if r["outcome"] == "done"], 5, what="both kinds done")
            assert {r["kind"] for r in done} == {"posture", "hydration"}


def test_notification_daemon_advertises_actions_and_gets_the_buttons(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A second real server from Debian (GNOME's notification-daemon): the capability check and the buttons sent."""
    require_desktop_tools()
    require_tools(NOTIFICATION_DAEMON)
    with desktop_session(server="none") as desk:
        server = subprocess.Popen([NOTIFICATION_DAEMON, "--replace"], env=desk.full_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(lambda: desk.server_pid() is not None, 10, what="notification-daemon on the bus")
            for key, value in desk.env.items():
                monkeypatch.setenv(key, value)
            heard: list[object] = []
            listener = AnswerListener()
            listener.start(heard.append)
            with FreedesktopNotifier(answers=listener) as notifier:
                assert notifier.supports_actions()
                notifier.send(Notification("posture", "Posture check", "Sit tall.", actions=tuple(zip(ACTIONS[::2], ACTIONS[1::2]))))
                [note] = desk.notifications(count=1)
                assert note["actions"] == ACTIONS
                assert notifier.last_id == note["id"]
                # closing it by call comes back as NotificationClosed on the notifier's own connection
                notifier.close_notification("posture")
                wait_for(lambda: heard, 5, what="NotificationClosed")
                assert heard[0].notification_id == note["id"] and heard[0].closed == "closed"
            listener.stop()
        finally:
            server.terminate()
            server.wait(5)


# --- the same answers as commands -------------------------------------------------------------------


def test_done_snooze_and_skip_commands_answer_the_last_reminder(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false")
    with Daemon(env) as daemon:
        nothing = env.cli("done")
        assert nothing.returncode == 1 and "no reminder has been delivered" in nothing.stderr
        wait_for(lambda: daemon.delivered(), 5, what="a reminder")
        done = env.cli("done")
        assert done.returncode == 0, done.stderr
        assert "posture: done" in done.stdout
        again = env.cli("done")
        assert again.returncode == 1, "an answered reminder is not answered twice"
        stats = json.loads(env.cli("stats", "--day", "--json").stdout)
        assert stats["kinds"]["posture"]["done"] == 1 and stats["kinds"]["posture"]["answered_with_break"] == 1

        wait_for(lambda: len(daemon.delivered()) >= 2, 5, what="the next reminder")
        asked = datetime.now(UTC)
        snoozed = env.cli("snooze", "1m")
        assert snoozed.returncode == 0, snoozed.stderr
        entry = daemon.status()["reminders"]["posture"]
        assert abs((parse_iso(entry["next_due"]) - (asked + timedelta(minutes=1))).total_seconds()) < 2
        assert entry["held"] == "snoozed"
        skipped = env.cli("skip", "posture")
        assert skipped.returncode == 0 and "skipped" in skipped.stdout
        entries = env.history()
        outcomes = [(e["kind"], e["what"], e["outcome"], e["via"]) for e in entries[:2]]
        assert outcomes == [("posture", "reminder", "done", "command"), ("posture", "reminder", "snoozed", "command")]
        # once snoozed, `skip posture` skips the reminder the snooze brings back: a line of its own
        assert (entries[2]["kind"], entries[2]["what"]) == ("posture", "skipped")


def test_done_with_a_kind_and_nothing_waiting_is_a_break_taken(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="30s", HYDRATION__INTERVAL="40s")
    with Daemon(env) as daemon:
        done = env.cli("done", "hydration")
        assert done.returncode == 0, done.stderr
        entry = daemon.status()["reminders"]["hydration"]
        assert parse_iso(entry["next_due"]) > datetime.now(UTC) + timedelta(seconds=35)
        [row] = env.history()
        assert (row["kind"], row["what"], row["via"]) == ("hydration", "done", "command")
        bad = env.cli("done", "nonsense")
        assert bad.returncode == 1 and "not an enabled reminder" in bad.stderr and "Traceback" not in bad.stderr


# --- the pure parts -----------------------------------------------------------------------------------


def _spec(kind: str, minutes: int) -> ReminderSpec:
    return ReminderSpec(kind, timedelta(minutes=minutes), timedelta(minutes=5), WorkHours.parse("mon-sun", "00:00-24:00", UTC))


def test_engine_answers_restart_or_bring_back_the_reminder() -> None:
    t0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
    engine = Engine.start({"posture": _spec("posture", 30)}, Timing(), t0)
    engine.tick(t0 + timedelta(minutes=30))
    later = t0 + timedelta(minutes=32)
    assert engine.answer(later, "posture", "done", detail="via button", ref=7) == [Record("posture", "done", later, "via button", 7)]
    assert engine.next_due("posture", later) == later + timedelta(minutes=30)
    until = later + timedelta(minutes=10)
    engine.answer(later, "posture", "snoozed", until=until)
    assert engine.next_due("posture", later) == until
    assert engine.answer(later, "nonsense", "done") == []
    with pytest.raises(ValueError):
        engine.answer(later, "posture", "snoozed", until=later)


def _row(i: int, minute: int, kind: str, event: str, detail: str = "", ref: int | None = None) -> HistoryRow:
    return HistoryRow(datetime(2026, 11, 23, 9, minute, tzinfo=UTC), kind, event, detail, i, ref)


def test_the_diary_folds_answers_into_their_reminder() -> None:
    rows = [
        _row(1, 0, "posture", "delivered", "via freedesktop, tip posture-01"),
        _row(2, 1, "posture", "done", "via button", 1),
        _row(3, 2, "posture", "dismissed", "closed without an answer", 1),
        _row(4, 5, "hydration", "delivered", "via console"),
        _row(5, 20, "hydration", "natural_break", "idle, 14 min"),
        _row(6, 30, "stretch", "skipped_stale", "held since 09:10 (locked)"),
        _row(7, 31, "movement", "failed", "no notification server"),
        _row(8, 40, "posture", "delivered", "via freedesktop"),
    ]
    entries = diary(rows)
    assert [(e.kind, e.what, e.outcome, e.via) for e in entries] == [
        ("posture", "reminder", "done", "button"),
        ("hydration", "reminder", "done", "natural break"),
        ("hydration", "natural break", "done", "natural break"),
        ("stretch", "dropped", "dropped", ""),
        ("movement", "failed", "failed", ""),
        ("posture", "reminder", "no answer", ""),
    ]
    assert describe(entries[0]).startswith("reminded, done with the button at")
    assert describe(entries[2]) == "natural break: away from the keyboard for 14 min"
    assert "because the screen was locked, then dropped" in describe(entries[3])
    assert describe(entries[4]) == "failed: could not be shown: no notification server"


# --- data ---------------------------------------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE history (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, event TEXT NOT NULL,
                      detail TEXT NOT NULL DEFAULT '');
CREATE INDEX history_at ON history(at);
"""


def test_an_old_state_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO history(at, kind, event, detail) VALUES('2026-11-20T09:00:00+00:00', 'posture', 'delivered', 'via console')")
    db.execute("""INSERT INTO kv VALUES('engine', '{"reminders": {}}')""")
    db.commit()
    db.close()
    store = Store(path)
    assert store.warning is None
    assert store.load_engine() == {"reminders": {}}
    [old] = store.history()
    assert (old.kind, old.event, old.ref) == ("posture", "delivered", None)
    answer = store.record(datetime.now(UTC), "posture", "done", "via command", ref=old.id)
    assert store.answered(old.id) and answer > old.id
    span = store.open_span("running", datetime(2026, 11, 20, 9, tzinfo=UTC))
    store.extend_span(span, datetime(2026, 11, 20, 10, tzinfo=UTC))
    [run] = store.spans("running", datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    assert run.end - run.start == timedelta(hours=1)
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again = Store(path)  # a second open runs no step twice
    assert len(again.history()) == 2
    again.close()


def test_a_state_file_from_a_newer_ergo_is_read_not_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.commit()
    db.close()
    store = Store(path)
    assert store.warning is None and path.exists()
    store.record(datetime.now(UTC), "posture", "delivered")
    assert len(store.history()) == 1
    store.close()


# --- in-process: the daemon's own clock, the default action, a merged reminder answered twice ----------------


class AheadClock:
    """Time travel (the one fake the standards allow): real time plus a fixed offset on wall and monotonic time."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()


SLOW = {kind: {"interval": "2h"} for kind in ("posture", "hydration", "stretch", "movement")}


@pytest.fixture
def inprocess(desktop: DesktopSession, tmp_path: Path, request: pytest.FixtureRequest):
    """ergo's Daemon in this process, on the real dunst (real buttons), with a clock three days ahead of the system's."""
    from ergo.config.frozen import PlainLoaded
    from ergo.config.load import export_json, load_settings
    from ergo.daemon.core import Backends, Daemon as InProcessDaemon
    from ergo.notify.select import FallbackNotifier, select_notifier
    from ergo.paths import Paths

    clock = AheadClock(timedelta(days=3, hours=5))
    paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
    flags = {**SLOW, **getattr(request, "param", {})}
    loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, flags)))
    notifier, reason = select_notifier("freedesktop", answers=True)
    backends = Backends(FallbackNotifier(notifier, reason=reason), reason, answers=notifier.answers)
    daemon = InProcessDaemon(paths, loaded, backends, Store(paths.state_db), flags=flags, clock=clock)
    daemon.start()
    try:
        yield daemon, clock, desktop
    finally:
        daemon.stop()
        daemon.store.close()


def _rows(daemon, event: str) -> list[HistoryRow]:
    return [row for row in daemon.store.history() if row.event == event]


def _close_to(at: datetime, clock: AheadClock) -> bool:
    return abs((at - clock.now()).total_seconds()) < 30


def test_the_default_action_records_done_stamped_with_the_daemons_clock(inprocess) -> None:
    """Pressing the notification itself (dunstctl action = its default action) is Done for that delivery; every
    answer, by button or by command, is stamped with the daemon's clock, not the system's."""
    daemon, clock, desk = inprocess
    assert daemon.handle({"cmd": "now", "kind": "posture"})["ok"]
    [note] = desk.notifications(count=1)
    assert note["actions"][0] == "default", note["actions"]
    desk._dunstctl("action", "0")
    [done] = wait_for(lambda: _rows(daemon, "done"), 5, what="Done from the default action")
    [delivered] = _rows(daemon, "delivered")
    assert (done.kind, done.ref, done.detail) == ("posture", delivered.id, "via button")
    assert _close_to(done.at, clock), f"the button's answer is stamped {done.at}, the daemon's clock says {clock.now()}"
    # a command's answer, too
    assert daemon.handle({"cmd": "now", "kind": "hydration"})["ok"]
    assert daemon.handle({"cmd": "skip", "kind": "hydration"})["answered"] == ["hydration"]
    [skipped] = _rows(daemon, "skipped")
    assert skipped.kind == "hydration" and skipped.detail == "via command"
    assert _close_to(skipped.at, clock), f"the command's answer is stamped {skipped.at}, not {clock.now()}"
    due = datetime.fromisoformat(daemon.status()["reminders"]["hydration"]["next_due"])
    assert _close_to(due - timedelta(hours=2), clock), "the countdown restarts from the daemon's now"
    # and a notification closed without an answer
    assert daemon.handle({"cmd": "now", "kind": "movement"})["ok"]
    desk.notifications(count=3)
    desk._dunstctl("close-all")  # the answered posture bubble is still up too: its close is not ours to record
    [dismissed] = wait_for(lambda: _rows(daemon, "dismissed"), 5, what="the closed notification")
    assert dismissed.kind == "movement" and _close_to(dismissed.at, clock), dismissed


def test_a_merged_reminder_answered_by_command_then_by_button_records_each_kind_once(inprocess) -> None:
    daemon, clock, desk = inprocess
    with daemon.lock:
        now = clock.now()
        daemon.apply(daemon.engine.deliver_now(now, "posture", "hydration"), now)
    [note] = desk.notifications(count=1)
    assert "Done" in note["actions"]
    assert daemon.handle({"cmd": "done", "kind": "posture"})["answered"] == ["posture"]
    desk._dunstctl("action", "0")  # Done on the merged notification: only hydration is still waiting
    wait_for(lambda: any(row.kind == "hydration" for row in _rows(daemon, "done")), 5, what="hydration done by the button")
    # (a second posture row would come from the same answer, written before hydration's: no need to wait for it)
    done = sorted((row.kind, row.detail) for row in _rows(daemon, "done"))
    assert done == [("hydration", "via button"), ("posture", "via command")], done
    refs = {row.ref for row in _rows(daemon, "done")}
    assert refs == {row.id for row in _rows(daemon, "delivered")}, "each answer points at its own delivery"


@pytest.mark.parametrize("inprocess", [{"expire": "1s"}], indirect=True)
def test_a_notification_that_expires_is_not_recorded_as_closed_by_the_person(inprocess) -> None:
    """The server's timeout is not an answer: no "closed without an answer" row, and the reminder stays open."""
    daemon, clock, desk = inprocess
    assert daemon.handle({"cmd": "now", "kind": "posture"})["ok"]
    [note] = desk.notifications(count=1)
    assert note["expire_timeout"] == 1000
    wait_for(lambda: note["id"] not in daemon.deliverer.notices, 10, what="the expiry reaching the daemon")
    assert [row.event for row in daemon.store.history()] == ["delivered"]
    assert daemon.handle({"cmd": "done"})["answered"] == ["posture"], "an expired reminder can still be answered"
