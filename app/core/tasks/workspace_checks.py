"""Checks that execute: files in the final workspace, hidden test commands, and code
extracted from a one-shot answer run against hidden tests.

Hidden test files (a ``command`` check's ``hidden`` folder) never enter the workspace:
the check runs them from a temporary copy, after the model has finished, and removes it.

Partial credit for one-shot answers: a check returns only passed or failed, so a one-shot
task that grades pass / partial / fail lists several ``code_answer`` checks, one per
aspect (e.g. "normal input", "quoted commas"), with weights, and sets ``partial_credit``;
the weighted score of the passed checks then reads as pass (all), partial (some) or fail
(none). Within one check every test must pass; its detail reports the counts.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from app.core.faults import HarnessFault
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.jail import JAIL_CHECK
from app.core.tasks.judging import (
    ProbeCase,
    TamperedSuite,
    judging_copy,
    pristine_copy,
    run_probe,
)
from app.core.tasks.loader import Task
from app.core.tasks.sandbox import CommandResult, Sandbox, SandboxError
from app.core.tasks.schema import CodeAnswerCheck, CommandCheck, FileCheck, ProbeCheck

CODE_ANSWER_TIMEOUT_S = 30.0
_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_IMPORTED = re.compile(r"^\s*from\s+answer\s+import\s+(\([^)]*\)|[^\n#]+)", re.MULTILINE)
_LANGUAGE_TAGS = {
    "python": {"python", "py", "python3"},
    "shell": {"bash", "sh", "shell", "console", "zsh", "shell-session"},
    "text": {"text", "txt", "plain", "regex", "csv"},
}
_ANSWER_FILE = {"python": "answer.py", "shell": "answer.sh", "text": "answer.txt"}
PYTEST_USAGE_ERROR = 4
HIDDEN_INI = "agentgap-check.ini"  # pytest's configuration for a hidden check, ours alone


def file_check(check: FileCheck, env: TaskEnvironment) -> tuple[bool, str]:
    """The file exists (or not) and its text contains / lacks / matches what is given."""
    sandbox = _sandbox(env)
    try:
        path = sandbox.resolve(check.path)
    except SandboxError as error:
        return False, str(error)
    if not path.is_file():
        if check.exists:
            return False, f"{check.path} is missing"
        return True, f"{check.path} is absent, as required"
    if not check.exists:
        return False, f"{check.path} should not exist"
    text = path.read_text(encoding="utf-8", errors="replace")
    missing = [c for c in check.contains if c not in text]
    if missing:
        return False, f"{check.path} lacks {missing}"
    present = [c for c in check.not_contains if c in text]
    if present:
        return False, f"{check.path} still contains {present}"
    if check.regex and re.search(check.regex, text, flags=re.MULTILINE) is None:
        return False, f"{check.path} does not match /{check.regex}/"
    return True, f"{check.path} as required"


def command_check(check: CommandCheck, env: TaskEnvironment) -> tuple[bool, str]:
    """Run the command; exit code 0 passes. With hidden files it runs beside them, on a
    copy of the final workspace (see ``run_hidden``)."""
    sandbox = _sandbox(env)
    if check.hidden:
        return run_hidden(check, env.task, sandbox)
    with judging_copy(sandbox.root) as folder:
        result = Sandbox(folder / "work").run(list(check.argv), timeout_s=check.timeout_s)
    return result.exit_code == 0 and not result.timed_out, summary(result)


def run_hidden(check: CommandCheck, task: Task, workspace: Sandbox) -> tuple[bool, str]:
    """Run a check on its hidden files, kept out of the workspace so that the model never
    sees them and nothing is left behind.

    It runs in a fresh jail, after the attempt's processes are gone, on a copy of the final
    workspace without the files that change how a checker runs (``conftest.py``,
    ``sitecustomize.py``, ``*.pth``, ``pytest.ini``, ``tox.ini``, ``setup.cfg``,
    ``pyproject.toml``, caches), beside a copy of the hidden files verified against the
    task's hash. For pytest the workspace copy is only on the import path: pytest gets its
    own ini file and root folder and loads no conftest files.
    """
    assert check.hidden is not None
    with judging_copy(workspace.root) as folder:
        hidden = folder / "check"
        try:
            pristine_copy(task, check.hidden, hidden)
        except TamperedSuite as error:
            raise SandboxError(str(error)) from None
        box = Sandbox(folder / "work", readable={hidden: JAIL_CHECK}, cwd=hidden)
        argv = list(check.argv)
        at = _pytest_position(argv)
        if at is not None:
            ini = hidden / HIDDEN_INI
            ini.write_text(f"[pytest]\npythonpath = {shlex.quote(box.inside(box.root))}\n", "utf-8")
            argv[at + 1 : at + 1] = ["-c", HIDDEN_INI, "--rootdir", ".", "--noconftest"]
        result = box.run(argv, timeout_s=check.timeout_s)
        if at is not None and _pytest_may_have_failed_to_start(result):
            empty = folder / "empty"
            empty.mkdir()
            control = Sandbox(empty, readable={hidden: JAIL_CHECK}, cwd=hidden)
            require_working_pytest(result, control.run(argv, timeout_s=check.timeout_s))
    passed = result.exit_code == 0 and not result.timed_out
    if passed and at is not None and not _pytest_counts(result).get("passed"):
        return False, f"pytest reported no passed tests ({summary(result)})"
    return passed, summary(result)


def probe_check(check: ProbeCheck, answer: str, env: TaskEnvironment) -> tuple[bool, str]:
    """Run the probe's expressions over the final workspace (or the answer's code) in a
    fresh jail; the verdict is computed here from the printed results."""
    cases = [ProbeCase(c.expr, c.expect, c.raises, c.message_contains) for c in check.cases]
    if check.module is not None:
        with judging_copy(_sandbox(env).root) as folder:
            return run_probe(folder / "work", check.module, cases, imports=check.imports, tol=check.tol)
    code = extract_code(answer, "python", None)
    if not code.strip():
        return False, "the answer holds no code"
    problem = _syntax_problem(code)
    if problem:
        return False, f"the answer's code is not valid Python: {problem}"
    sandbox = Sandbox.create(None)
    try:
        (sandbox.root / "code").mkdir()
        (sandbox.root / "code" / "answer.py").write_text(code, encoding="utf-8")
        return run_probe(sandbox.root / "code", "answer", cases, imports=check.imports, tol=check.tol)
    finally:
        sandbox.close()


def _pytest_position(argv: list[str]) -> int | None:
    """Where ``pytest`` sits in ``argv`` (``pytest …`` or ``python -m pytest …``), if it does."""
    if argv and Path(argv[0]).name == "pytest":
        return 0
    if len(argv) >= 3 and Path(argv[0]).name.startswith("python") and argv[1:3] == ["-m", "pytest"]:
        return 2
    return None


def code_answer_check(
    check: CodeAnswerCheck, answer: str, env: TaskEnvironment
) -> tuple[bool, str]:
    """Run the check's tests against the code in the answer; every test must pass."""
    code = extract_code(answer, check.language, imported_names(check.test))
    if not code.strip():
        return False, "the answer holds no code"
    if check.language == "python":
        problem = _syntax_problem(code)
        if problem:
            return False, f"the answer's code is not valid Python: {problem}"
    sandbox = Sandbox.create(None)
    try:
        (sandbox.root / _ANSWER_FILE[check.language]).write_text(code, encoding="utf-8")
        (sandbox.root / "test_answer.py").write_text(check.test, encoding="utf-8")
        argv = ["pytest", "-q", "test_answer.py"]
        result = sandbox.run(argv, timeout_s=CODE_ANSWER_TIMEOUT_S)
        if _pytest_may_have_failed_to_start(result):
            (sandbox.root / _ANSWER_FILE[check.language]).write_text("", encoding="utf-8")
            require_working_pytest(result, sandbox.run(argv, timeout_s=CODE_ANSWER_TIMEOUT_S))
        return result.exit_code == 0 and not result.timed_out, summary(result)
    finally:
        sandbox.close()


def _pytest_may_have_failed_to_start(result: CommandResult) -> bool:
    """Whether the output looks as if pytest itself could not run: it was missing, or it
    refused its command line (usage error, exit code 4). The model's code can print or
    exit the same way, so this only says when to ask the control run."""
    lines = result.output.strip().splitlines()
    missing = result.exit_code != 0 and bool(lines) and lines[-1].endswith("No module named pytest")
    return missing or result.exit_code == PYTEST_USAGE_ERROR


def require_working_pytest(result: CommandResult, control: CommandResult) -> None:
    """Raise ``HarnessFault`` when pytest itself could not run the check.

    ``control`` is the same command with none of the model's code present. Only when it
    fails the same way is the fault ours; otherwise the model's code made pytest stop (a
    module that exits with status 4 at import, say) and the check simply failed.
    """
    if not _pytest_may_have_failed_to_start(control):
        return
    lines = control.output.strip().splitlines()
    if lines and lines[-1].endswith("No module named pytest"):
        raise HarnessFault(
            "pytest is not installed in the Python that runs checks "
            "(run `agentgap doctor`; reinstall AgentGap so that its dependencies are present)"
        )
    tail = (lines or [""])[-1][:200]
    raise HarnessFault(f"pytest refused the check's command line: {tail}")


def _syntax_problem(code: str) -> str | None:
    """Why ``code`` does not compile (checked here, saving a test run), or None."""
    try:
        compile(code, "answer.py", "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except (ValueError, RecursionError, MemoryError) as error:
        return type(error).__name__
    return None


def imported_names(test: str) -> list[str]:
    """Names a test imports from ``answer`` (what the answer's code must define)."""
    names: list[str] = []
    for group in _IMPORTED.findall(test):
        for part in group.strip("() \t").split(","):
            words = part.split()
            if words:
                names.append(words[0])  # "name as alias" defines name
    return [n for n in names if n.isidentifier()]


def extract_code(answer: str, language: str, names: list[str] | None = None) -> str:
    """The last block in ``language`` defining ``names``, else its longest, else the text."""
    blocks = [(str(tag).lower(), str(body)) for tag, body in _FENCE.findall(answer)]
    tagged = [body for tag, body in blocks if tag in _LANGUAGE_TAGS.get(language, set())]
    candidates = tagged or [body for tag, body in blocks if not tag]
    if not candidates:
        return answer.strip() if not blocks else max((b for _, b in blocks), key=len)
    if names:
        defining = [body for body in candidates if all(_defines(body, n) for n in names)]
        if defining:
            return defining[-1]
    return max(candidates, key=len)


def _defines(code: str, name: str) -> bool:
    pattern = rf"^\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
    return re.search(pattern, code, flags=re.MULTILINE) is not None


def _pytest_counts(result: CommandResult) -> dict[str, int]:
    """pytest's closing counts ("2 passed, 1 failed in 0.12s"), empty when there are none."""
    for line in reversed(result.output.splitlines()):
        counts = _COUNT.findall(line)
        if counts and " in " in line:
            return {word: int(n) for n, word in counts}
    return {}


def summary(result: CommandResult) -> str:
    """A one-line account of a check command: pytest's counts, or the last line of output."""
    if result.timed_out:
        return "the check command timed out"
    counts = _pytest_counts(result)
    if counts:
        return ", ".join(f"{n} {word}" for word, n in counts.items())
    tail = result.output.strip().splitlines()[-1:] or [""]
    return f"exit code {result.exit_code}: {tail[0][:200]}"


def _sandbox(env: TaskEnvironment) -> Sandbox:
    if env.sandbox is None:
        raise SandboxError("this task has no workspace")
    return env.sandbox
