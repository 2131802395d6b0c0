"""`ergo completion bash|zsh|fish`: a completion script generated from the argparse parser by shtab.

shtab (a maintained generator, no dependencies) writes bash, zsh and fish scripts
from the same parser `ergo --help` prints, so a new subcommand or flag completes
without anyone editing a script. It is imported here only, never on the everyday
paths. The script is static: kinds and plan names are written into it now (from
ergo.cli.KINDS and the shipped plan files), so completing costs the shell nothing.

The build (setup.py) runs it too, through ergo.cli.completion_script, and installs
the three scripts at the Debian-style paths of the wheel's data (share/bash-completion/completions/ergo,
share/zsh/vendor-completions/_ergo, share/fish/vendor_completions.d/ergo.fish).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from ergo.errors import ErgoError

# Where each script goes when installed for the whole system (Debian's paths), as in the wheel's data.
SYSTEM_PATHS = {
    "bash": "share/bash-completion/completions/ergo",
    "zsh": "share/zsh/vendor-completions/_ergo",
    "fish": "share/fish/vendor_completions.d/ergo.fish",
}


def _actions(parser: argparse.ArgumentParser, seen: set[int] | None = None) -> Iterator[argparse.Action]:
    """Every argument of the parser and of all its subcommands (aliases visited once)."""
    seen = set() if seen is None else seen
    if id(parser) in seen:
        return
    seen.add(id(parser))
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _actions(child, seen)


def annotate(parser: argparse.ArgumentParser, kinds: tuple[str, ...]) -> argparse.ArgumentParser:
    """Give each tagged argument (ergo.cli._completes: kind, plan, file) what it completes to."""
    import shtab

    from ergo.plans.catalog import load_plans

    values = {"kind": list(kinds), "plan": sorted(load_plans())}
    for action in _actions(parser):
        what = getattr(action, "completes", None)
        if what == "file":
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif what in values:
            action.choices = values[what]
    return parser


def script(shell: str, parser: argparse.ArgumentParser, kinds: tuple[str, ...]) -> str:
    """The completion script for `shell` (bash, zsh or fish) from ergo's parser (ergo.cli.completion_script)."""
    if shell not in SYSTEM_PATHS:
        raise ErgoError(f"no completion for {shell!r}; choose one of: {', '.join(SYSTEM_PATHS)}")
    import shtab

    text = shtab.complete(annotate(parser, kinds), shell=shell)
    return text if text.endswith("\n") else text + "\n"
