"""Where bundled resources and user data live, from the source tree or a frozen build."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "AgentGap"


def bundle_root() -> Path:
    """The folder holding ``tasks/`` and ``resources/``: the frozen bundle, the source tree
    (a checkout or an editable install), or the copy a ``pip install`` put in the package."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    source = Path(__file__).resolve().parents[2]
    installed = Path(__file__).resolve().parents[1] / "_bundled"
    if not (source / "tasks").is_dir() and installed.is_dir():
        return installed
    return source


def resource_path(*parts: str) -> Path:
    return bundle_root().joinpath("resources", *parts)


def builtin_tasks_dir() -> Path:
    return bundle_root() / "tasks"


def user_data_dir() -> Path:
    override = os.environ.get("AGENTGAP_HOME")
    return Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)


def user_tasks_dir() -> Path:
    """Users drop suite folders of their own here."""
    return user_data_dir() / "tasks"


def default_database_path() -> Path:
    override = os.environ.get("AGENTGAP_DB")
    return Path(override) if override else user_data_dir() / "agentgap.db"


def settings_path() -> Path:
    override = os.environ.get("AGENTGAP_CONFIG")
    return Path(override) if override else user_data_dir() / "settings.json"


def log_path() -> Path:
    return user_data_dir() / "agentgap.log"
