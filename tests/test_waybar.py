"""A real bar: Debian's waybar under a headless sway, configured with the docs' waybar snippet and
its own tray (waybar is a StatusNotifierItem host and watcher).

It shows that the pasted `custom/ergo` block runs `ergo status --follow --format waybar` and keeps it
running without complaint, and that `ergo tray` registers with a real SNI watcher and is read by a
real host. (The bar's pixels are not checked: there is no OCR here.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import private_bus
from tests.desktop import require_tools
from tests.test_tray import Tray
from tests.wayland import headless_sway

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "status-bars-and-tray.md"


def readme_waybar_block() -> str:
    """The docs' waybar snippet, exactly as printed (a `"custom/ergo": {...}` member)."""
    text = DOCS_PAGE.read_text()
    start = text.index("waybar (`~/.config/waybar/config`")
    block = text[text.index("```json\n", start) + len("```json\n"):]
    return block[:block.index("```")].strip()


def start_waybar(env: ErgoEnv, config: dict, *args: str, **popen: object) -> tuple[subprocess.Popen, Path]:
    """Debian's waybar with `config`, `ergo` on PATH as installed, its own private runtime dir; (process, log)."""
    env.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.env['PATH']}"
    (env.root / "waybar.json").write_text(json.dumps(config))
    runtime = Path(tempfile.mkdtemp(prefix="wb", dir=env.root))
    os.chmod(runtime, 0o700)
    log = env.root / "waybar.log"
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(["waybar", "-c", str(env.root / "waybar.json"), *args],
                                env={**env.env, "XDG_RUNTIME_DIR": str(runtime)}, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen)
    return proc, log


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    found.append((child, f.read().replace(b"\0", b" ").decode(errors="replace").strip()))
            except OSError:
                continue
            todo.append(child)
    return found


def registered_items(bus: str) -> list[str]:
    with open_dbus_connection(bus=bus) as conn:
        watcher = DBusAddress("/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", "org.freedesktop.DBus.Properties")
        reply = conn.send_and_get_reply(new_method_call(watcher, "Get", "ss", ("org.kde.StatusNotifierWatcher",
                                                                           "RegisteredStatusNotifierItems")), timeout=3)
    if reply.header.message_type.name != "method_return":
        return []
    return list(reply.body[0][1])


def test_waybar_runs_the_readme_snippet_and_hosts_the_tray_icon() -> None:
    require_tools("waybar", "dbus-daemon")
    block = readme_waybar_block()
    config = json.loads('{"layer": "top", "height": 30, "modules-right": ["custom/ergo", "tray"], '
                        + block + ', "tray": {"spacing": 4}}')
    assert config["custom/ergo"]["exec"] == "ergo status --follow --format waybar"
    with headless_sway() as sway, private_bus() as bus:
        desktop = {**sway.env(), "DBUS_SESSION_BUS_ADDRESS": bus}
        with ErgoEnv.create(desktop, POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m") as env:
            with Daemon(env):
                waybar, log = start_waybar(env, config, "-l", "debug")
                tray = None
                try:
                    wait_for(lambda: "Bar configured" in log.read_text(errors="replace"), timeout=15,
                             what="waybar to show its bar")
                    wait_for(lambda: any("ergo status --follow --format waybar" in cmd and "python" in cmd
                                         for _, cmd in descendants(waybar.pid)), timeout=10,
                             what="waybar to run the snippet's command")
                    tray = Tray(env.env, env.root)
                    item = f"org.kde.StatusNotifierItem-{tray.proc.pid}-1"
                    wait_for(lambda: any(i.startswith(item) for i in registered_items(bus)), timeout=10,
                             what="waybar's watcher to list the ergo item")
                    wait_for(lambda: "a tray host" in tray.text(), timeout=10, what="waybar's tray to read the icon")
                    assert waybar.poll() is None
                    complaints = [line for line in log.read_text(errors="replace").lower().splitlines()
                                  if "custom" in line and ("error" in line or "fail" in line)]
                    assert complaints == []  # e.g. waybar's "custom/ergo: ... json" parse errors
                finally:
                    if tray is not None:
                        assert tray.close() == 0, tray.text()
                    followers = [pid for pid, cmd in descendants(waybar.pid) if "--follow" in cmd]
                    waybar.terminate()
                    waybar.wait(timeout=5)
                    for pid in followers:  # waybar leaves its exec'd child behind; it would exit at its next write
                        try:
                            os.kill(pid, 15)
                        except ProcessLookupError:
                            pass
