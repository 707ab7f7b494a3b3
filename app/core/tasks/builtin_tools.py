"""The real tools of coding tasks, working inside an attempt's sandbox."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

from app.core.chat import ToolSpec
from app.core.tasks.environment import ToolOutput
from app.core.tasks.sandbox import Sandbox, SandboxError

READ_CAP = 100_000
SEARCH_CAP = 200
LIST_CAP = 500
_SUBSTITUTION = re.compile(r"`|\$\(")
_OPERATOR = re.compile(r"^[;&|<>()]+$")

_SPECS: dict[str, ToolSpec] = {
    "read_file": ToolSpec(
        "read_file",
        "Read a text file from the project. Paths are relative to the project root.",
        {"type": "object", "properties": {"path": {"type": "string", "description": "File path, e.g. src/app.py"}},
         "required": ["path"]},
    ),
    "write_file": ToolSpec(
        "write_file",
        "Create or overwrite a text file in the project with the given full content.",
        {"type": "object",
         "properties": {"path": {"type": "string"}, "content": {"type": "string", "description": "The whole new file"}},
         "required": ["path", "content"]},
    ),
    "run_command": ToolSpec(
        "run_command",
        "Run one command in the project folder without a shell (no pipes, ;, && or redirection). "
        "Allowed: python, pytest, grep, ls, cat, head, tail, wc, find, diff, echo, sort, uniq.",
        {"type": "object", "properties": {"command": {"type": "string", "description": "e.g. pytest -q"}},
         "required": ["command"]},
    ),
    "search_code": ToolSpec(
        "search_code",
        "Search the project's text files for a regular expression; returns file:line: text matches.",
        {"type": "object",
         "properties": {"pattern": {"type": "string"}, "path": {"type": "string", "description": "Folder to search, default ."}},
         "required": ["pattern"]},
    ),
    "list_files": ToolSpec(
        "list_files",
        "List the files under a folder of the project (recursively).",
        {"type": "object", "properties": {"path": {"type": "string", "description": "Folder, default ."}}},
    ),
}


def builtin_spec(name: str) -> ToolSpec:
    return _SPECS[name]


def run_builtin(sandbox: Sandbox, name: str, arguments: dict[str, Any]) -> ToolOutput:
    """Run a builtin tool; refusals and failures come back as error results, never raised."""
    handler = _HANDLERS.get(name)
    if handler is None:
        return ToolOutput(f"error: unknown tool {name!r}", is_error=True)
    try:
        return handler(sandbox, arguments)
    except SandboxError as error:
        return ToolOutput(f"error: {error}", is_error=True)
    except (OSError, UnicodeError) as error:
        return ToolOutput(f"error: {type(error).__name__}: {error}", is_error=True)


def _read_file(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    path = sandbox.resolve(str(arguments.get("path", "")))
    if path.is_dir():
        return ToolOutput(f"error: {sandbox.relative(path)} is a folder; use list_files", is_error=True)
    if not path.exists():
        return ToolOutput(f"error: no file {arguments.get('path')!r}", is_error=True)
    data = path.read_bytes()
    text = data[:READ_CAP].decode("utf-8", errors="replace")
    if len(data) > READ_CAP:
        text += f"\n[file truncated: {len(data)} bytes, showing the first {READ_CAP}]"
    return ToolOutput(text)


def _write_file(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    path = sandbox.resolve(str(arguments.get("path", "")))
    if path == sandbox.root or path.is_dir():
        return ToolOutput("error: give a file path, not a folder", is_error=True)
    content = str(arguments.get("content", ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return ToolOutput(f"wrote {len(content.encode())} bytes to {sandbox.relative(path)}")


def _run_command(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    command = str(arguments.get("command", "")).strip()
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        argv = list(lexer)
    except ValueError as error:
        return ToolOutput(f"error: cannot split the command: {error}", is_error=True)
    if _SUBSTITUTION.search(command) or any(_OPERATOR.match(token) for token in argv):
        return ToolOutput(
            "error: commands run without a shell, so ;, &&, |, redirection, backticks and $(...) "
            "do not work; run one command at a time",
            is_error=True,
        )
    result = sandbox.run(argv)
    header = f"exit code {result.exit_code}" + (" (timed out)" if result.timed_out else "")
    return ToolOutput(f"{header}\n{result.output}", is_error=result.exit_code != 0)


def _text_files(sandbox: Sandbox, folder: str) -> list[Any]:
    root = sandbox.resolve(folder or ".")
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and ".tmp" not in p.parts and "__pycache__" not in p.parts
    )


def _search_code(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    try:
        pattern = re.compile(str(arguments.get("pattern", "")))
    except re.error as error:
        return ToolOutput(f"error: invalid regular expression: {error}", is_error=True)
    hits: list[str] = []
    for path in _text_files(sandbox, str(arguments.get("path") or ".")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, 1):
            if pattern.search(line):
                hits.append(f"{sandbox.relative(path)}:{number}: {line.strip()[:200]}")
                if len(hits) >= SEARCH_CAP:
                    return ToolOutput("\n".join(hits) + f"\n[stopped at {SEARCH_CAP} matches]")
    return ToolOutput("\n".join(hits) if hits else "no matches")


def _list_files(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    files = [sandbox.relative(p) for p in _text_files(sandbox, str(arguments.get("path") or "."))]
    if len(files) > LIST_CAP:
        return ToolOutput("\n".join(files[:LIST_CAP]) + f"\n[{len(files)} files, showing {LIST_CAP}]")
    return ToolOutput("\n".join(files) if files else "(no files)")


_HANDLERS: dict[str, Callable[[Sandbox, dict[str, Any]], ToolOutput]] = {
    "read_file": _read_file,
    "write_file": _write_file,
    "run_command": _run_command,
    "search_code": _search_code,
    "list_files": _list_files,
}
