"""The engine headless: list models, validate tasks, run, resume, show results.

Commands are registered by name in ``COMMANDS`` with their help text and two dotted
paths: the function adding their options and the one running them. Only the command
being run is imported, so ``--help``, ``--version`` and argument errors load nothing of
the engine. A new command is one more entry (and its module).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import __version__


@dataclass(frozen=True, slots=True)
class Command:
    """A command as the parser lists it; its modules are imported only when it is used."""

    help: str
    arguments: str  # "module:function" adding the command's options; cheap to import
    handler: str  # "module:function" running it; may import the engine

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _resolve(self.arguments)(parser)

    def run(self, args: argparse.Namespace) -> int:
        return int(_resolve(self.handler)(args))


_ARGS = "app.cli.arguments"
_COMMANDS = "app.cli.commands"
_TUNING = "app.cli.tuning"

COMMANDS: dict[str, Command] = {
    "models": Command("list the models of every host, and the simulated ones", f"{_ARGS}:models", "app.cli.model_list:cmd_models"),
    "tasks": Command("list or validate task suites", f"{_ARGS}:tasks", f"{_COMMANDS}:cmd_tasks"),
    "run": Command("run models through task suites (or resume a run)", f"{_ARGS}:run", f"{_COMMANDS}:cmd_run"),
    "runs": Command("list past runs", f"{_ARGS}:runs", f"{_COMMANDS}:cmd_runs"),
    "show": Command("print a run's results again", f"{_ARGS}:show", f"{_COMMANDS}:cmd_show"),
    "transcript": Command("print one attempt's transcript", f"{_ARGS}:transcript", f"{_COMMANDS}:cmd_transcript"),
    "report": Command("export runs as HTML, Markdown, CSV or JSON", f"{_ARGS}:report", f"{_COMMANDS}:cmd_report"),
    "delete": Command("delete a run and its attempts", f"{_ARGS}:delete", f"{_COMMANDS}:cmd_delete"),
    "sweep": Command(
        "vary one factor at a time against a baseline, N ≥ 3 per cell", f"{_ARGS}:sweep", f"{_TUNING}:cmd_sweep"
    ),
    "ceiling": Command(
        "sweep turn and token budgets on what failed in RUN: turn, token or capability ceiling",
        f"{_ARGS}:ceiling",
        f"{_TUNING}:cmd_ceiling",
    ),
    "tune": Command(
        "read sweeps, ceilings and raw-vs-harness deltas back from runs", f"{_ARGS}:tune", f"{_TUNING}:cmd_tune"
    ),
    "doctor": Command(
        "check this machine: the Python that runs checks, pytest, sandbox, database, keyring, hosts",
        "app.cli.doctor:arguments",
        "app.cli.doctor:cmd_doctor",
    ),
    "import": Command(
        "import a published benchmark as a suite", "app.cli.importing:arguments", "app.cli.importing:cmd_import"
    ),
}


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the commands named in ``argv`` get their options (and are imported)."""
    parser = argparse.ArgumentParser(
        prog="agentgap",
        description="Which of your local models can actually work as an agent?",
    )
    parser.add_argument("--version", action="version", version=f"AgentGap {__version__}")
    parser.add_argument("--db", type=Path, help="database file (default: user data folder; env AGENTGAP_DB)")
    parser.add_argument(
        "--tasks-dir", type=Path, action="append", default=[], help="extra suite folder(s) to load"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = set(argv)
    for name, command in COMMANDS.items():
        command_parser = sub.add_parser(name, help=command.help, description=command.help)
        if name in named:
            command.add_arguments(command_parser)
    return parser


def run_cli(argv: list[str]) -> int:
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from app.cli.errors import UserError

    try:
        return COMMANDS[args.command].run(args)
    except UserError as error:
        print(f"agentgap: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        failure = _known_failure(error)
        if failure is None:
            raise
        message, code = failure
        print(f"agentgap: {message}", file=sys.stderr)
        return code


def _known_failure(error: Exception) -> tuple[str, int] | None:
    """A failure a user can act on, as one line and an exit code; None for a bug.

    Each kind is looked up only if its module was loaded: an error of a class can only be
    raised once its module is imported, and this keeps start-up free of those imports.
    """
    jail = sys.modules.get("app.core.tasks.jail")
    if jail is not None and isinstance(error, jail.JailRefused):
        return str(error), 2
    writer = sys.modules.get("app.core.store.writer")
    if writer is not None and isinstance(error, writer.StoreWriteFailed):
        return str(error), 1
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_errors is not None and isinstance(error, sqlalchemy_errors.OperationalError):
        # a full disk, a read-only folder: one line, not a traceback
        reason = str(error.orig) if error.orig is not None else type(error).__name__
        return f"the database could not be written or read: {reason}", 1
    return None
