"""Fixtures shared by ergo's tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import pytest

from tests.daemon_helpers import ErgoEnv
from tests.desktop import DesktopSession, desktop_session, require_desktop_tools

# The suite reads ergo's English words: a developer's German session (LANG=de_DE.UTF-8) must not change
# them. LANGUAGE comes first for gettext (ergo.i18n); the language tests set their own (tests/test_i18n.py).
os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _fresh_work_hours_cache() -> None:
    """Each test computes work-hour spans afresh: the spans cache (ergo.timing.worktime._spans) is shared by
    equal WorkHours, so without this a test, and under mutmut a mutant, could read spans an earlier test
    computed (mutmut forks each mutant from a process that already ran the tests)."""
    from ergo.timing import worktime

    worktime._spans.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any test using the `desktop` fixture is marked `desktop`, so `-m "not desktop"` leaves it out."""
    for item in items:
        if "desktop" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.desktop)
    if os.environ.get("MUTANT_UNDER_TEST"):
        items[:] = _fastest_first(items)


def _fastest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """Under mutmut (benchmarks/mutation.sh) the fastest tests run first: mutmut stops at the first failure
    (-x), so a mutant that a quick unit test kills no longer waits for a property test that happened to
    come first. The order is by the durations mutmut measured in its stats run (mutants/mutmut-stats.json),
    or, before that exists, with the hypothesis tests last. The same tests run either way."""
    try:
        with open("mutmut-stats.json", encoding="utf-8") as file:
            durations: dict[str, float] = json.load(file)["duration_by_test"]
    except (OSError, ValueError, KeyError, TypeError):
        durations = {}

    def cost(item: pytest.Item) -> tuple[float, float]:
        hypothesis = float(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))
        return durations.get(item.nodeid, hypothesis * 1000), hypothesis

    return sorted(items, key=cost)  # stable: equal costs keep the files' order


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopSession]:
    """A private bus + Xvfb + dunst, with this process's environment pointed at it for the test."""
    require_desktop_tools()
    with desktop_session() as session:
        for key, value in session.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield session


@pytest.fixture
def make_env() -> Iterator[Callable[..., ErgoEnv]]:
    """Build isolated ergo environments; every daemon left in them is killed and every dir removed at the end."""
    made: list[ErgoEnv] = []

    def make(desktop_env: dict[str, str] | None = None, **settings: str | None) -> ErgoEnv:
        env = ErgoEnv.create(desktop_env, **settings)
        made.append(env)
        return env

    yield make
    for env in made:
        env.cleanup()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove the throwaway users that runs killed outright left behind (tests/second_user.py)."""
    from tests.second_user import sweep_leaked_users

    sweep_leaked_users()
