"""The mutation score per module from `mutmut results --all true`, and the survivors nobody has explained.

    python benchmarks/mutation_score.py mutants/results.txt benchmarks/mutation_survivors.txt

Killed = killed, timeout or segfault (the tests noticed); survived = survived or no tests. A survivor in
the survivors list (one `name  reason` a line) is explained, not killed: it still counts against the score.
Exit 1 when a survivor is not explained (or an explained one was killed: the list is out of date).
A listed mutant that did not run this time (a run of a few modules: `mutation.sh GLOB`) is left alone.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "segfault", "suspicious"}
SURVIVED = {"survived", "no tests"}


def main(results: Path, explained_file: Path) -> int:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    killed: set[str] = set()
    for line in results.read_text().splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.rsplit(".", 1)[0]  # methods are named xǁClassǁmethod__mutmut_N in the module
        if status in KILLED:
            counts[module]["killed"] += 1
            killed.add(name)
        elif status in SURVIVED:
            counts[module]["survived"] += 1
            survivors.append(name)
        else:
            counts[module][status] += 1  # not checked, skipped...
    explained = {}
    for line in explained_file.read_text().splitlines() if explained_file.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            explained[name] = reason.strip()
    width = max(len(m) for m in counts) if counts else 10
    total: Counter[str] = Counter()
    print(f"{'module':<{width}}  mutants  checked  killed  survived  score")
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        print(_row(module, c, width))
    print(_row("all", total, width))
    unexplained = [name for name in survivors if name not in explained]
    # Only a mutant that ran and was killed makes its line stale: a run of some modules leaves the
    # others "not checked", which says nothing about them.
    stale = [name for name in explained if name in killed]
    print(f"survivors: {len(survivors)}, explained as equivalent: {len(survivors) - len(unexplained)}")
    for name in unexplained:
        print(f"  unexplained: {name}   (mutmut show {name})")
    for name in stale:
        print(f"  no longer a survivor (drop it from the list): {name}")
    return 1 if unexplained or stale else 0


def _row(name: str, c: Counter[str], width: int) -> str:
    checked = c["killed"] + c["survived"]
    score = f"{c['killed'] / checked:6.1%}" if checked else "     -"
    return f"{name:<{width}}  {sum(c.values()):>7}  {checked:>7}  {c['killed']:>6}  {c['survived']:>8}  {score}"


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
