"""The distribution: its name, the install hints, and the wheel a packager takes.

`ergo` on PyPI is another project, so no text may tell anyone to install `ergo[...]`;
each hint must work for the way this ergo was installed. The wheel is built here
from a copy of the tree (setup.py generating the man page and completions from the
parser) and read back; `.ci/run` also builds with isolation, runs `twine check`,
installs the wheel with pipx into a clean HOME and runs it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import ergo
from ergo.cli import build_parser
from ergo.cli import completion_script as script
from ergo.commands.completion import SYSTEM_PATHS
from ergo.distribution import DIST_NAME, InstallWay, extra_hint, generic_hint, install_way
from tests.helpers import cannot_run

REPO = Path(__file__).resolve().parent.parent
linux = pytest.mark.skipif(sys.platform != "linux", reason="Linux's PATH, XDG autostart and man-db")

# Any hint that would fetch PyPI's `ergo` (or act on a pipx venv named ergo): `ergo[tray]`,
# `pip install ergo`, `pipx install 'ergo'`, `pipx inject ergo ...`, `pipx uninstall ergo`.
WRONG_HINT = re.compile(
    r"(?<![\w./-])ergo\[[\w,]*\]"
    r"|\bpipx?3?\s+install\s+(?:-\S+\s+)*['\"]?ergo(?![\w.-])"
    r"|\bpipx\s+(?:inject|uninstall|upgrade|reinstall|runpip)\s+['\"]?ergo(?![\w.-])"
)


def hint_sources() -> list[Path]:
    files = [REPO / "README.md", REPO / "CHANGELOG.md"]
    for folder in ("ergo", "config", "docs"):
        files += [p for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix not in (".png", ".pyc", ".mo")]
    return files


def test_the_pattern_catches_every_wrong_hint_and_passes_the_right_ones() -> None:
    for wrong in ("pipx install 'ergo[tray]'", "pip install ergo[tray]", "pip install ergo", "pipx install ergo",
                  "pip install --user 'ergo'", "pipx inject ergo python-xlib", "pipx uninstall ergo"):
        assert WRONG_HINT.search(wrong), wrong
    for right in ("pipx install '.[tray]'", "pip install 'ergo-reminders[tray]'", "pipx inject ergo-reminders python-xlib",
                  "pipx uninstall ergo-reminders", "pip install .", "python -m ergo tray", "ergo tray --backend xembed"):
        assert not WRONG_HINT.search(right), right


def test_no_source_tells_anyone_to_install_the_other_ergo() -> None:
    found = []
    for path in hint_sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if WRONG_HINT.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_distribution_name_is_one_place() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DIST_NAME == "ergo-reminders"
    assert "version" not in project and project["dynamic"] == ["version"]  # ergo/__init__.py holds it


# --- the hint for each way of installing --------------------------------------------------------


def dist_info(site: Path, installer: str | None) -> Path:
    info = site / f"ergo_reminders-{ergo.__version__}.dist-info"
    info.mkdir(parents=True)
    if installer is not None:
        (info / "INSTALLER").write_text(installer + "\n", encoding="utf-8")
    return info


def test_pipx_hint_injects_into_the_venv_pipx_knows(tmp_path: Path) -> None:
    venv = tmp_path / "pipx" / "venvs" / "ergo-reminders"
    venv.mkdir(parents=True)
    (venv / "pipx_metadata.json").write_text("{}", encoding="utf-8")
    way = install_way(python=str(venv / "bin/python"), prefix=str(venv), path=[])
    assert way == InstallWay("pipx", str(venv / "bin/python"), pipx_venv="ergo-reminders")
    assert extra_hint("tray", way) == "pipx inject ergo-reminders python-xlib"
    # Installed by its old name (`pipx install .` before the rename): the hint uses the name pipx has.
    old = tmp_path / "pipx" / "venvs" / "ergo"
    old.mkdir()
    (old / "pipx_metadata.json").write_text("{}", encoding="utf-8")
    assert extra_hint("tray", install_way(prefix=str(old), path=[])) == "pipx inject ergo python-xlib"


def test_pip_uv_checkout_and_distro_hints(tmp_path: Path) -> None:
    python = "/opt/my env/bin/python"
    site = tmp_path / "pip"
    dist_info(site, "pip")
    assert extra_hint("tray", install_way(python, str(tmp_path), [str(site)])) == \
        "'/opt/my env/bin/python' -m pip install 'ergo-reminders[tray]'"
    site = tmp_path / "uv"
    dist_info(site, "uv")
    assert extra_hint("tray", install_way(python, str(tmp_path), [str(site)])) == \
        "uv pip install --python '/opt/my env/bin/python' 'ergo-reminders[tray]'"
    site = tmp_path / "debian"
    dist_info(site, "debian")
    assert extra_hint("tray", install_way("/usr/bin/python3", str(tmp_path), [str(tmp_path / "missing"), str(site)])) == \
        "install python-xlib for /usr/bin/python3 with the tool that installed ergo (debian)"
    assert extra_hint("tray", install_way(python, str(tmp_path), [str(tmp_path / "empty")])) == \
        "from a checkout of ergo: pipx install '.[tray]' (or pip install '.[tray]')"
    assert generic_hint("tray") == "pipx inject ergo-reminders python-xlib (pipx) or pip install 'ergo-reminders[tray]' (pip)"


def test_hints_quote_like_shlex() -> None:
    import shlex

    from ergo.distribution import _quote

    for word in ("/usr/bin/python3", "/opt/my env/bin/python", "it's", "", "C:\\Python\\python.exe", "ünï", "$HOME/x", "a;b"):
        assert _quote(word) == shlex.quote(word), word


def test_this_test_venv_is_a_pip_install_and_help_says_so() -> None:
    way = install_way()
    if way.kind != "pip":
        cannot_run(f"the test venv is not a pip install of {DIST_NAME} ({way}); install it with pip install -e '.[test]'")
    help_text = next(a.help for a in build_parser()._subparsers._group_actions[0]._choices_actions if a.dest == "tray")  # type: ignore[union-attr]
    assert f"{sys.executable} -m pip install 'ergo-reminders[tray]'" in help_text


@linux
def test_the_pip_hint_resolves_without_the_index(tmp_path: Path) -> None:
    """The printed pip command, run as printed (dry run, no index): pip finds ergo-reminders installed, so it needs
    no package index to have it, and adds only the extra's packages (here already present)."""
    way = install_way()
    if way.kind != "pip":
        cannot_run(f"the test venv is not a pip install of {DIST_NAME} ({way})")
    hint = extra_hint("tray", way)
    done = subprocess.run(["bash", "-c", f"{hint} --dry-run --no-index --disable-pip-version-check"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Would install" not in done.stdout, done.stdout  # python-xlib is in the test extra: nothing to add
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("ergo")
        return  # a venv that still has the pre-rename install: the old name would resolve here
    except PackageNotFoundError:
        pass
    wrong = subprocess.run(["bash", "-c", f"{hint.replace(DIST_NAME, 'ergo')} --dry-run --no-index --disable-pip-version-check"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert wrong.returncode != 0  # the old name is not installed: pip would have to fetch PyPI's `ergo`


@linux
def test_tray_without_xlib_prints_the_hint_for_this_install(tmp_path: Path) -> None:
    """A real `ergo tray --backend xembed` with python-xlib hidden prints one line naming the right command."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "Xlib").mkdir()
    (blocker / "Xlib" / "__init__.py").write_text("raise ImportError('hidden for this test')\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(blocker), "DISPLAY": ":9999"}
    result = subprocess.run([sys.executable, "-m", "ergo", "tray", "--backend", "xembed"], env=env, capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"ergo: tray 'xembed' is unavailable: python-xlib is missing; add the tray extra: {extra_hint('tray')}"]


@linux
def test_service_install_tray_notes_a_missing_xlib(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    (blocker / "Xlib").mkdir(parents=True)
    (blocker / "Xlib" / "__init__.py").write_text("raise ImportError\n", encoding="utf-8")
    for hidden, expected in ((True, True), (False, False)):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
        if hidden:
            env["PYTHONPATH"] = str(blocker)
        result = subprocess.run([sys.executable, "-m", "ergo", "service", "install", "--xdg", "--tray", "--dry-run"], env=env,
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        note = f"note: python-xlib is missing: the tray shows only in StatusNotifierItem panels; for an X11 system tray add it: {extra_hint('tray')}"
        assert (note in result.stdout.splitlines()) is expected, result.stdout


# --- the wheel ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built (no isolation: this venv has the build requirements) from a copy of the tree."""
    for module in ("build", "argparse_manpage", "shtab", "setuptools"):
        if subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode:
            cannot_run(f"{module} is missing from the test venv; pip install -e '.[test]'")
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "results", ".pytest_cache")
    shutil.copytree(REPO, tree, ignore=ignore)
    for stale in (tree / "ergo" / "locale").rglob("*.mo"):  # the build compiles them from the .po files itself
        stale.unlink()
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"), str(tree)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = (work / "dist").glob("*.whl")
    assert path.name == f"ergo_reminders-{ergo.__version__}-py3-none-any.whl"
    return zipfile.ZipFile(path)


def test_the_wheel_carries_the_data_files(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    data = f"ergo_reminders-{ergo.__version__}.data/data/"
    for expected in ("ergo/notify/ergo.svg", "ergo/tips/catalog.toml", "ergo/tips/sources.toml",
                     "ergo/plans/acute-back.toml", "ergo/plans/after-workout.toml",
                     "ergo/templates/ergo.toml", "ergo/templates/ergo.service", "ergo/templates/ergo-tray.service",
                     "ergo/templates/io.github.ergo.plist", "ergo/templates/ergo-startup.cmd",
                     data + "share/man/man1/ergo.1", *(data + p for p in SYSTEM_PATHS.values())):
        assert expected in names, expected
    # the translations, compiled by the build from ergo/locale/*/LC_MESSAGES/ergo.po (setup.py, Babel)
    import gettext
    import io

    languages = sorted(p.parent.parent.name for p in (REPO / "ergo" / "locale").glob("*/LC_MESSAGES/ergo.po"))
    assert "de" in languages
    for lang in languages:
        compiled = wheel.read(f"ergo/locale/{lang}/LC_MESSAGES/ergo.mo")
        assert gettext.GNUTranslations(io.BytesIO(compiled)).gettext("Breathe") != "Breathe", lang
    # only the .mo: a .po beside it, written by pip just after the .mo, would look newer and send every
    # non-English command to the cache (ergo.i18n._compiled_dir)
    assert not [n for n in names if n.endswith((".po", ".pot"))]
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    on_disk = {str(p.parent.relative_to(REPO)) for p in (REPO / "ergo").rglob("__init__.py")}
    assert on_disk <= packages  # every package found, wherever a move put it
    metadata = wheel.read(f"ergo_reminders-{ergo.__version__}.dist-info/METADATA").decode()
    assert f"Name: {DIST_NAME}\n" in metadata and f"Version: {ergo.__version__}\n" in metadata
    assert "Provides-Extra: tray" in metadata


def test_the_completions_in_the_wheel_are_the_commands_output(wheel: zipfile.ZipFile) -> None:
    data = f"ergo_reminders-{ergo.__version__}.data/data/"
    for shell, path in SYSTEM_PATHS.items():
        assert wheel.read(data + path).decode() == script(shell), shell


@linux
def test_the_man_page_is_the_parser(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """The man page, rendered by man(1), names every subcommand and option of the parser and the version."""
    if shutil.which("man") is None:
        cannot_run("man (Debian man-db) is missing")
    page = tmp_path / "ergo.1"
    page.write_bytes(wheel.read(f"ergo_reminders-{ergo.__version__}.data/data/share/man/man1/ergo.1"))
    shown = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "MANWIDTH": "200", "MAN_KEEP_FORMATTING": "", "LANG": "C.UTF-8"})
    assert shown.returncode == 0, shown.stderr
    text = re.sub(r".\x08", "", shown.stdout)
    assert shown.stderr == "", shown.stderr
    assert text.startswith("ERGO(1)") and f"{DIST_NAME} {ergo.__version__}" in text
    for section in ("SHELL COMPLETION", "FILES", "ENVIRONMENT", "EXIT STATUS"):  # man/ergo.1.include
        assert f"\n{section}\n" in text, section
    parser = build_parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
        assert f"ergo {name}" in text, name
        for action in sub._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert option in text, (name, option)
    assert generic_hint("tray") in " ".join(text.split()).replace("- ", "-")
