"""Checks that execute: files in the final workspace, hidden test commands, and code
extracted from a one-shot answer run against hidden tests.

A one-shot task that deserves partial credit lists several ``code_answer`` checks (one
per aspect, with weights) and sets ``partial_credit``; the weighted score then reads as
pass / partial / fail.
"""

from __future__ import annotations

import re
import shutil

from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.sandbox import Sandbox, SandboxError
from app.core.tasks.schema import CodeAnswerCheck, CommandCheck, FileCheck

_PYTEST_SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors)")
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.DOTALL)
_LANGUAGE_TAGS = {
    "python": {"python", "py", "python3", ""},
    "shell": {"bash", "sh", "shell", "console", "zsh", ""},
    "text": {"", "text", "txt", "regex", "csv"},
}


def file_check(check: FileCheck, env: TaskEnvironment) -> tuple[bool, str]:
    sandbox = _sandbox(env)
    try:
        path = sandbox.resolve(check.path)
    except SandboxError as error:
        return False, str(error)
    if not path.is_file():
        return (not check.exists), f"{check.path} {'is missing' if check.exists else 'is absent as required'}"
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
    sandbox = _sandbox(env)
    if check.hidden:
        shutil.copytree(env.task.resolve(check.hidden), sandbox.root, dirs_exist_ok=True)
    result = sandbox.run(list(check.argv), timeout_s=check.timeout_s)
    return result.exit_code == 0 and not result.timed_out, _summary(result.output, result.exit_code)


def code_answer_check(check: CodeAnswerCheck, answer: str, env: TaskEnvironment) -> tuple[bool, str]:
    code = extract_code(answer, check.language)
    if not code.strip():
        return False, "the answer holds no code"
    sandbox = Sandbox.create(None)
    try:
        suffix = {"python": "py", "shell": "sh", "text": "txt"}[check.language]
        (sandbox.root / f"answer.{suffix}").write_text(code, encoding="utf-8")
        (sandbox.root / "test_answer.py").write_text(check.test, encoding="utf-8")
        result = sandbox.run(["pytest", "-q", "-x", "test_answer.py"], timeout_s=30)
        return result.exit_code == 0, _summary(result.output, result.exit_code)
    finally:
        sandbox.close()


def extract_code(answer: str, language: str) -> str:
    """The best fenced block for ``language`` (the longest tagged one), else the whole text."""
    blocks: list[tuple[str, str]] = [(str(t).lower(), str(b)) for t, b in _FENCE.findall(answer)]
    tagged = [body for tag, body in blocks if tag in _LANGUAGE_TAGS[language] and tag]
    if tagged:
        return max(tagged, key=len)
    untagged = [body for tag, body in blocks if not tag]
    if untagged:
        return max(untagged, key=len)
    return answer.strip()


def _sandbox(env: TaskEnvironment) -> Sandbox:
    if env.sandbox is None:
        raise SandboxError("this task has no workspace")
    return env.sandbox


def _summary(output: str, exit_code: int) -> str:
    counts = _PYTEST_SUMMARY.findall(output)
    if counts:
        return ", ".join(f"{n} {word}" for n, word in counts)
    tail = output.strip().splitlines()[-1:] or [""]
    return f"exit code {exit_code}: {tail[0][:200]}"
