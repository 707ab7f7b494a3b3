"""Checks that execute: files in the final workspace, hidden test commands, and code
extracted from a one-shot answer run against hidden tests.

Hidden test files (a ``command`` check's ``hidden`` folder) are copied into the workspace
only when the check runs, after the model has finished, so the model never sees them.

Partial credit for one-shot answers: a check returns only passed or failed, so a one-shot
task that grades pass / partial / fail lists several ``code_answer`` checks, one per
aspect (e.g. "normal input", "quoted commas"), with weights, and sets ``partial_credit``;
the weighted score of the passed checks then reads as pass (all), partial (some) or fail
(none). Within one check every test must pass; its detail reports the counts, and the
schema's ``partial_min`` is not used for grading.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.sandbox import CommandResult, Sandbox, SandboxError
from app.core.tasks.schema import CodeAnswerCheck, CommandCheck, FileCheck

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
    """Copy in the hidden files, run the command in the sandbox; exit code 0 passes."""
    sandbox = _sandbox(env)
    if check.hidden:
        copy_hidden(env.task.resolve(check.hidden), sandbox)
    result = sandbox.run(list(check.argv), timeout_s=check.timeout_s)
    return result.exit_code == 0 and not result.timed_out, summary(result)


def copy_hidden(source: Path, sandbox: Sandbox) -> None:
    """Copy ``source`` into the workspace, replacing (never writing through) what is there."""
    for file in sorted(source.rglob("*")):
        if not file.is_file() or "__pycache__" in file.parts:
            continue
        relative = file.relative_to(source)
        folder = sandbox.resolve(relative.parent.as_posix())  # a linked folder leading out is refused
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / relative.name
        if target.is_symlink() or target.is_file():
            target.unlink()  # a link the attempt left here must not redirect the copy
        elif target.is_dir():
            shutil.rmtree(target)
        shutil.copyfile(file, target)


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
        result = sandbox.run(["pytest", "-q", "test_answer.py"], timeout_s=CODE_ANSWER_TIMEOUT_S)
        return result.exit_code == 0 and not result.timed_out, summary(result)
    finally:
        sandbox.close()


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


def summary(result: CommandResult) -> str:
    """A one-line account of a check command: pytest's counts, or the last line of output."""
    if result.timed_out:
        return "the check command timed out"
    for line in reversed(result.output.splitlines()):
        counts = _COUNT.findall(line)
        if counts and " in " in line:  # pytest's last line: "2 passed, 1 failed in 0.12s"
            return ", ".join(f"{n} {word}" for n, word in counts)
    tail = result.output.strip().splitlines()[-1:] or [""]
    return f"exit code {result.exit_code}: {tail[0][:200]}"


def _sandbox(env: TaskEnvironment) -> Sandbox:
    if env.sandbox is None:
        raise SandboxError("this task has no workspace")
    return env.sandbox
