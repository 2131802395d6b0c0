"""Live reload that follows what people do with dotfiles (issue 7, item 5): a symlinked config
(GNU stow, home-manager, chezmoi), the config dir deleted and recreated, an editor's atomic save,
and a config file deleted while ergo runs.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

pytestmark = pytest.mark.slow


def _interval(env: ErgoEnv, kind: str = "posture") -> str:
    return env.status()["reminders"][kind]["interval"]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    tmp.replace(path)


def test_an_edit_of_a_symlinked_config_is_noticed_within_2s() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL=None, HYDRATION__INTERVAL=None) as env:
        target = env.root / "dotfiles" / "ergo" / "config.toml"
        target.parent.mkdir(parents=True)
        target.write_text('[posture]\ninterval = "20m"\n')
        env.config.symlink_to(target)
        with Daemon(env):
            assert _interval(env) == "20m"
            with open(target, "w") as f:  # edited in place, through the real path
                f.write('[posture]\ninterval = "7m"\n')
            wait_for(lambda: _interval(env) == "7m", timeout=2.5, what="the edit of the link's target")
            _atomic_write(target, '[posture]\ninterval = "8m"\n')  # an editor's save in the dotfiles dir
            wait_for(lambda: _interval(env) == "8m", timeout=2.5, what="an atomic save of the target")
            other = target.with_name("other.toml")
            other.write_text('[posture]\ninterval = "9m"\n')
            tmp_link = env.config.with_name("config.toml.new")
            tmp_link.symlink_to(other)
            tmp_link.replace(env.config)  # stow re-pointing the link
            wait_for(lambda: _interval(env) == "9m", timeout=2.5, what="the link re-pointed")
            with open(other, "w") as f:
                f.write('[posture]\ninterval = "10m"\n')
            wait_for(lambda: _interval(env) == "10m", timeout=2.5, what="an edit of the new target")


def test_the_config_dir_deleted_and_recreated_keeps_reload_working() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL=None, HYDRATION__INTERVAL=None) as env:
        folder = env.root / "cfg"
        folder.mkdir()
        config = folder / "config.toml"
        config.write_text('[posture]\ninterval = "20m"\n')
        env.env["ERGO_CONFIG"] = str(config)
        with Daemon(env) as daemon:
            shutil.rmtree(folder)
            time.sleep(0.5)
            folder.mkdir()
            _atomic_write(config, '[posture]\ninterval = "9m"\n')
            wait_for(lambda: _interval(env) == "9m", timeout=5, what="the recreated config")
            _atomic_write(config, '[posture]\ninterval = "11m"\n')
            wait_for(lambda: _interval(env) == "11m", timeout=2.5, what="a later atomic save")
            assert daemon.alive()


def test_a_deleted_config_keeps_the_last_good_settings_and_says_so() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL=None, HYDRATION__INTERVAL=None) as env:
        env.config.write_text('[posture]\nenabled = false\n[hydration]\ninterval = "25m"\n')
        with Daemon(env):
            assert env.status()["reminders"]["posture"]["enabled"] is False
            env.config.unlink()
            wait_for(lambda: env.status().get("config_error"), timeout=5, what="status saying the file is gone")
            status = env.status()
            assert status["reminders"]["posture"]["enabled"] is False, "a kind the person turned off came back"
            assert status["reminders"]["hydration"]["interval"] == "25m"
            assert "deleted" in status["config_error"] and "last good" in status["config_error"], status["config_error"]
            text = env.cli("status").stdout
            assert "deleted" in text, text
            env.config.write_text('[posture]\nenabled = false\n[hydration]\ninterval = "26m"\n')
            wait_for(lambda: _interval(env, "hydration") == "26m", timeout=5, what="the file back")
            assert env.status()["config_error"] is None
