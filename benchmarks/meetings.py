#!/usr/bin/env python3
"""What [meetings] costs an idle daemon: the present-desktop footprint with every busy source on
(a real PulseAudio server for the microphone, X11 full screen, the camera, a calendar file) and with all
of them off, side by side, from the same clean venv.

    python benchmarks/meetings.py [--idle-seconds 120] [--venv PATH]

The budget (issue 21): at most 1 MB more PSS and at most 1 more context switch per minute.
Nothing is asked while nothing is due, so the difference is what the sources' modules and libpulse
add to memory, and no wake-ups at all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CleanVenv, add_common_arguments, desktop_available, desktop_env, mb, say  # noqa: E402
from footprint import add_arguments, measure  # noqa: E402

PSS_BUDGET_MB = 1.0
SWITCHES_BUDGET_PER_MIN = 1.0


def pulse_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    (root / "home").mkdir()
    (root / "run").mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run")}
    proc = subprocess.Popen(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--load=module-null-sink",
                             "--load=module-null-source source_name=mic", "--load=module-native-protocol-unix"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = root / "run" / "pulse" / "native"
    deadline = time.monotonic() + 15
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("pulseaudio did not start")
        time.sleep(0.05)
    return proc, f"unix:{socket}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    available, why = desktop_available()
    if not available or not shutil.which("pulseaudio"):
        raise SystemExit(f"needs the desktop tools and pulseaudio: {why or 'pulseaudio not found'}")
    venv = CleanVenv.prepare(args.venv, args.python, reinstall=not args.no_reinstall)
    root = Path(tempfile.mkdtemp(prefix="ergo-b-pulse-"))
    server, address = pulse_server(root)
    calendar = root / "cal.ics"
    calendar.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nEND:VCALENDAR\r\n")
    os.environ["PULSE_SERVER"] = address  # the sandbox copies the environment
    results = {}
    try:
        for name, extra in (("off", {"MEETINGS__MICROPHONE": "false", "MEETINGS__CAMERA": "false",
                                     "MEETINGS__FULLSCREEN": "false"}),
                            ("on", {"MEETINGS__CALENDAR": f'["{calendar}"]'})):
            with desktop_env() as desk:
                results[name] = measure(venv, "present", args, desk, extra, f", meetings {name}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)
    on, off = results["on"], results["off"]
    pss = lambda r: max(r["alone"]["pss_alone_kb"], r["alone_after_delivery"]["pss_alone_kb"])  # noqa: E731
    d_pss = (pss(on) - pss(off)) / 1024
    d_sw = on["idle"]["switches_per_min"] - off["idle"]["switches_per_min"]
    say(f"\nbusy sources (on): {'; '.join(on.get('busy_sources') or [])}")
    say(f"| meetings | PSS as the only Python process | context switches per minute |")
    say("|---|---|---|")
    for name in ("off", "on"):
        r = results[name]
        say(f"| {name} | {mb(pss(r))} | {r['idle']['switches_per_min']:.1f} |")
    say(f"| difference | {d_pss:+.2f} MB (budget {PSS_BUDGET_MB:g}) | {d_sw:+.1f} (budget {SWITCHES_BUDGET_PER_MIN:g}) |")
    return 0 if d_pss <= PSS_BUDGET_MB and d_sw <= SWITCHES_BUDGET_PER_MIN else 1


if __name__ == "__main__":
    sys.exit(main())
