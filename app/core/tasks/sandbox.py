"""A fresh scratch copy of a task's workspace per attempt, and the only door out of it.

Paths are confined to the copy (no ``..``, no absolute paths, no symlinks that lead
out). Commands run without a shell, from an allowlist, with a timeout, capped output,
a scrubbed environment and, on POSIX, CPU / memory / file-size limits; the whole
process group is killed when time runs out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

OUTPUT_CAP = 64 * 1024  # bytes of output kept for the model
CPU_SECONDS = 60
MEMORY_BYTES = 2 * 1024**3
FILE_BYTES = 20 * 1024**2

ALLOWED_COMMANDS = frozenset(
    {"python", "python3", "pytest", "grep", "ls", "cat", "head", "tail", "wc", "find", "diff", "echo",
     "sort", "uniq", "pwd", "true"}
)


class SandboxError(Exception):
    """A request the sandbox refuses; the message is shown to the model as the tool result."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_code: int
    output: str
    timed_out: bool = False
    truncated: bool = False


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @classmethod
    def create(cls, source: Path | None, *, scratch_root: Path | None = None) -> Sandbox:
        if scratch_root is not None:
            scratch_root.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="agentgap-ws-", dir=scratch_root))
        if source is not None:
            shutil.copytree(source, root, dirs_exist_ok=True, symlinks=True)
        return cls(root)

    # ---- paths ------------------------------------------------------------------

    def resolve(self, relative: str) -> Path:
        """The real path for ``relative``, or ``SandboxError`` if it would leave the workspace."""
        text = (relative or ".").strip()
        if "\x00" in text:
            raise SandboxError("path contains a NUL byte")
        candidate = Path(text)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.root)
            except ValueError:
                raise SandboxError(f"{text!r} is outside the workspace; use paths relative to it") from None
        target = (self.root / candidate).resolve()
        if not target.is_relative_to(self.root):
            raise SandboxError(f"{text!r} leads outside the workspace")
        return target

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root)) or "."

    # ---- commands ---------------------------------------------------------------

    def run(self, argv: list[str], *, timeout_s: float = 30.0) -> CommandResult:
        if not argv:
            raise SandboxError("empty command")
        name = os.path.basename(argv[0])
        if name not in ALLOWED_COMMANDS:
            allowed = ", ".join(sorted(ALLOWED_COMMANDS))
            raise SandboxError(f"{name!r} is not allowed here; allowed commands: {allowed}")
        for argument in argv[1:]:
            self._check_argument(argument)
        if name in ("python", "python3"):
            argv = [sys.executable, *argv[1:]]
        elif name == "pytest":
            argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
        return self._execute(argv, timeout_s)

    def _check_argument(self, argument: str) -> None:
        if argument.startswith("/") or ".." in Path(argument).parts:
            self.resolve(argument)  # raises when it leads out

    def _execute(self, argv: list[str], timeout_s: float) -> CommandResult:
        tmp = self.root / ".tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONIOENCODING": "utf-8",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # task tests need no plugins; startup stays fast
        }
        try:
            process = subprocess.Popen(
                argv,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_limit_resources if os.name == "posix" else None,
            )
        except OSError as error:
            raise SandboxError(f"could not start {argv[0]!r}: {error.strerror}") from None
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        kept = bytearray()
        total = 0
        try:
            assert process.stdout is not None
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 65536):
                total += len(chunk)
                if len(kept) < OUTPUT_CAP:
                    kept += chunk[: OUTPUT_CAP - len(kept)]
                if total > 50 * OUTPUT_CAP:  # a flood: no need to read it all
                    _kill_group(process)
                    break
            process.wait()
        finally:
            timer.cancel()
            _kill_group(process)
        text = kept.decode("utf-8", errors="replace")
        truncated = total > len(kept)
        if truncated:
            text += f"\n[output truncated: {total} bytes, showing the first {len(kept)}]"
        if timed_out.is_set():
            text += f"\n[killed after {timeout_s:g} s]"
        return CommandResult(process.returncode, text, timed_out.is_set(), truncated)

    # ---- cleanup ----------------------------------------------------------------

    def close(self) -> None:
        for folder, _dirs, files in os.walk(self.root):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                if not os.path.islink(name):
                    with contextlib.suppress(OSError):
                        os.chmod(name, stat.S_IRWXU)
        shutil.rmtree(self.root, ignore_errors=True)


def _limit_resources() -> None:
    import resource

    for limit, value in (
        (resource.RLIMIT_CPU, CPU_SECONDS),
        (resource.RLIMIT_AS, MEMORY_BYTES),
        (resource.RLIMIT_FSIZE, FILE_BYTES),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, value))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None and os.name != "posix":
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
