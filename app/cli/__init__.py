"""The engine headless: list models, validate tasks, run, resume, show results."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app import __version__
from app.core.outcomes import ToolMode


def build_parser() -> argparse.ArgumentParser:
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

    models = sub.add_parser("models", help="list the models of every host, and the simulated ones")
    models.add_argument("--host", action="append", default=[], help="extra Ollama host URL")
    models.add_argument("--openai", action="append", default=[], help="extra OpenAI-compatible base URL (…/v1)")
    models.add_argument("--no-sim", action="store_true", help="leave out the simulated demo models")
    models.add_argument("--json", action="store_true")

    tasks = sub.add_parser("tasks", help="list or validate task suites")
    tasks_sub = tasks.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    tasks_list = tasks_sub.add_parser("list", help="list loaded tasks")
    tasks_list.add_argument("--suite")
    tasks_list.add_argument("--tier")
    tasks_list.add_argument("--json", action="store_true")
    validate = tasks_sub.add_parser(
        "validate", help="check suite folders or task files (format: docs/tasks.md)"
    )
    validate.add_argument("paths", nargs="+", type=Path)
    tasks_sub.add_parser("schema", help="print the JSON Schema of a task file")

    run = sub.add_parser("run", help="run models through task suites (or resume a run)")
    run.add_argument(
        "--model", "-m", action="append", default=[],
        help="sim:NAME, MODEL, HOST:PORT/MODEL, URL/v1/MODEL, anthropic:MODEL or openai-cloud:MODEL",
    )
    run.add_argument("--suite", "-s", action="append", default=[])
    run.add_argument("--tier", "-t", action="append", default=[])
    run.add_argument("--task", action="append", default=[], help="task id (repeatable)")
    run.add_argument("-n", "--repeats", type=int, default=None, help="runs per task (default 3)")
    add_settings_options(run)
    run.add_argument("--concurrency", type=int, help="parallel attempts per host")
    run.add_argument(
        "--co-resident",
        action="store_true",
        help="keep two models loaded on each host and alternate their attempts "
        "(Ollama needs OLLAMA_MAX_LOADED_MODELS of 2 or more)",
    )
    run.add_argument("--pace", type=float, help="simulated models' speed: 1 realistic, 0 instant")
    run.add_argument("--host", action="append", default=[], help="extra Ollama host URL")
    run.add_argument("--openai", action="append", default=[], help="extra OpenAI-compatible base URL")
    run.add_argument("--name", default="")
    run.add_argument("--resume", metavar="RUN", help="finish an interrupted run")
    add_accept_cloud_option(run)
    run.add_argument("--json", action="store_true", help="print results as JSON on stdout")

    runs = sub.add_parser("runs", help="list past runs")
    runs.add_argument("--limit", type=int, default=50)
    runs.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="print a run's results again")
    show.add_argument("run")
    show.add_argument("--json", action="store_true")

    transcript = sub.add_parser("transcript", help="print one attempt's transcript")
    transcript.add_argument("attempt")
    transcript.add_argument("--json", action="store_true")

    report = sub.add_parser("report", help="export runs as HTML, Markdown, CSV or JSON")
    report.add_argument("runs", nargs="+", metavar="RUN")
    report.add_argument("--format", "-f", choices=("html", "md", "csv", "json"), default="html")
    report.add_argument("-o", "--output", type=Path, required=True, help="file to write")

    delete = sub.add_parser("delete", help="delete a run and its attempts")
    delete.add_argument("run")

    from app.cli.doctor import add_doctor_command
    from app.cli.tuning import add_tuning_commands

    add_tuning_commands(sub)
    add_doctor_command(sub)
    from app.cli.importing import add_import_command

    add_import_command(sub)
    return parser


def add_accept_cloud_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-cloud",
        action="store_true",
        help="agree to the cloud notice (what anthropic:/openai-cloud: models are sent, and that they are billed); remembered",
    )


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """How attempts run: the options of ``run``, and the baseline of a sweep."""
    parser.add_argument("--mode", choices=[m.value for m in ToolMode], default=None, help="tool-calling mode")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--num-ctx", type=int)
    parser.add_argument("--seed", type=int)
    think = parser.add_mutually_exclusive_group()
    think.add_argument("--think", dest="think", action="store_true", default=None)
    think.add_argument("--no-think", dest="think", action="store_false")
    parser.add_argument("--max-turns", type=int)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--max-seconds", type=float)
    parser.add_argument("--directive", help="extra system-prompt text for every attempt")


def run_cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from app.cli import commands, doctor, importing, tuning

    module = tuning if args.command in tuning.COMMANDS else commands
    if args.command in doctor.COMMANDS:
        module = doctor
    if args.command in importing.COMMANDS:
        module = importing
    handler = getattr(module, f"cmd_{args.command}")
    try:
        return int(handler(args))
    except commands.UserError as error:
        print(f"agentgap: {error}", file=sys.stderr)
        return 2
