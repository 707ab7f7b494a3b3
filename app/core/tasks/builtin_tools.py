"""The real tools of coding tasks, working inside an attempt's sandbox."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.chat import ToolSpec
from app.core.faults import HarnessFault
from app.core.tasks.environment import ToolOutput
from app.core.tasks.sandbox import ALLOWED_COMMANDS, Sandbox, SandboxError

READ_CAP = 100_000  # bytes of a file shown by read_file
SEARCH_CAP = 200  # matching lines shown by search_code
SEARCH_FILE_CAP = 2_000_000  # larger files are skipped by search_code
LIST_CAP = 500  # paths shown by list_files
_SKIPPED_PARTS = {".tmp", "__pycache__", ".pytest_cache"}
_SUBSTITUTION = re.compile(r"`|\$\(")
_OPERATOR = re.compile(r"^[;&|<>()]+$")
_GLOB = re.compile(r"^[^-].*[*?]")

_PATH = {"type": "string", "description": "Path relative to the project root, e.g. src/app.py"}
_FOLDER = {"type": "string", "description": "Folder relative to the project root; default: the root"}

_SPECS: dict[str, ToolSpec] = {
    "read_file": ToolSpec(
        "read_file",
        "Read a text file of the project and return its content.",
        {"type": "object", "properties": {"path": _PATH}, "required": ["path"]},
    ),
    "write_file": ToolSpec(
        "write_file",
        "Create or overwrite a text file of the project. Give the complete new content of the "
        "file, not a diff or a fragment; missing folders are created.",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "content": {"type": "string", "description": "The whole new content of the file"},
            },
            "required": ["path", "content"],
        },
    ),
    "run_command": ToolSpec(
        "run_command",
        "Run one command in the project folder and return its exit code and output. There is "
        "no shell: pipes, ;, &&, redirection, $VARIABLES and * globs do not work. Allowed "
        "programs: " + ", ".join(sorted(ALLOWED_COMMANDS - {"true"})) + ".",
        {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command line, e.g. pytest -q"}
            },
            "required": ["command"],
        },
    ),
    "search_code": ToolSpec(
        "search_code",
        "Search the project's text files for a regular expression (Python syntax). Returns one "
        "'file:line: text' line per match.",
        {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Regular expression, e.g. def \\w+"},
                "path": {
                    "type": "string",
                    "description": "File or folder to search; default: the whole project",
                },
            },
            "required": ["pattern"],
        },
    ),
    "list_files": ToolSpec(
        "list_files",
        "List all files under a folder of the project, recursively, one path per line.",
        {"type": "object", "properties": {"path": _FOLDER}},
    ),
}


def builtin_spec(name: str) -> ToolSpec:
    """The name, description and JSON Schema the model sees for a builtin tool."""
    return _SPECS[name]


def run_builtin(sandbox: Sandbox, name: str, arguments: dict[str, Any]) -> ToolOutput:
    """Run a builtin tool; refusals and failures come back as error results, never raised."""
    handler = _HANDLERS.get(name)
    if handler is None:
        return _error(f"unknown tool {name!r}")
    try:
        return handler(sandbox, arguments)
    except SandboxError as error:
        return _error(str(error))
    except OSError as error:
        where = f" ({_shown(sandbox, error.filename)})" if error.filename else ""
        return _error(f"{error.strerror or type(error).__name__}{where}")
    except ValueError as error:  # arguments it cannot use (e.g. text that cannot be encoded)
        return _error(f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug of ours: the attempt cannot be judged
        raise HarnessFault(f"the {name} tool crashed: {type(error).__name__}: {error}") from error


def _error(message: str) -> ToolOutput:
    return ToolOutput(f"error: {message}", is_error=True)


def _shown(sandbox: Sandbox, filename: object) -> str:
    path = Path(str(filename))
    return sandbox.relative(path) if path.is_relative_to(sandbox.root) else str(filename)


def _read_file(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    given = str(arguments.get("path", ""))
    path = sandbox.resolve(given)
    if path.is_dir():
        return _error(f"{given!r} is a folder; use list_files to see what it holds")
    if not path.exists():
        return _error(f"there is no file {given!r}; use list_files to see what exists")
    with path.open("rb") as handle:
        data = handle.read(READ_CAP + 1)
    text = data[:READ_CAP].decode("utf-8", errors="replace")
    if len(data) > READ_CAP:
        size = path.stat().st_size
        text += f"\n[file truncated: {size} bytes, showing the first {READ_CAP}]"
    return ToolOutput(text)


def _write_file(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    path = sandbox.resolve(str(arguments.get("path", "")))
    if path == sandbox.root or path.is_dir():
        return _error("give the path of a file, not a folder")
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
        return _error(f"cannot split the command: {error}")
    if _SUBSTITUTION.search(command) or any(_OPERATOR.match(token) for token in argv):
        return _error(
            "commands run without a shell, so ;, &&, ||, |, redirection, backticks and $(...) "
            "do not work; run one command per call"
        )
    if not argv:
        return _error("the command is empty")
    result = sandbox.run(argv)
    header = f"exit code {result.exit_code}" + (" (timed out)" if result.timed_out else "")
    text = f"{header}\n{result.output}"
    if result.exit_code != 0 and any(_GLOB.search(token) for token in argv[1:]):
        text += "\n[note: there is no shell, so * and ? are passed literally, not expanded]"
    return ToolOutput(text, is_error=result.exit_code != 0)


def _files(sandbox: Sandbox, given: str) -> list[Path]:
    """Regular files at or under ``given`` (no symlinks, no caches), sorted."""
    start = sandbox.resolve(given)
    if start.is_file():
        return [start]
    if not start.is_dir():
        raise SandboxError(f"there is no folder {given!r}")
    return sorted(
        p
        for p in start.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and not _SKIPPED_PARTS & set(p.relative_to(sandbox.root).parts)
    )


def _search_code(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    try:
        pattern = re.compile(str(arguments.get("pattern", "")))
    except re.error as error:
        return _error(f"invalid regular expression: {error}")
    hits: list[str] = []
    for path in _files(sandbox, str(arguments.get("path") or ".")):
        if path.stat().st_size > SEARCH_FILE_CAP:
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue  # binary or unreadable: not code
        for number, line in enumerate(lines, 1):
            if pattern.search(line):
                hits.append(f"{sandbox.relative(path)}:{number}: {line.strip()[:200]}")
                if len(hits) >= SEARCH_CAP:
                    return ToolOutput("\n".join(hits) + f"\n[stopped at {SEARCH_CAP} matches]")
    return ToolOutput("\n".join(hits) if hits else "no matches")


def _list_files(sandbox: Sandbox, arguments: dict[str, Any]) -> ToolOutput:
    files = [sandbox.relative(p) for p in _files(sandbox, str(arguments.get("path") or "."))]
    if len(files) > LIST_CAP:
        shown = "\n".join(files[:LIST_CAP])
        return ToolOutput(f"{shown}\n[{len(files)} files, showing the first {LIST_CAP}]")
    return ToolOutput("\n".join(files) if files else "(no files)")


_HANDLERS: dict[str, Callable[[Sandbox, dict[str, Any]], ToolOutput]] = {
    "read_file": _read_file,
    "write_file": _write_file,
    "run_command": _run_command,
    "search_code": _search_code,
    "list_files": _list_files,
}
