"""Plans: the data files against the documents, the pure timing over simulated days, and the real daemon.

The timing tests pass times in (a simulated clock, as for ergo.timing.policy); the daemon tests run the
real `ergo run` with a plan stored in its real SQLite state file.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ergo.errors import ErgoError
from ergo.plans import timing
from ergo.plans.catalog import load_plans
from ergo.records.store import Store
from ergo.tips import load_sources, red_flag
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.helpers import ergo_env, run_ergo  # noqa: F401
from tests.seed_index import plan_quotes, plan_texts, unquoted
from tests.test_tips import DENY, WARNING_SIGNS, seeds  # noqa: F401

PLANS = load_plans()
ACUTE = PLANS["acute-back"]
WORKOUT = PLANS["after-workout"]
BERLIN = ZoneInfo("Europe/Berlin")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, zone=BERLIN) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(timezone.utc)


def timeline(plan, running, zone=BERLIN) -> list[tuple[datetime, str]]:
    return [(at, step.id) for at, step in timing.occurrences(plan, running, zone, running.last, running.ends)]


# --- the data files against the documents ------------------------------------------------------


def _texts(plan) -> list[str]:
    """Every text of the plan a person reads: in ergo's own words, except what it puts in quotation marks."""
    return plan_texts(plan)


@pytest.mark.parametrize("plan", list(PLANS.values()), ids=lambda p: p.name)
def test_every_step_cites_a_real_section_and_the_documents_own_words(plan, seeds) -> None:
    cites = [step.cite for step in plan.steps] + list(plan.warning_sources)
    assert cites
    for cite in cites:
        assert cite.section in seeds.headings(cite.source), cite
        assert seeds.has_quote(cite.source, cite.quote), cite
        # the quote sits under that section: the section is a heading at or above the quote's first word
        assert seeds.quote_under(cite.source, cite.section, cite.quote), cite


@pytest.mark.parametrize("plan", list(PLANS.values()), ids=lambda p: p.name)
def test_no_drug_brand_or_dose_and_no_copied_sentences(plan, seeds) -> None:
    """ergo's own words throughout; what it puts in quotation marks is verbatim from the document it cites."""
    for text in filter(None, _texts(plan)):
        assert not DENY.search(text), (plan.name, text)
        assert not seeds.copied(unquoted(text)), (plan.name, seeds.copied(unquoted(text)))
    for file, quoted in plan_quotes(plan):
        assert seeds.has_quote(file, quoted), f"{plan.name}: {quoted!r} is in quotation marks but not in {file}"


def test_acute_back_gives_the_warning_signs_exactly_as_the_document_does(seeds) -> None:
    """002's list in full ("persist, are severe, or are accompanied by ... numbness, tingling, or weakness"),
    quoted; 003's sore or numb leg only as ergo's own caution, labelled so."""
    flag = red_flag()
    file, sentence = WARNING_SIGNS
    assert seeds.quote_under(file, flag.section, sentence) and sentence == f"If back spasms {flag.quote}"  # the whole list
    assert f'"{flag.quote}"' in ACUTE.warning and "medical attention" in ACUTE.warning
    assert f"({load_sources()[flag.source].title})" in ACUTE.warning  # cited by its title, not its number
    leg = ACUTE.warning[ACUTE.warning.index("leg") - 120:ACUTE.warning.index("leg")]
    assert "ergo's own caution" in leg  # the leg is not passed off as one of the documents' signs
    assert "skin" in ACUTE.skin_note.lower()
    assert "persists or is severe" not in ACUTE.warning and not re.search(r"\b00\d\b", ACUTE.warning)


def test_every_movement_step_goes_only_as_far_as_the_pain_allows_and_stops_if_it_grows() -> None:
    moves = [step for step in ACUTE.steps if step.id.startswith("move")]
    assert len(moves) == 3
    for step in moves + [ACUTE.reminders["stretch"]]:
        text = step.text if hasattr(step, "text") else step.note
        assert "as far as the pain allows" in text and re.search(r"[Ss]top if it grows", text), text
        assert not re.search(r"now that|has eased\.|pain is gone|pain has gone", text), f"assumes the pain has gone: {text}"
    # move-3 brings stretching back only on a condition, and gives walking otherwise
    assert re.search(r"Has the sharp pain eased\? Then add", ACUTE.step("move-3").text)
    assert "if not, keep to walking" in ACUTE.step("move-3").text


def test_every_number_the_documents_do_not_give_is_labelled_as_ergos_choice() -> None:
    for plan in PLANS.values():
        for step in plan.steps:
            assert step.choice, f"{plan.name} {step.id}: its times and counts are ergo's choice: say so"
    choice = {step.id: step.choice for step in ACUTE.steps}
    assert "every 3 hours" in choice["cold"] and '"every few hours"' in choice["cold"] and "72 hours" in choice["cold"]
    assert "3 times a day" in choice["heat"]
    assert "twice a day" in choice["move-1"] and "3 times a day" in choice["move-2"] and "4 times a day" in choice["move-3"]
    assert any("7 days" in c for c in ACUTE.choices) and any("day 1" in c and "rest" in c for c in ACUTE.choices)
    assert "10 minutes after you start it" in WORKOUT.steps[0].choice


# --- timing, simulated# --- timing, simulated ----------------------------------------------------------------------------


def test_acute_back_week_matches_the_documents() -> None:
    start = local(2026, 11, 23, 9, 7)  # a Monday morning
    running = timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {}))
    steps = timeline(ACUTE, running)
    assert running.ends == start + timedelta(days=7)
    assert all(start <= at < running.ends for at, _ in steps)
    for at, step in steps:  # nothing at night, whatever the step
        assert 8 * 60 <= at.astimezone(BERLIN).hour * 60 + at.astimezone(BERLIN).minute < 22 * 60, (at, step)
    cold = [at for at, s in steps if s == "cold"]
    assert cold[0] == start  # the first cold pack at once
    assert all(at < start + timedelta(hours=72) for at in cold)  # the first 72 hours only (003)
    assert cold[-1] > start + timedelta(hours=60)  # ... and right up to the end of them
    same_day_gaps = {b - a for a, b in zip(cold, cold[1:]) if a.astimezone(BERLIN).date() == b.astimezone(BERLIN).date()}
    assert same_day_gaps == {timedelta(hours=3)}  # every few hours: the default 3 h
    heat = [at for at, s in steps if s == "heat"]
    assert heat and all(at >= start + timedelta(hours=72) for at in heat)  # beyond the first 72 hours (003)
    per_day = Counter(at.astimezone(BERLIN).date() for at in heat)
    assert set(list(per_day.values())[1:-1]) == {3}  # three a day on the full days
    moves = Counter((at - start).days + 1 for at, s in steps if s.startswith("move"))
    assert moves[1] == 0  # day 1 is rest (002)
    assert moves[2] <= moves[4] <= moves[6] and moves[2] < moves[6]  # and movement ramps up (004)
    assert not any(s == "move-3" and at < start + timedelta(hours=120) for at, s in steps)
    heat_times = {at for at in heat}
    assert not any(at in heat_times for at, s in steps if s.startswith("move"))  # no walk during the heat pack
    days = {at.astimezone(BERLIN).date() for at, _ in steps}
    assert len(days) >= 5  # the five-day timeline `ergo schedule --plan` prints


@pytest.mark.parametrize(("every", "gap"), [("2h", timedelta(hours=2)), ("4h", timedelta(hours=4))])
def test_cold_interval_is_configurable_within_two_to_four_hours(every: str, gap: timedelta) -> None:
    start = local(2026, 11, 23, 8)
    running = timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {"cold_every": every}))
    cold = [at for at, s in timeline(ACUTE, running) if s == "cold"][:3]
    assert [b - a for a, b in zip(cold, cold[1:])] == [gap, gap]


@pytest.mark.parametrize(
    ("given", "fragment"),
    [({"cold_every": "5h"}, "--cold-every 5h: acute-back takes 2h to 4h"), ({"cold_every": "1h"}, "2h to 4h"),
     ({"days": "3"}, "--days 3: acute-back takes 4 to 14"), ({"heat_per_day": "x"}, "not a whole number"),
     ({"cold_every": "45"}, "ambiguous")],
)
def test_options_out_of_bounds_are_one_line(given: dict, fragment: str) -> None:
    with pytest.raises(ErgoError) as caught:
        timing.resolve_options(ACUTE, given)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ErgoError, match="after-workout has no such option"):
        timing.resolve_options(WORKOUT, {"days": "5"})


def test_waking_hours_come_from_the_option_then_schedule_then_the_plans_default() -> None:
    assert timing.waking_window(ACUTE, "07:30-21:00", "09:00-17:00") == "07:30-21:00"
    assert timing.waking_window(ACUTE, None, "09:00-12:30, 13:30-18:00") == "09:00-18:00"
    assert timing.waking_window(ACUTE, None, "00:00-24:00") == "08:00-22:00"  # never all night
    with pytest.raises(ErgoError, match="one window"):
        timing.waking_window(ACUTE, "08:00-12:00, 13:00-20:00", "00:00-24:00")


def test_waking_hours_stay_local_across_a_dst_change() -> None:
    start = local(2026, 3, 27, 9)  # Berlin springs forward on Sunday 29 March
    running = timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {}))
    firsts = {}
    for at, s in timeline(ACUTE, running):
        firsts.setdefault(at.astimezone(BERLIN).date(), at.astimezone(BERLIN).strftime("%H:%M"))
    assert list(firsts.values())[1:4] == ["08:00", "08:00", "08:00"]


def test_after_workout_is_one_reminder_ten_minutes_on_then_it_ends() -> None:
    start = local(2026, 11, 23, 18, 2)
    running = timing.start(WORKOUT, start, "00:00-24:00", {})
    assert timeline(WORKOUT, running) == [(start + timedelta(minutes=10), "stretch")]
    assert "10 minutes" in WORKOUT.steps[0].text
    assert timing.finished(running, start + timedelta(minutes=15)) and not timing.finished(running, start + timedelta(minutes=11))


def test_after_a_restart_a_late_step_goes_out_once_and_a_stale_one_is_skipped() -> None:
    start = local(2026, 11, 23, 9)
    running = timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {}))
    fresh, stale, running = timing.due(ACUTE, running, BERLIN, start + timedelta(seconds=1))
    assert [s.id for _, s in fresh] == ["cold"] and not stale
    fresh, stale, after = timing.due(ACUTE, running, BERLIN, start + timedelta(hours=3, minutes=10))  # down 10 min late
    assert [s.id for _, s in fresh] == ["cold"] and not stale
    again, _, _ = timing.due(ACUTE, after, BERLIN, start + timedelta(hours=3, minutes=11))
    assert again == []  # never twice
    fresh, stale, _ = timing.due(ACUTE, running, BERLIN, start + timedelta(hours=6, minutes=20))  # down for hours
    assert [at for at, _ in stale] == [start + timedelta(hours=3)]  # 12:00: 3 h late, skipped
    assert [at for at, _ in fresh] == [start + timedelta(hours=6)]  # 15:00: 20 min late, still useful
    assert timing.next_time(ACUTE, after, BERLIN, start + timedelta(hours=3, minutes=11)) == start + timedelta(hours=6)


# --- the real daemon --------------------------------------------------------------------------------


def _store_plan(env: ErgoEnv, running: timing.Running) -> None:
    env.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(env.state_dir / "state.sqlite3")
    try:
        store.save_plan(running.to_json())
    finally:
        store.close()


@pytest.mark.slow
def test_a_stored_plan_survives_the_restart_delivers_its_step_and_ends_by_itself() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h") as env:
        now = datetime.now(timezone.utc)
        started = now - timedelta(minutes=10) + timedelta(seconds=4)  # its one step falls due in 4 s
        _store_plan(env, timing.Running("after-workout", started, started + timedelta(minutes=10, seconds=5), "00:00-24:00", {},
                                        started - timedelta(microseconds=1), now.astimezone().date().isoformat()))
        with Daemon(env) as daemon:
            plan = daemon.status()["plan"]
            # a loaded machine may start the daemon after the step fell due: then it was delivered already
            delivered = "Stretch after your workout" in daemon.stdout()
            assert delivered or (plan and plan["name"] == "after-workout" and plan["next_step"] == "stretch"), plan
            wait_for(lambda: "Stretch after your workout" in daemon.stdout(), 8, what="the plan's step")
            assert "stretch your main muscle groups, slowly, for about 10 minutes" in daemon.stdout()
            wait_for(lambda: daemon.status()["plan"] is None, 8, what="the plan ending by itself")
            assert "Plan started" not in daemon.stdout()  # announced when it started, not again after the restart
            assert "Plan finished: After your workout" in daemon.stdout()
            assert daemon.stdout().count("Stretch after your workout") == 1
        events = [(h["kind"], h["event"]) for h in env.history()]
        assert ("plan", "delivered") in events and ("plan", "finished") in events
        assert run_ergo(["plan", "status"], env.env).stdout.strip().startswith("no plan is running")


@pytest.mark.slow
def test_plan_start_through_the_daemon_warns_in_full_and_persists_until_stopped() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h", STRETCH__ENABLED="true",
                        STRETCH__INTERVAL="3s", SCHEDULE__HOURS="00:00-24:00") as env:
        with Daemon(env) as daemon:
            started = env.cli("plan", "start", "acute-back", "--waking", "00:00-24:00", "--cold-every", "2h")
            assert started.returncode == 0, started.stderr
            flat = " ".join(started.stdout.split())
            assert f'"{red_flag().quote}"' in flat  # the documents' warning signs in full
            assert "General first-aid practice, not from the documents:" in started.stdout
            assert "ergo's choices (the documents give no number, or a range):" in started.stdout
            assert "Cold pack: every 2 hours" not in flat and "Cold pack: every 3 hours" in flat  # the data's label
            assert "ergo is not running" not in started.stdout
            wait_for(lambda: "Plan started: Acute back spasm" in daemon.stdout(), 5, what="the start notification")
            out = daemon.stdout()
            assert "Time for the cold pack" in out and f'"{red_flag().quote}"' in out  # first step and the warning
            time.sleep(4)
            assert "Stretch" not in daemon.stdout()  # held while acute-back runs (tests/test_plan_holds.py)
            twice = env.cli("plan", "start", "after-workout")
            assert twice.returncode == 1 and "acute-back is already running" in twice.stderr
            status = json.loads(env.cli("status", "--json").stdout)["plan"]
            assert status["name"] == "acute-back" and status["options"]["cold_every"] == "2h"
            assert "plan: acute-back until" in env.cli("status").stdout
            assert daemon.terminate() == 0
        with Daemon(env) as daemon:  # a restart keeps it, and does not deliver the first step again
            assert daemon.status()["plan"]["name"] == "acute-back"
            time.sleep(1.0)
            assert "cold pack" not in daemon.stdout().lower()
            shown = env.cli("schedule", "--plan")
            assert shown.returncode == 0 and "Cold pack" in shown.stdout and "Moist heat" in shown.stdout
            assert "(day 4)" in shown.stdout or "(day 5)" in shown.stdout
            stopped = env.cli("plan", "stop")
            assert stopped.returncode == 0 and "stopped acute-back" in stopped.stdout
            assert daemon.status()["plan"] is None
        events = [(h["kind"], h["event"]) for h in env.history()]
        assert events.count(("plan", "started")) == 1 and ("plan", "stopped") in events


def test_plan_start_without_a_daemon_stores_it_and_schedule_shows_it(ergo_env) -> None:
    started = run_ergo(["plan", "start", "acute-back", "--waking", "08:00-22:00"], ergo_env)
    assert started.returncode == 0 and "ergo is not running" in started.stdout, started.stderr
    shown = run_ergo(["schedule", "--plan"], ergo_env)
    lines = shown.stdout.splitlines()
    assert any("(day 5)" in line for line in lines) and any("Moist heat" in line for line in lines)
    assert lines[-1].endswith("-- the plan ends by itself")
    merged = run_ergo(["schedule", "--hours", "24"], ergo_env)
    assert "plan acute-back: Cold pack" in merged.stdout
    # the same pure decision as the daemon's: stretch and movement held, and the timeline leaves them out
    assert re.search(r"stretch reminders held until .*: acute-back plan: stretching comes back", merged.stdout)
    assert re.search(r"movement reminders held until .*: acute-back plan: the plan's own gentle movement", merged.stdout)
    assert not re.search(r"^  \d\d:\d\d  .*\b(stretch|movement)\b", merged.stdout, re.M), merged.stdout
    status = " ".join(run_ergo(["plan", "status"], ergo_env).stdout.split())
    assert "stretch reminders held until" in status and "movement reminders held until" in status
    assert f'"{red_flag().quote}"' in status  # the warning signs in full
    bad = run_ergo(["plan", "start", "acute-back", "--cold-every", "5h"], ergo_env)
    assert bad.returncode == 1 and bad.stderr.strip() == "ergo: --cold-every 5h: acute-back takes 2h to 4h"
    unknown = run_ergo(["plan", "start", "marathon"], ergo_env)
    assert unknown.returncode == 1 and "no plan 'marathon' (plans: acute-back, after-workout)" in unknown.stderr
    assert run_ergo(["plan", "stop"], ergo_env).returncode == 0
    assert run_ergo(["plan", "stop"], ergo_env).returncode == 1


def test_plan_list_names_each_steps_document_by_its_title_like_ergo_tips(ergo_env) -> None:
    from ergo.tips import load_sources

    result = run_ergo(["plan", "list"], ergo_env)
    assert result.returncode == 0, result.stderr
    sources = load_sources()
    for plan in PLANS.values():
        for step in plan.steps:
            title = sources[step.cite.source].title
            assert f'source: {title} ({step.cite.source}), section "{step.cite.section}"' in result.stdout


# --- the warning signs: first notification, once a day, at the end (the driver over a simulated week) ---


def _drive_week(tmp_path: Path, started_offline: bool) -> list[tuple[datetime, str, str]]:
    """Run acute-back through the PlanDriver with a real SQLite store, ticking at each timer it asks for."""
    from ergo.plans.driver import PlanDriver

    start = local(2026, 11, 23, 9, 7)
    sent: list[tuple[datetime, str, str]] = []
    timer: list[datetime | None] = [None]
    clock = [start]
    store = Store(tmp_path / "state.sqlite3")
    if started_offline:  # `ergo plan start` with no daemon: only the stored plan
        store.save_plan(timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {})).to_json())
        clock[0] = start + timedelta(minutes=40)  # ergo is started later
    driver = PlanDriver(store, lambda key, title, body: sent.append((clock[0], title, body)) or "test",
                        lambda now: None, BERLIN, lambda at: timer.__setitem__(0, at))
    if started_offline:
        driver.sync(clock[0])
    else:
        driver.start(start, "acute-back", {}, "08:00-22:00", "00:00-24:00")
    for _ in range(500):
        if timer[0] is None:
            break
        clock[0] = max(timer[0], clock[0])
        driver.tick(clock[0])
    store.close()
    return sent


@pytest.mark.parametrize("offline", [False, True], ids=["through the daemon", "started with no daemon"])
def test_the_warning_signs_come_first_then_once_a_day_then_at_the_end(tmp_path: Path, offline: bool) -> None:
    sent = _drive_week(tmp_path, offline)
    quote = f'"{red_flag().quote}"'
    first_at, first_title, first_body = sent[0]
    assert first_title == "Plan started: Acute back spasm" and quote in first_body  # the first notification
    assert "Time for the cold pack" in first_body or offline  # the step due at once (stale when started offline)
    days: dict = {}
    for at, _title, body in sent:
        days.setdefault(at.astimezone(BERLIN).date(), []).append(quote in body)
    assert len(days) == 8  # Monday to the next Monday, when it ends
    for day, flags in days.items():
        assert flags[0] and flags.count(True) == 1 or (day == max(days) and flags.count(True) == 2), (day, flags)
    last_at, last_title, last_body = sent[-1]
    assert last_title == "Plan finished: Acute back spasm" and quote in last_body and "ergo's own caution" in last_body


def test_the_docs_cite_the_documents_by_title_and_label_ergos_choices() -> None:
    from tests.helpers import REPO

    page = (REPO / "docs" / "sources-and-plans.md").read_text("utf-8")
    config = (REPO / "docs" / "configuration.md").read_text("utf-8")
    health = "\n".join(line for line in config.splitlines() if "document" in line)  # the table's "topic from the documents"
    for name, text in (("sources-and-plans", page), ("configuration", health)):
        assert not re.search(r"(?<![\w_])00[0-4](?![\w_])", text), f"docs/{name}.md cites a document by its number"
    for line in page.splitlines():  # hashed file names only in the table of documents and the sample output line
        if re.search(r"00[0-4]_[0-9a-f]{16}", line):
            assert line.startswith("| *") or "source: " in line, line
    for source in load_sources().values():
        assert source.title in page
    assert "| when | step | what the document says | ergo's choice |" in page
    assert "Two of the documents give routines with a clock" not in page  # only one gives times
    for label in ("every 3 h", "3 times a day", "twice a day", "4 times a day", "7 days", "that rest is the first 24 hours"):
        row = next(line for line in page.splitlines() if line.startswith("|") and label in line)
        assert row.rstrip(" |").endswith(row.split("|")[-2].strip()) and label in row.split("|")[-2], row


def test_a_plan_started_with_no_daemon_is_announced_as_soon_as_the_daemon_runs(tmp_path: Path) -> None:
    """Not only when its first step falls due: after-workout's comes 10 minutes in, its start at once."""
    from ergo.plans.driver import PlanDriver

    start = local(2026, 11, 23, 18)
    store = Store(tmp_path / "state.sqlite3")
    store.save_plan(timing.start(WORKOUT, start, "00:00-24:00", {}).to_json())
    timer: list = [None]
    sent: list = []
    driver = PlanDriver(store, lambda key, title, body: sent.append(title) or "test", lambda now: None, BERLIN,
                        lambda at: timer.__setitem__(0, at))
    ran = start + timedelta(minutes=2)  # `ergo start` two minutes later
    driver.sync(ran)
    assert timer[0] == ran
    driver.tick(ran)
    assert sent == ["Plan started: After your workout"]
    store.close()


# --- waking hours bound every repeated step -----------------------------------------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402


@hsettings(max_examples=150, deadline=None, derandomize=True)
@given(wake=st.integers(5 * 60, 10 * 60).map(lambda m: m - m % 5),
       awake=st.integers(8 * 60, 15 * 60).map(lambda m: m - m % 5),
       offset=st.integers(0, 14 * 24 * 60),
       cold=st.sampled_from(["2h", "2h30m", "3h", "3h20m", "4h"]),
       heat=st.integers(1, 6))
def test_no_repeated_step_falls_outside_waking_hours_or_on_their_end(wake: int, awake: int, offset: int, cold: str,
                                                                     heat: int) -> None:
    """Every `every` and `per_day` step lies in [wake, sleep) local time: never at the end of waking hours."""
    sleep = wake + awake
    waking = f"{wake // 60:02d}:{wake % 60:02d}-{sleep // 60:02d}:{sleep % 60:02d}"
    start = local(2026, 11, 2, 0) + timedelta(minutes=offset)  # November: no DST change inside the plan
    running = timing.start(ACUTE, start, waking, timing.resolve_options(ACUTE, {"cold_every": cold,
                                                                                "heat_per_day": str(heat)}))
    steps = timing.occurrences(ACUTE, running, BERLIN, start - timedelta(microseconds=1), running.ends)
    assert steps, "the plan has steps"
    for at, step in steps:
        clock = at.astimezone(BERLIN)
        minutes = clock.hour * 60 + clock.minute
        assert wake <= minutes < sleep, f"{step.id} at {clock:%a %H:%M} outside waking hours {waking}"


def test_a_shifted_per_day_step_that_would_pass_the_end_of_waking_hours_is_left_out() -> None:
    """A `shift` pushes the last of N steps past the end of waking hours: that one is dropped, not delivered late."""
    from ergo.plans.catalog import Plan, Step

    step = Step("late", "Late", "text", ACUTE.steps[0].cite, per_day=4, shift=timedelta(hours=2))
    plan = Plan("shifted", "Shifted", "", timedelta(days=2), "08:00-16:00", (step,), {})
    start = local(2026, 11, 2, 0)
    running = timing.start(plan, start, "08:00-16:00", {})
    times = [at.astimezone(BERLIN).strftime("%H:%M") for at, _ in timeline(plan, running)]
    assert times == ["11:00", "13:00", "15:00"] * 2, times  # 1 h into each 2 h quarter, +2 h; 17:00 is after 16:00


def test_waking_spans_each_day_or_joined_when_they_touch() -> None:
    lo, hi = local(2026, 11, 23, 12), local(2026, 11, 25, 9)  # Monday noon to Wednesday 09:00
    daily = timing._spans("08:00-22:00", BERLIN, lo, hi, merge=False)
    assert daily == [(local(2026, 11, d, 8), local(2026, 11, d, 22)) for d in (23, 24, 25)]
    assert timing._spans("08:00-22:00", BERLIN, local(2026, 11, 23, 22), hi, merge=True) == daily[1:], \
        "a span that ends where the range starts is not in it"
    whole = timing._spans("00:00-24:00", BERLIN, lo, hi, merge=True)
    assert whole == [(local(2026, 11, 23, 0), local(2026, 11, 26, 0))]
    assert len(timing._spans("00:00-24:00", BERLIN, lo, hi, merge=False)) == 3
