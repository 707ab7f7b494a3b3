"""Judging the model cannot forge: a scrubbed copy of the final workspace, pristine suite
files verified by hash, and probes whose verdict the app's own process computes.

A probe runs the model's code on inputs only, in a fresh jail, and prints the results as
JSON; the expected values stay in this process, which compares. So whatever the model's
code does where it runs (patch the test runner, rewrite files, print fake results), it
cannot pass without returning the right values.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.tasks.interpreter import python_interpreter
from app.core.tasks.loader import Task, task_hash
from app.core.tasks.sandbox import Sandbox, SandboxError, copy_regular_tree

PROBE_TIMEOUT_S = 30.0
PROBE_MARK = "AGENTGAP-PROBE-RESULT"
# Files that would change how Python or pytest runs the checker; never copied for judging.
CHECKER_SETTINGS = frozenset(
    {"conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", "tox.ini",
     "setup.cfg", "pyproject.toml", ".pytest_cache", "__pycache__"}
)


def ignored_for_judging(name: str) -> bool:
    """A file that must never take effect when the workspace is judged."""
    return name in CHECKER_SETTINGS or name.endswith((".pth", ".pyc"))


class TamperedSuite(Exception):
    """The suite's files on disk no longer match the hash they were loaded with."""


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(str(file.relative_to(folder)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def pristine_copy(task: Task, relative: str, target: Path) -> None:
    """Copy a suite folder of ``task`` to ``target``; ``TamperedSuite`` unless the task's
    files still hash to the value they were loaded with and the copy equals them."""
    if task_hash(task.spec, task.base_dir) != task.content_hash:
        raise TamperedSuite(f"the files of task {task.id} changed since it was loaded")
    source = task.resolve(relative)
    shutil.copytree(source, target, dirs_exist_ok=True)
    if folder_digest(target) != folder_digest(source):
        raise TamperedSuite(f"the copy of {relative!r} of task {task.id} differs from the suite")


@contextmanager
def judging_copy(workspace: Path) -> Iterator[Path]:
    """A copy of the final workspace (regular files only, checker settings left out) in a
    folder of its own, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="agentgap-judge-", dir=workspace.parent))
    try:
        copy_regular_tree(workspace, folder / "work", skip=ignored_for_judging)
        yield folder
    finally:
        Sandbox(folder).close()


# ---- probes -------------------------------------------------------------------------

_RUNNER = r'''
import builtins, importlib, json, sys
spec = json.load(open(sys.argv[1], encoding="utf-8"))
sys.path.insert(0, spec["path"])
sys.setrecursionlimit(10000)
out = []
def emit():
    sys.stdout.write("\n" + spec["mark"] + " " + json.dumps(out) + "\n")
    sys.stdout.flush()
namespace = {"__builtins__": builtins}
try:
    module = importlib.import_module(spec["module"])
    namespace.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    for name in spec["imports"]:
        importlib.import_module(name)
        namespace[name.split(".")[0]] = sys.modules[name.split(".")[0]]
except BaseException as error:
    out = [{"raised": type(error).__name__, "message": str(error)[:300], "at": "import"}]
    emit()
    raise SystemExit(0)
for expr in spec["cases"]:
    try:
        value = eval(expr, dict(namespace))
        try:
            out.append({"value": json.loads(json.dumps(value, allow_nan=False))})
        except (TypeError, ValueError, RecursionError):
            out.append({"unreadable": repr(value)[:300]})
    except BaseException as error:
        out.append({"raised": type(error).__name__, "message": str(error)[:300]})
emit()
'''


@dataclass(frozen=True, slots=True)
class ProbeCase:
    """One expression over the model's code, and what it must give (in this process only)."""

    expr: str
    expect: Any = None
    raises: str | None = None
    message_contains: str | None = None


def run_probe(
    code_folder: Path,
    module: str,
    cases: Sequence[ProbeCase],
    *,
    imports: Sequence[str] = (),
    tol: float = 1e-9,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> tuple[bool, str]:
    """Run ``cases`` against ``module`` of ``code_folder`` in a fresh jail; compare here."""
    harness = Path(tempfile.mkdtemp(prefix="agentgap-probe-", dir=code_folder.parent))
    try:
        box = Sandbox(code_folder, readable={harness: "/probe"})
        mark = f"{PROBE_MARK}-{secrets.token_hex(8)}"
        spec = {
            "path": box.inside(code_folder),
            "module": module,
            "imports": list(imports),
            "cases": [c.expr for c in cases],  # inputs only: expected values stay here
            "mark": mark,
        }
        (harness / "probe.json").write_text(json.dumps(spec), encoding="utf-8")
        (harness / "probe_runner.py").write_text(_RUNNER, encoding="utf-8")
        runner = box.inside(harness / "probe_runner.py")
        argv = [python_interpreter(), "-I", "-B", runner, box.inside(harness / "probe.json")]
        result = box.execute(argv, timeout_s)
    except SandboxError as error:
        return False, f"the probe could not run: {error}"
    finally:
        shutil.rmtree(harness, ignore_errors=True)
    if result.timed_out:
        return False, "the probe timed out"
    outputs = _outputs(result.output, mark)
    if outputs is None:
        return False, f"the code gave no results (exit code {result.exit_code})"
    if len(outputs) == 1 and outputs[0].get("at") == "import":
        return False, f"importing {module} failed: {outputs[0].get('raised')}"
    if len(outputs) != len(cases):
        return False, "the code gave no results for every case"
    wrong = [
        f"{case.expr}: {_shown(got)}"
        for case, got in zip(cases, outputs, strict=True)
        if not _case_passed(case, got, tol)
    ]
    if wrong:
        return False, f"{len(wrong)} of {len(cases)} cases wrong; first: {wrong[0][:200]}"
    return True, f"{len(cases)} of {len(cases)} cases right"


def _outputs(text: str, mark: str) -> list[dict[str, Any]] | None:
    for line in reversed(text.splitlines()):
        if line.startswith(mark + " "):
            try:
                value = json.loads(line[len(mark) + 1 :])
            except ValueError:
                return None
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                return value
            return None
    return None


def _shown(got: dict[str, Any]) -> str:
    if "raised" in got:
        return f"raised {got['raised']}"
    if "unreadable" in got:
        return f"gave {got['unreadable']}"
    return f"gave {json.dumps(got.get('value'))[:120]}"


def _case_passed(case: ProbeCase, got: dict[str, Any], tol: float) -> bool:
    if case.raises is not None:
        message = str(got.get("message", ""))
        return got.get("raised") == case.raises and (
            case.message_contains is None or case.message_contains in message
        )
    return "value" in got and same_value(case.expect, got["value"], tol)


def same_value(expected: Any, got: Any, tol: float = 1e-9) -> bool:
    """JSON values equal; numbers within ``tol``; a bool is never a number."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if isinstance(expected, float) or isinstance(got, float):
            return math.isclose(expected, got, rel_tol=tol, abs_tol=tol)
        return expected == got
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            same_value(e, g, tol) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(
            same_value(expected[k], got[k], tol) for k in expected
        )
    return type(expected) is type(got) and bool(expected == got)
