"""``--help``, ``--version`` and argument errors answer without loading the engine: a
heavy module that sneaks back into those paths fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, build_parser
from app.cli.arguments import TOOL_MODES
from app.core.outcomes import ToolMode

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("app.core.engine", "app.core.store", "app.core.events", "app.ui", "PySide6", "sqlalchemy", "alembic",
         "pydantic", "jsonschema", "httpx", "ollama", "keyring")
PROBE = """
import atexit, runpy, sys
heavy = {heavy!r}
def report():
    found = sorted({{m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}})
    sys.__stderr__.write("LOADED=" + ",".join(found) + "\\n")
atexit.register(report)
sys.argv = ["agentgap", *sys.argv[1:]]
runpy.run_module("app", run_name="__main__")
"""


def loaded_modules(args: list[str], tmp_path: Path) -> tuple[int, list[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AGENTGAP_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("LOADED=")][-1]
    return result.returncode, [m for m in line[len("LOADED="):].split(",") if m], result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["--help"], 0),
        (["--version"], 0),
        (["--no-such-option"], 2),
        (["frobnicate"], 2),
        (["runs", "--no-such-option"], 2),
        (["run", "--help"], 0),
    ],
)
def test_help_version_and_argument_errors_load_nothing_heavy(args: list[str], status: int, tmp_path: Path) -> None:
    code, loaded, output = loaded_modules(args, tmp_path)
    assert code == status, output
    assert loaded == [], f"agentgap {' '.join(args)} imported {loaded}"


def test_an_unknown_command_is_an_error_listing_the_commands(tmp_path: Path) -> None:
    code, _, output = loaded_modules(["frobnicate"], tmp_path)
    assert code == 2
    assert all(name in output for name in COMMANDS)


def test_help_lists_every_registered_command_with_its_help() -> None:
    text = build_parser().format_help()
    for name, command in COMMANDS.items():
        assert name in text
        assert command.help[:30] in text


def test_every_command_resolves_its_options_and_handler() -> None:
    import importlib

    for name, command in COMMANDS.items():
        usage = build_parser([name])._subparsers._group_actions[0].choices[name].format_usage()  # type: ignore[union-attr]
        assert usage.startswith(f"usage: agentgap {name} [-h] ") or name == "delete", usage
        module, _, function = command.handler.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), name


def test_the_mode_choices_are_the_tool_modes() -> None:
    assert set(TOOL_MODES) == {mode.value for mode in ToolMode}
