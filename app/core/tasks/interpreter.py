"""The Python that runs checks and the model's ``python``/``pytest`` commands.

Checks need nothing beyond what the user installed. From a ``pip install`` this is the
interpreter AgentGap itself runs on (pytest is one of its dependencies). In the
standalone app it is the app's own executable, which acts as Python when called like
one (``-m module``, ``-c code``, a script path) and bundles pytest, so a machine with no
Python on PATH can still judge every task.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

OVERRIDE_ENV = "AGENTGAP_CHECK_PYTHON"  # another interpreter for checks (it needs pytest)
SHOWN_NAME = "python"  # how the interpreter appears in anything a user reads or shares
PROBE_TIMEOUT_S = 60.0


def python_interpreter() -> str:
    """The program that runs ``python`` and ``pytest`` commands and every check."""
    return os.environ.get(OVERRIDE_ENV) or sys.executable


def is_frozen() -> bool:
    """True in the standalone app, where the executable itself acts as Python."""
    return bool(getattr(sys, "frozen", False))


def interpreter_environment() -> dict[str, str]:
    """Variables a command needs so the interpreter behaves as Python (the frozen app's marker)."""
    return {"AGENTGAP_AS_PYTHON": "1"} if is_frozen() else {}


def pytest_argv() -> list[str]:
    """How to start pytest here: the interpreter with ``-m pytest``."""
    return [python_interpreter(), "-m", "pytest"]


@dataclass(frozen=True, slots=True)
class InterpreterProbe:
    """What running the check interpreter showed: its version and pytest's, or why not."""

    interpreter: str
    frozen: bool
    python_version: str | None
    pytest_version: str | None
    problem: str | None = None

    @property
    def can_run_checks(self) -> bool:
        return self.pytest_version is not None


_PROBE = "import sys, pytest; print(sys.version.split()[0], pytest.__version__)"


def probe_interpreter(timeout_s: float = PROBE_TIMEOUT_S) -> InterpreterProbe:
    """Start the check interpreter as a check would and import pytest in it."""
    interpreter = python_interpreter()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **interpreter_environment(),
    }
    if os.name == "nt" and "SYSTEMROOT" in os.environ:
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    try:
        done = subprocess.run(
            [interpreter, "-c", _PROBE],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return InterpreterProbe(interpreter, is_frozen(), None, None, f"cannot start it: {error}")
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 2:
        tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return InterpreterProbe(interpreter, is_frozen(), None, None, tail[:300])
    return InterpreterProbe(interpreter, is_frozen(), words[-2], words[-1])
