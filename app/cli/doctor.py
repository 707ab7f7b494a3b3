"""``agentgap doctor``: can this machine judge every suite, and what would stop it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

COMMANDS = ("doctor",)


def add_doctor_command(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check this machine: the Python that runs checks, pytest, sandbox, database, keyring, hosts",
    )
    doctor.add_argument("--json", action="store_true", help="print the facts as JSON on stdout")


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.cli.commands import _settings
    from app.core.doctor import diagnose
    from app.core.paths import default_database_path

    print("checking: running one reference attempt per built-in suite…", file=sys.stderr)
    report = diagnose(_settings(args), args.db or default_database_path())
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(report))
    return 0 if report.can_judge_every_suite else 1


def render(report: Any) -> str:
    """The report as aligned lines a user can read (and paste into a bug report)."""
    probe = report.interpreter
    kind = "this app itself (standalone build)" if probe.frozen else probe.interpreter
    if probe.can_run_checks:
        checks = f"Python {probe.python_version}: {kind}; pytest {probe.pytest_version} imports there"
    else:
        checks = f"{kind}: CANNOT run checks ({probe.problem})"
    lines = [
        f"AgentGap {report.app_version} on {report.platform}",
        f"checks run with  {checks}",
        f"sandbox          {report.isolation}",
        f"database folder  {report.data_folder}: {report.data_folder_detail}",
        f"keyring          {report.keyring_backend}: {report.keyring_detail}",
    ]
    if not report.hosts:
        lines.append("hosts            none configured")
    for index, host in enumerate(report.hosts):
        label = "hosts" if index == 0 else ""
        state = "reachable" if host.reachable else "NOT reachable"
        lines.append(f"{label:<17}{host.host} ({host.kind}): {state}, {host.detail}")
    for index, suite in enumerate(report.suites):
        label = "suites" if index == 0 else ""
        state = "can be judged" if suite.judged else "CANNOT be judged"
        lines.append(f"{label:<17}{suite.suite}: {state} ({suite.task_id}: {suite.detail})")
    verdict = (
        "this machine can judge every built-in suite"
        if report.can_judge_every_suite
        else "some suites cannot be judged here: their attempts would end as harness_error"
    )
    lines.append(f"verdict          {verdict}")
    return "\n".join(lines)
