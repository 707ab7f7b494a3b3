"""A fresh scratch copy of a task's workspace per attempt, and the only door out of it.

Paths are confined to the copy: no ``..`` escapes, no absolute paths elsewhere, and no
symlink whose target lies outside (paths are resolved, then checked). Commands run
without a shell, from an allowlist, in the copy, with a timeout, capped output and a
scrubbed environment (no API keys, proxies or host settings); the whole process group
is killed when time runs out or the command ends.

On POSIX each command also gets resource limits (CPU seconds, address space, file size,
processes; see ``process_limits.py``).

Where the OS has a jail (see ``jail.py``) every command runs inside it as well: the
workspace is the only writable folder, there is no network, no HOME, no parent
environment and no view of the app or other attempts, and every process the command
started dies with it. Without a jail this is confinement only: ``python`` is a full
interpreter and a determined program can reach the network or files the user can
reach, or escape the process group with ``setsid``.
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
from app.core.tasks.jail import (
    JAIL_PATH,
    JAIL_WORKSPACE,
    IsolationLevel,
    JailPlan,
    app_private_paths,
    bwrap_argv,
    free_mount_point,
    interpreter_roots,
    isolation_level,
    sandbox_exec_argv,
)
from app.core.tasks.process_limits import with_limits

OUTPUT_CAP = 64 * 1024  # bytes of output kept for the model
FLOOD_CAP = 4 * 1024**2  # past this much output the command is killed
DISK_BYTES = 256 * 1024**2  # the workspace's disk quota: a command that passes it is killed
QUOTA_POLL_S = 0.25  # how often a running command's workspace is measured
COMMAND_TIMEOUT_S = 30.0
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
_PYTHON_ENV = {
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONNOUSERSITE": "1",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # task tests need no plugins; startup stays fast
}


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
    """One attempt's private copy of a workspace; ``close`` removes it.

    ``readable`` binds further host folders read-only into the jail (host -> inside path);
    ``cwd`` is where commands start, as seen inside (default: the workspace).
    """

    def __init__(
        self,
        root: Path,
        *,
        isolation: IsolationLevel | None = None,
        readable: dict[Path, str] | None = None,
        inside_root: str = JAIL_WORKSPACE,
        cwd: Path | None = None,
    ) -> None:
        self.root = root.resolve()
        self.isolation = isolation if isolation is not None else isolation_level()
        if self.isolation is IsolationLevel.BUBBLEWRAP:  # never bind over the interpreter
            occupied = interpreter_roots(python_interpreter())
            inside_root = free_mount_point(inside_root, occupied)
            readable = {h: free_mount_point(i, occupied) for h, i in (readable or {}).items()}
        self.readable = dict(readable or {})
        self.inside_root = inside_root
        self.cwd = cwd.resolve() if cwd is not None else self.root
        self.deadline: float | None = None  # time.monotonic() when the attempt's time is up

    def command_timeout(self, longest: float = COMMAND_TIMEOUT_S) -> float:
        """How long the next command may run: ``longest``, cut to the attempt's time left."""
        if self.deadline is None:
            return longest
        return max(0.1, min(longest, self.deadline - time.monotonic()))

    def inside(self, host: Path) -> str:
        """``host`` as a command sees it: under the jail's mount point, or unchanged."""
        if self.isolation is not IsolationLevel.BUBBLEWRAP:
            return str(host)
        for folder, mount in [(self.root, self.inside_root), *self.readable.items()]:
            if host == folder or host.is_relative_to(folder):
                return str(Path(mount) / host.relative_to(folder))
        return str(host)

    @classmethod
    def create(cls, source: Path | None, *, scratch_root: Path | None = None) -> Sandbox:
        """Copy ``source`` (or nothing) into a new temporary folder."""
        if scratch_root is not None:
            scratch_root.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="agentgap-ws-", dir=scratch_root))
        if source is not None:
            copy_regular_tree(source, root)
        return cls(root)

    # ---- paths ------------------------------------------------------------------

    def resolve(self, relative: str) -> Path:
        """The real path for ``relative``, or ``SandboxError`` if it would leave the workspace."""
        text = (relative or ".").strip() or "."
        if "\x00" in text:
            raise SandboxError("the path contains a NUL byte")
        candidate = Path(text)
        jailed_root = Path(self.inside_root)
        if self.isolation is IsolationLevel.BUBBLEWRAP and candidate.is_relative_to(jailed_root):
            candidate = candidate.relative_to(jailed_root)  # the workspace as commands see it
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
        argv = [argv[0], *(self._as_seen_inside(a) for a in argv[1:])]
        if name in ("python", "python3"):
            argv = [python_interpreter(), *argv[1:]]
        elif name == "pytest":
            argv = [python_interpreter(), "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
        else:
            found = shutil.which(name)
            if found is None:
                raise SandboxError(f"{name!r} is not installed on this machine")
            argv = [found, *argv[1:]]
        return self.execute(argv, timeout_s)

    def _as_seen_inside(self, argument: str) -> str:
        """An absolute host path into the workspace, as a jailed command sees it."""
        if self.isolation is not IsolationLevel.BUBBLEWRAP or not argument.startswith("/"):
            return argument
        path = Path(argument)
        return self.inside(path) if path.is_relative_to(self.root) else argument

    def _check_argument(self, command: str, argument: str) -> None:
        for option in _FORBIDDEN_OPTIONS.get(command, ()):
            if argument == option or argument.startswith(option + "="):
                raise SandboxError(f"{command} {option} is not allowed here")
        values = [argument]
        if argument.startswith("-") and "=" in argument:
            values.append(argument.split("=", 1)[1])  # --option=/some/path
        if argument.startswith("-") and not argument.startswith("--"):
            for marker in ("/", ".."):  # -o/some/path, -f../file: a value glued to a short option
                if marker in argument:
                    values.append(argument[argument.index(marker) :])
        for value in values:
            if value.startswith("/") or Path(value).is_absolute() or ".." in Path(value).parts:
                self.resolve(value)  # raises when it leads out

    def _environment(self) -> dict[str, str]:
        if self.isolation is IsolationLevel.BUBBLEWRAP:
            return {
                "PATH": JAIL_PATH,
                "HOME": "/tmp",
                "TMPDIR": "/tmp",
                **_PYTHON_ENV,
                **interpreter_environment(),
            }
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
            **_PYTHON_ENV,
            **interpreter_environment(),
        }
        if os.name == "nt" and "SYSTEMROOT" in os.environ:  # Python on Windows needs it
            env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
        return env

    def _jailed(self, argv: list[str]) -> tuple[list[str], Path]:
        """``argv`` wrapped in this machine's jail, and the host folder to start it in."""
        if self.isolation is IsolationLevel.PROCESS:
            return argv, self.cwd
        readable = {r: r for r in interpreter_roots(argv[0])}
        readable.update({str(host): inside for host, inside in self.readable.items()})
        plan = JailPlan(
            writable={str(self.root): self.inside_root},
            readable=readable,
            cwd=self.inside(self.cwd),
            env=self._environment(),
            hidden=app_private_paths(),
        )
        if self.isolation is IsolationLevel.BUBBLEWRAP:
            return bwrap_argv(plan, argv), self.root
        return sandbox_exec_argv(plan, argv, str(self._tmp())), self.cwd

    def _tmp(self) -> Path:
        tmp = self.root / ".tmp"
        tmp.mkdir(exist_ok=True)
        return tmp

    def execute(self, argv: list[str], timeout_s: float) -> CommandResult:
        """Run ``argv`` as given (no allowlist: for the app's own checks) in the jail."""
        if disk_usage(self.root) > DISK_BYTES:
            quota = DISK_BYTES // 1024**2
            return CommandResult(1, f"[not run: the workspace is over its disk quota of {quota} MB]")
        argv, start_in = self._jailed(argv)
        argv, limiter = with_limits(argv)
        try:
            process = subprocess.Popen(
                argv,
                shell=False,
                cwd=start_in,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=limiter,
            )
        except OSError as error:
            raise SandboxError(f"could not start {argv[0]!r}: {error.strerror}") from None
        timed_out, over_quota, killed = threading.Event(), threading.Event(), threading.Event()
        done = threading.Event()

        def watch() -> None:
            """Kill the command when its time runs out or its workspace passes the quota."""
            deadline = time.monotonic() + timeout_s
            while not done.wait(min(QUOTA_POLL_S, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    timed_out.set()
                elif disk_usage(self.root) > DISK_BYTES:
                    over_quota.set()
                else:
                    continue
                killed.set()
                _kill_group(process)
                return

        watcher = threading.Thread(target=watch, name="sandbox-watch", daemon=True)
        watcher.start()
        try:
            kept, total = _drain(process, killed)
            process.wait()
        finally:
            done.set()
            _kill_group(process)  # background children die with the command
            if process.stdout is not None:
                process.stdout.close()
        text = kept.decode("utf-8", errors="replace")
        truncated = total > len(kept)
        if truncated:
            text += f"\n[output truncated: {total}+ bytes, showing the first {len(kept)}]"
        if timed_out.is_set():
            text += f"\n[killed after {timeout_s:g} s]"
        if over_quota.is_set():
            text += f"\n[killed: the workspace passed its disk quota of {DISK_BYTES // 1024**2} MB]"
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


def copy_regular_tree(
    source: Path, target: Path, skip: Callable[[str], bool] | None = None
) -> None:
    """Copy folders and regular files only (symlinks stay links, never followed); pipes,
    sockets and devices are left out, so a copy never blocks or reads outside."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(source):
        if entry.name in ("__pycache__", ".pytest_cache") or entry.name.endswith(".pyc"):
            continue
        if skip is not None and skip(entry.name):
            continue
        destination = target / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), destination)
        elif entry.is_dir(follow_symlinks=False):
            copy_regular_tree(Path(entry.path), destination, skip)
        elif entry.is_file(follow_symlinks=False):
            shutil.copy2(entry.path, destination, follow_symlinks=False)


def disk_usage(root: Path) -> int:
    """Bytes the files under ``root`` take on disk (sparse files count what they use)."""
    used, folders = 0, [str(root)]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                else:
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return used


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


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
    except OSError:
        pass
