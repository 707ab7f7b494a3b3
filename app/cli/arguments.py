"""The options of each command, added only for the command being parsed.

Importing this module costs nothing but ``argparse``: a command's options that need
engine facts (tuning factors, budget scales) import them inside its own function.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TOOL_MODES = ("native", "recovery", "prompted")  # the ToolMode values; a test keeps them equal


def models(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", action="append", default=[], help="extra Ollama host URL")
    p.add_argument("--openai", action="append", default=[], help="extra OpenAI-compatible base URL (…/v1)")
    p.add_argument("--no-sim", action="store_true", help="leave out the simulated demo models")
    p.add_argument("--json", action="store_true")


def tasks(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list loaded tasks")
    listing.add_argument("--suite")
    listing.add_argument("--tier")
    listing.add_argument("--json", action="store_true")
    validate = actions.add_parser("validate", help="check suite folders or task files (format: docs/tasks.md)")
    validate.add_argument("paths", nargs="+", type=Path)
    actions.add_parser("schema", help="print the JSON Schema of a task file")


def run(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", "-m", action="append", default=[],
        help="sim:NAME, MODEL, HOST:PORT/MODEL, URL/v1/MODEL, anthropic:MODEL or openai-cloud:MODEL",
    )
    p.add_argument("--suite", "-s", action="append", default=[])
    p.add_argument("--tier", "-t", action="append", default=[])
    p.add_argument("--task", action="append", default=[], help="task id (repeatable)")
    p.add_argument("-n", "--repeats", type=int, default=None, help="runs per task (default 3)")
    add_settings_options(p)
    p.add_argument("--concurrency", type=int, help="parallel attempts per host")
    p.add_argument(
        "--co-resident",
        action="store_true",
        help="keep two models loaded on each host and alternate their attempts "
        "(Ollama needs OLLAMA_MAX_LOADED_MODELS of 2 or more)",
    )
    p.add_argument("--pace", type=float, help="simulated models' speed: 1 realistic, 0 instant")
    p.add_argument("--host", action="append", default=[], help="extra Ollama host URL")
    p.add_argument("--openai", action="append", default=[], help="extra OpenAI-compatible base URL")
    p.add_argument("--name", default="")
    p.add_argument("--resume", metavar="RUN", help="finish an interrupted run")
    add_accept_cloud_option(p)
    p.add_argument("--json", action="store_true", help="print results as JSON on stdout")


def runs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")


def show(p: argparse.ArgumentParser) -> None:
    p.add_argument("run")
    p.add_argument("--json", action="store_true")


def transcript(p: argparse.ArgumentParser) -> None:
    p.add_argument("attempt")
    p.add_argument("--json", action="store_true")


def report(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--format", "-f", choices=("html", "md", "csv", "json"), default="html")
    p.add_argument("-o", "--output", type=Path, required=True, help="file to write")


def delete(p: argparse.ArgumentParser) -> None:
    p.add_argument("run")


def sweep(p: argparse.ArgumentParser) -> None:
    from app.core.tuning.factors import Factor
    from app.core.tuning.sweep import MIN_REPEATS

    p.description = "Factors: " + ", ".join(f"{f.value} ({f.hint})" for f in Factor) + "."
    p.add_argument("--model", "-m", required=True, help="the model to tune")
    p.add_argument("--suite", "-s", action="append", default=[])
    p.add_argument("--tier", "-t", action="append", default=[])
    p.add_argument("--task", action="append", default=[], help="task id (repeatable)")
    p.add_argument(
        "--vary", action="append", default=[], metavar="FACTOR=V1,V2", help="a factor and the values to try"
    )
    p.add_argument("-n", "--repeats", type=int, default=MIN_REPEATS, help=f"runs per cell (at least {MIN_REPEATS})")
    p.add_argument("--name", default="")
    p.add_argument("--dry-run", action="store_true", help="print the cells and the attempt count, run nothing")
    p.add_argument("--pace", type=float, help="simulated models' speed: 1 realistic, 0 instant")
    p.add_argument("--json", action="store_true")
    add_accept_cloud_option(p)
    add_settings_options(p)


def ceiling(p: argparse.ArgumentParser) -> None:
    from app.core.tuning.ceilings import DEFAULT_SCALES
    from app.core.tuning.sweep import MIN_REPEATS

    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--scales", default=",".join(f"{s:g}" for s in DEFAULT_SCALES), help="budget multiples")
    p.add_argument("-n", "--repeats", type=int, default=MIN_REPEATS)
    p.add_argument("--model", "-m", action="append", default=[], help="only this model (label)")
    p.add_argument("--pace", type=float)
    p.add_argument("--json", action="store_true")


def tune(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument(
        "--queue-winners", action="store_true", help="then run the all-winners combination of each sweep"
    )
    p.add_argument("--pace", type=float)
    p.add_argument("--json", action="store_true")



def add_accept_cloud_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-cloud",
        action="store_true",
        help="agree to the cloud notice (what anthropic:/openai-cloud: models are sent, and that they are billed); remembered",
    )


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """How attempts run: the options of ``run``, and the baseline of a sweep."""
    parser.add_argument("--mode", choices=TOOL_MODES, default=None, help="tool-calling mode")
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
