"""CI's own scripts: shellcheck over .ci/run, .ci/lint and the workflow's `run:` blocks; apt waits for a
held lock; the docs name every package .ci/run can install. (actionlint over the workflow: bash .ci/lint.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.desktop import require_tools
from tests.helpers import REPO

CI_RUN = REPO / ".ci" / "run"
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
#: what actionlint leaves out when it runs shellcheck over `run:` blocks (GitHub's own variables and the like)
WORKFLOW_EXCLUDES = "SC1091,SC2194,SC2050,SC2154,SC2157"


def run_blocks(workflow: str) -> list[tuple[int, str]]:
    """Each `run:` script of a workflow with its line number; `${{ ... }}` becomes a plain word."""
    lines = workflow.splitlines()
    blocks = []
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)(?:- )?run:\s*(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2)
        if rest in ("|", "|-", ">", ">-"):
            body = []
            for following in lines[number + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
            script = "\n".join(body)
        else:
            script = rest
        blocks.append((number + 1, re.sub(r"\$\{\{[^}]*\}\}", "github_expression", script)))
    return blocks


def test_the_run_block_reader_finds_every_block() -> None:
    text = "steps:\n  - run: echo one\n  - name: x\n    run: |\n      echo two\n      echo ${{ matrix.os }}\n  - uses: y\n"
    assert run_blocks(text) == [(2, "echo one"), (4, "      echo two\n      echo github_expression")]


@pytest.mark.parametrize("script", [".ci/run", ".ci/lint", ".ci/wheel-smoke"])
def test_ci_scripts_pass_shellcheck(script: str) -> None:
    require_tools("shellcheck")
    done = subprocess.run(["shellcheck", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflows_run_blocks_pass_shellcheck(tmp_path: Path) -> None:
    require_tools("shellcheck")
    blocks = run_blocks(WORKFLOW.read_text())
    assert len(blocks) >= 5
    found = []
    for line, script in blocks:
        path = tmp_path / f"ci.yml-line-{line}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script + "\n")
        done = subprocess.run(["shellcheck", "-e", WORKFLOW_EXCLUDES, str(path)], capture_output=True, text=True)
        if done.returncode:
            found.append(done.stdout)
    assert not found, "\n".join(found)


def test_shellcheck_here_catches_a_planted_mistake(tmp_path: Path) -> None:
    require_tools("shellcheck")
    (tmp_path / "bad.sh").write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    assert subprocess.run(["shellcheck", str(tmp_path / "bad.sh")], capture_output=True).returncode != 0


def test_every_apt_call_waits_for_a_held_lock() -> None:
    """Only apt_get() calls apt-get, with DPkg::Lock::Timeout; `update` ignores that option for the lists'
    lock, so apt_get() also tries again while apt says it could not get a lock."""
    text = CI_RUN.read_text()
    calls = [line.strip() for line in text.splitlines() if re.search(r"\bapt-get\b", line) and not line.lstrip().startswith("#")]
    assert calls == ['if out=$($SUDO apt-get -o DPkg::Lock::Timeout=600 "$@" 2>&1); then return 0; fi'], calls
    assert 'if [[ $out == *"Could not get lock"* ]]' in text
    assert re.search(r"^\s*apt_get update", text, re.M) and re.search(r"^\s*apt_get install", text, re.M)


def packages_ci_installs(text: str) -> set[str]:
    mapped = set(re.findall(r"\[[^\]]+\]=([a-z0-9][a-z0-9.+-]*)", text))
    direct = set(re.findall(r"missing\+=\(([a-z0-9][a-z0-9.+-]*)\)", text))
    return mapped | direct


def test_the_docs_name_every_package_ci_installs() -> None:
    packages = packages_ci_installs(CI_RUN.read_text())
    assert {"dbus", "waybar", "shellcheck", "python3-venv", "libxss1"} <= packages, packages
    docs = (REPO / "docs" / "development.md").read_text()
    tests_paragraph = docs[docs.index("- **Tests:**"):docs.index("\n- **", docs.index("- **Tests:**") + 1)]
    named = set(re.findall(r"`([a-z0-9][a-z0-9.+-]*)`", tests_paragraph))
    assert packages <= named, f"docs/development.md does not name {sorted(packages - named)}"


#: The only places a test may call pytest.skip itself: the two helpers that fail instead under
#: ERGO_REQUIRE_DESKTOP=1, and platform skips (which that promise leaves alone).
SKIP_ALLOWED = {
    "desktop.py": "require_tools(): fails under ERGO_REQUIRE_DESKTOP=1",
    "helpers.py": "cannot_run(): fails under ERGO_REQUIRE_DESKTOP=1",
    "test_macos.py": "a platform skip (this is a Mac)",
    "test_uninstall.py": "fails under ERGO_REQUIRE_DESKTOP=1 first (systemctl missing)",
}


def test_no_test_skips_where_require_desktop_promises_a_failure() -> None:
    """A 'cannot run here' skip goes through cannot_run() or require_tools(), so CI fails instead."""
    offenders = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"pytest\.(skip\(|importorskip\()", line) and path.name not in SKIP_ALLOWED:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "use tests.helpers.cannot_run instead:\n" + "\n".join(offenders)
