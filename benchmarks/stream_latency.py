"""How soon a change reaches `ergo status --follow` (issue 11: "within a second of `ergo pause`").

    python benchmarks/stream_latency.py [--rounds 40] [--stuck 8]

Starts a private daemon (tests/daemon_helpers.py: its own config, state and runtime dir), runs the
real `python -m ergo status --follow --format plain` as a child, then alternates pause and resume
through the control socket and times each request from send to the follower printing the new line.
`--stuck N` adds N subscribers that never read, to show they delay nobody. Prints median, p90 and worst.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemon_helpers import Daemon, ErgoEnv  # noqa: E402


def read_line(fd: int, buffer: bytearray, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--stuck", type=int, default=8, help="subscribers that never read")
    args = parser.parse_args()
    with ErgoEnv.create(POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m") as env, Daemon(env):
        stuck = []
        for _ in range(args.stuck):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.connect(str(env.socket))
            client.sendall(b'{"cmd": "subscribe"}\n')
            stuck.append(client)
        follower = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", "plain"],
                                    env=env.env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert follower.stdout is not None
        fd, buffer = follower.stdout.fileno(), bytearray()
        read_line(fd, buffer, 10)
        times: list[float] = []
        for round_ in range(args.rounds):
            command = "pause" if round_ % 2 == 0 else "resume"
            started = time.perf_counter()
            env.request(command)
            line = read_line(fd, buffer, 5)
            if line is None:
                print(f"round {round_}: no line within 5 s", file=sys.stderr)
                return 1
            times.append(time.perf_counter() - started)
        follower.kill()
        follower.wait()
        for client in stuck:
            client.close()
    ms = sorted(t * 1000 for t in times)
    print(f"{args.rounds} changes, {args.stuck} stuck subscribers: request sent -> line printed "
          f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, worst {ms[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
