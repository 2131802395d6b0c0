"""`python -m ergo.config.check CONFIG_FILE FLAGS_JSON`: validate and print the settings as JSON.

The daemon runs this in a child process so pydantic never loads into it (see
ergo.config.frozen). A bad config prints the usual one line and exits 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ergo.errors import ConfigError, one_line


def main(argv: list[str]) -> int:
    from ergo.config.load import export_json, load_settings

    try:
        loaded = load_settings(Path(argv[0]), json.loads(argv[1]) if len(argv) > 1 else {})
    except ConfigError as error:
        print(one_line(error), file=sys.stderr)
        return error.exit_code
    try:
        print(json.dumps(export_json(loaded)), flush=True)
    except BrokenPipeError:
        # The daemon that was to read this exited first (its log and exit code say why, and
        # `ergo start` reports that): not a config problem, so no line and no error here.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
