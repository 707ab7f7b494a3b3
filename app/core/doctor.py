"""Can this machine judge every suite? The facts behind ``agentgap doctor`` and About.

Each built-in suite is tried for real: one of its tasks is run with the simulated model
that replays the reference solution, so its checks execute exactly as in a run. A suite
whose reference does not pass here cannot be judged on this machine.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app import __version__
from app.core.tasks.interpreter import InterpreterProbe, probe_interpreter

_WORKSPACE_CHECKS = ("command", "code_answer")


@dataclass(frozen=True, slots=True)
class HostReach:
    kind: str
    host: str
    reachable: bool
    detail: str


@dataclass(frozen=True, slots=True)
class SuiteJudging:
    suite: str
    task_id: str
    judged: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DoctorReport:
    app_version: str
    platform: str
    interpreter: InterpreterProbe
    isolation: str
    data_folder: str
    data_folder_writable: bool
    data_folder_detail: str
    keyring_backend: str
    keyring_available: bool
    keyring_detail: str
    hosts: tuple[HostReach, ...]
    suites: tuple[SuiteJudging, ...]

    @property
    def can_judge_every_suite(self) -> bool:
        return bool(self.suites) and all(s.judged for s in self.suites)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["interpreter"]["can_run_checks"] = self.interpreter.can_run_checks
        data["can_judge_every_suite"] = self.can_judge_every_suite
        return data


def isolation_level() -> str:
    """How the sandbox confines commands and checks on this machine."""
    found = shutil.which("bwrap") if sys.platform.startswith("linux") else None
    level = "process isolation only (allowlist, scrubbed environment, resource limits)"
    return f"{level}; bubblewrap is installed at {found}" if found else level


def data_folder_status(database: Path) -> tuple[bool, str]:
    """Whether the database's folder exists (or can be made) and takes a new file."""
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".agentgap-doctor-"):
            pass
    except OSError as error:
        return False, f"not writable: {error.strerror or error}"
    return True, "writable"


def host_reachability(settings: Any) -> tuple[HostReach, ...]:
    """Each configured local host, probed as the Models page does (cloud ones are not contacted)."""
    from app.core.discovery import discover_all
    from app.core.providers.registry import ProviderPool

    pool = ProviderPool()
    try:
        statuses = discover_all(settings, pool, include_simulated=False, include_cloud=False)
    finally:
        pool.close()
    found = []
    for status in statuses:
        if status.reachable:
            version = f"version {status.version}, " if status.version else ""
            detail = f"{version}{len(status.models)} model(s)"
        else:
            detail = status.error or "not reachable"
        found.append(HostReach(status.provider.value, status.host, status.reachable, detail))
    return tuple(found)


def judge_builtin_suites(tasks_dir: Path) -> tuple[SuiteJudging, ...]:
    """Run one task of each built-in suite with its reference solution; it must pass."""
    from app.core.agent.attempt import run_attempt
    from app.core.cancel import CancelToken
    from app.core.modelref import ModelRef
    from app.core.outcomes import Outcome
    from app.core.providers.base import ProviderKind
    from app.core.providers.simulated import SIM_HOST, SimulatedProvider
    from app.core.runner import plan_run
    from app.core.tasks.loader import load_catalog

    catalog = load_catalog([tasks_dir])
    reference = ModelRef(ProviderKind.SIMULATED, SIM_HOST, "reference")
    provider = SimulatedProvider()
    results = []
    with tempfile.TemporaryDirectory(prefix="agentgap-doctor-") as scratch:
        for name, suite in sorted(catalog.suites.items()):
            if not suite.tasks:
                continue
            executing = [t for t in suite.tasks if any(c.type in _WORKSPACE_CHECKS for c in t.spec.checks)]
            task = (executing or list(suite.tasks))[0]
            plan = plan_run([reference], [task], repeats=1)
            finished = run_attempt(
                plan.attempts[0], task, provider, lambda event: None, CancelToken(),
                infra_retries=0, scratch_root=Path(scratch),
            )
            judged = finished.outcome is Outcome.PASSED
            detail = "its reference solution passed" if judged else f"{finished.outcome.value}: {finished.detail}"
            results.append(SuiteJudging(name, task.id, judged, detail))
    return tuple(results)


def diagnose(
    settings: Any, database: Path, tasks_dir: Path | None = None, *, judge_suites: bool = True
) -> DoctorReport:
    """Every fact at once (a few seconds: it runs one reference attempt per suite, unless
    ``judge_suites`` is off, as on the About dialog)."""
    from app.core.paths import builtin_tasks_dir
    from app.core.secrets import keyring_status

    interpreter = probe_interpreter()
    writable, folder_detail = data_folder_status(database)
    keyring = keyring_status()
    suites = judge_builtin_suites(tasks_dir or builtin_tasks_dir()) if judge_suites else ()
    return DoctorReport(
        app_version=__version__,
        platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
        interpreter=interpreter,
        isolation=isolation_level(),
        data_folder=str(database.parent),
        data_folder_writable=writable,
        data_folder_detail=folder_detail,
        keyring_backend=keyring.backend,
        keyring_available=keyring.available,
        keyring_detail=keyring.message,
        hosts=host_reachability(settings),
        suites=suites,
    )


def home_relative(path: str) -> str:
    """``path`` with the home folder written as ``~`` (for reports a user may paste)."""
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home != "~" and path.startswith(home + os.sep) else path
