"""The throwaway test users (tests/second_user.py): a name of their own, removed on every exit path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import REPO
from tests.second_user import MARK, PREFIX, pwd, remove_user, sweep_leaked_users, temporary_user

CHILD = """
import sys, time
from tests.second_user import temporary_user
with temporary_user() as user:
    print(user.pw_name, flush=True)
    time.sleep(60)
"""


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _child_user(sig: int) -> str:
    """A python that makes a test user, then gets `sig`; returns the user's name."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        name = child.stdout.readline().strip()
        assert name.startswith(PREFIX) and _exists(name), name
        child.send_signal(sig)
        child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return name


def test_each_user_has_a_name_of_its_own_and_is_removed_even_when_the_test_fails() -> None:
    with temporary_user() as first, temporary_user() as second:
        assert first.pw_name != second.pw_name and first.pw_uid != second.pw_uid
        assert first.pw_gecos.startswith(f"{MARK} pid={os.getpid()} ")
    assert not _exists(first.pw_name) and not _exists(second.pw_name)
    with pytest.raises(RuntimeError), temporary_user() as third:
        raise RuntimeError("the test failed")
    assert not _exists(third.pw_name)


def test_a_terminated_run_removes_its_user() -> None:
    name = _child_user(signal.SIGTERM)
    assert not _exists(name), f"{name} outlived SIGTERM"


def test_a_killed_runs_user_is_swept_and_a_running_ones_is_not() -> None:
    name = _child_user(signal.SIGKILL)
    try:
        assert _exists(name), "SIGKILL leaves no chance to clean up: the sweep has to"
        with temporary_user() as mine:  # this process still runs: its user stays
            sweep_leaked_users()  # (a suite's start in a parallel worker may have swept it first: either is right)
            assert not _exists(name) and _exists(mine.pw_name)
    finally:
        remove_user(name)
