"""Where the files of the repo's config/ folder are at run time.

A wheel ships config/ as the package `ergo.templates`; a source checkout or an
editable install reads config/ beside the package.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path


def templates() -> Traversable:
    """The folder holding ergo.toml and the service templates."""
    try:
        return resources.files("ergo.templates")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "config"


def read_template(name: str) -> str:
    """The text of one file from config/, e.g. "ergo.service"."""
    return templates().joinpath(name).read_text("utf-8")


def default_config_text() -> str:
    """The fully commented default file: config/ergo.toml, shipped in the package."""
    return read_template("ergo.toml")
