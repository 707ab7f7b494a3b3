"""A fresh scratch copy of a task's workspace per attempt, and the only door out of it.

Paths are confined to the copy: no ``..`` escapes, no absolute paths elsewhere, and no
symlink whose target lies outside (paths are resolved, then checked). Commands run
without a shell, from an allowlist, in the copy, with a timeout, capped output and a
scrubbed environment (no API keys, proxies or host settings); the whole process group
is killed when time runs out or the command ends.

On POSIX each command also gets resource limits, set in the child before ``exec``:
CPU seconds, address space, file size and (for non-root users on Linux) the number of
processes. Linux counts ``RLIMIT_NPROC`` over *all* processes of the user and does not
enforce it for root, so the limit is the user's current count plus a headroom, and is
skipped for root; there the timeout and the process-group kill bound a process swarm.

This is confinement, not a jail: ``python`` is a full interpreter and a determined
program can still reach the network or files the user can reach, or escape the process
group with ``setsid``. It keeps well-meaning models (and their mistakes) in their box.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.tasks.interpreter import interpreter_environment, python_interpreter

if os.name == "posix":
    import resource  # imported here: importing inside the forked child can deadlock

OUTPUT_CAP = 64 * 1024  # bytes of output kept for the model
FLOOD_CAP = 4 * 1024**2  # past this much output the command is killed
CPU_SECONDS = 60
MEMORY_BYTES = 2 * 1024**3
FILE_BYTES = 20 * 1024**2
PROCESS_HEADROOM = 64  # processes a command may add to the user's current count
KILL_GRACE_S = 0.5  # after a kill, how long to wait for the pipe to close

ALLOWED_COMMANDS = frozenset(
    {"python", "python3", "pytest", "grep", "ls", "cat", "head", "tail", "wc", "find", "diff",
     "echo", "sort", "uniq", "pwd", "true"}
)
# Options that would run another program or write somewhere a path check cannot see.
_FORBIDDEN_OPTIONS = {
    "find": ("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf",
             "-fls"),
    "sort": ("--compress-program",),
}
_SKIPPED_COPIES = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class SandboxError(Exception):
    """A request the sandbox refuses; the message is shown to the model as the tool result."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a command ended and what it printed (stdout and stderr together, capped)."""

    exit_code: int
    output: str
    timed_out: bool = False
    truncated: bool = False


class Sandbox:
    """One attempt's private copy of a workspace; ``close`` removes it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @classmethod
    def create(cls, source: Path | None, *, scratch_root: Path | None = None) -> Sandbox:
        """Copy ``source`` (or nothing) into a new temporary folder."""
        if scratch_root is not None:
            scratch_root.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="agentgap-ws-", dir=scratch_root))
        if source is not None:
            shutil.copytree(source, root, dirs_exist_ok=True, symlinks=True,
                            ignore=_SKIPPED_COPIES)
        return cls(root)

    # ---- paths ------------------------------------------------------------------

    def resolve(self, relative: str) -> Path:
        """The real path for ``relative``, or ``SandboxError`` if it would leave the workspace."""
        text = (relative or ".").strip() or "."
        if "\x00" in text:
            raise SandboxError("the path contains a NUL byte")
        candidate = Path(text)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.root)
            except ValueError:
                raise SandboxError(
                    f"{text!r} is outside the workspace; use paths relative to the project root"
                ) from None
        target = (self.root / candidate).resolve()
        if not target.is_relative_to(self.root):
            raise SandboxError(f"{text!r} leads outside the workspace")
        return target

    def relative(self, path: Path) -> str:
        """``path`` as the model sees it: relative to the workspace root."""
        return str(path.relative_to(self.root))

    # ---- commands ---------------------------------------------------------------

    def run(self, argv: list[str], timeout_s: float = 30.0) -> CommandResult:
        """Run an allowed command in the workspace, never through a shell."""
        if not argv:
            raise SandboxError("empty command")
        name = os.path.basename(argv[0])  # "/usr/bin/python" means python
        if name not in ALLOWED_COMMANDS:
            allowed = ", ".join(sorted(ALLOWED_COMMANDS))
            raise SandboxError(f"{name!r} is not allowed here; allowed commands: {allowed}")
        for argument in argv[1:]:
            self._check_argument(name, argument)
        if name in ("python", "python3"):
            argv = [python_interpreter(), *argv[1:]]
        elif name == "pytest":
            argv = [python_interpreter(), "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
        else:
            found = shutil.which(name)
            if found is None:
                raise SandboxError(f"{name!r} is not installed on this machine")
            argv = [found, *argv[1:]]
        return self._execute(argv, timeout_s)

    def _check_argument(self, command: str, argument: str) -> None:
        for option in _FORBIDDEN_OPTIONS.get(command, ()):
            if argument == option or argument.startswith(option + "="):
                raise SandboxError(f"{command} {option} is not allowed here")
        values = [argument]
        if argument.startswith("-") and "=" in argument:
            values.append(argument.split("=", 1)[1])  # --option=/some/path
        for value in values:
            if value.startswith("/") or Path(value).is_absolute() or ".." in Path(value).parts:
                self.resolve(value)  # raises when it leads out

    def _environment(self) -> dict[str, str]:
        tmp = self.root / ".tmp"
        if tmp.is_symlink() or (tmp.exists() and not tmp.is_dir()):
            tmp.unlink()
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.root),
            "TMPDIR": str(tmp),
            "TEMP": str(tmp),
            "TMP": str(tmp),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONNOUSERSITE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # task tests need no plugins; startup stays fast
            **interpreter_environment(),
        }
        if os.name == "nt" and "SYSTEMROOT" in os.environ:  # Python on Windows needs it
            env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        return env

    def _execute(self, argv: list[str], timeout_s: float) -> CommandResult:
        try:
            process = subprocess.Popen(
                argv,
                shell=False,
                cwd=self.root,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_limiter() if os.name == "posix" else None,
            )
        except OSError as error:
            raise SandboxError(f"could not start {argv[0]!r}: {error.strerror}") from None
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(timeout_s, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            kept, total = _drain(process, timed_out)
            process.wait()
        finally:
            timer.cancel()
            _kill_group(process)  # background children die with the command
            if process.stdout is not None:
                process.stdout.close()
        text = kept.decode("utf-8", errors="replace")
        truncated = total > len(kept)
        if truncated:
            text += f"\n[output truncated: {total}+ bytes, showing the first {len(kept)}]"
        if timed_out.is_set():
            text += f"\n[killed after {timeout_s:g} s]"
        code = process.returncode if process.returncode is not None else -signal.SIGKILL
        return CommandResult(code, text, timed_out.is_set(), truncated)

    # ---- cleanup ----------------------------------------------------------------

    def close(self) -> None:
        """Remove the workspace copy, read-only files and folders included."""
        for folder, _dirs, files in os.walk(self.root):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                if not os.path.islink(name):
                    with contextlib.suppress(OSError):
                        os.chmod(name, stat.S_IRWXU)
        shutil.rmtree(self.root, ignore_errors=True)


def _drain(process: subprocess.Popen[bytes], timed_out: threading.Event) -> tuple[bytes, int]:
    """Read the output, keeping the first ``OUTPUT_CAP`` bytes; kill a flood early."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    kept = bytearray()
    total = 0
    stop_at: float | None = None  # set once the command is gone but the pipe may linger
    while True:
        if os.name == "posix":
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if process.poll() is not None or timed_out.is_set():
                    stop_at = stop_at or time.monotonic() + KILL_GRACE_S
                    if time.monotonic() >= stop_at:  # e.g. an escaped child holds the pipe
                        break
                continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        total += len(chunk)
        if len(kept) < OUTPUT_CAP:
            kept += chunk[: OUTPUT_CAP - len(kept)]
        if total > FLOOD_CAP:  # no need to read it all
            _kill_group(process)
            break
    return bytes(kept), total


def _process_count(uid: int) -> int | None:
    """How many processes ``uid`` runs now (Linux), or None when it cannot be told."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    count = 0
    for entry in os.scandir(proc):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += 1
    return count


def resource_limits() -> dict[int, int]:
    """The limits each command gets here (``resource.RLIMIT_*`` -> value); empty off POSIX."""
    if os.name != "posix":
        return {}
    limits = {
        resource.RLIMIT_CPU: CPU_SECONDS,
        resource.RLIMIT_AS: MEMORY_BYTES,
        resource.RLIMIT_FSIZE: FILE_BYTES,
    }
    if os.geteuid() != 0:  # root is exempt from RLIMIT_NPROC, so it would only pretend
        count = _process_count(os.getuid())
        if count is not None:
            limits[resource.RLIMIT_NPROC] = count + PROCESS_HEADROOM
    return limits


def _limiter() -> Callable[[], None]:
    """A ``preexec_fn`` that only calls ``setrlimit`` (values computed in the parent)."""
    wanted = []
    for limit, value in resource_limits().items():
        soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if soft == resource.RLIM_INFINITY or value < soft:
            wanted.append((limit, value))

    def apply() -> None:
        for limit, value in wanted:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, (value, value))

    return apply


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
    except OSError:
        pass
