"""The OS jail every command and check of an attempt runs in, where the OS has one.

Linux: bubblewrap (``bwrap``) with new user, PID, network, IPC, UTS and cgroup
namespaces; system folders and the Python that runs commands are bound read-only,
the attempt's workspace is the only writable folder, ``/tmp`` is private, there is no
HOME, no parent environment and no view of the app's data, the installed suites,
other attempts or the parent's ``/proc``. When the command ends, the namespace's
first process ends and the kernel kills every process left in it; ``--die-with-parent``
does the same if the app itself dies.

macOS: a generated ``sandbox-exec`` profile with the same rules (deny by default,
no network, writes only to the workspace and a private tmp, reads of system folders
and the interpreter only). It is produced and tested as text here; it has not been
run on a Mac.

Elsewhere, or when neither tool is present: *process isolation only* (the limits and
process-group kill of ``sandbox.py``), which a determined program can escape.
"""

from __future__ import annotations

import enum
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

JAIL_WORKSPACE = "/workspace"  # where the workspace appears inside the Linux jail
JAIL_CHECK = "/check"  # where a check's own files appear inside the Linux jail
JAIL_TMP_BYTES = 64 * 1024**2
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
)
_SYSTEM_ETC_DIRS = ("/etc/alternatives", "/etc/ld.so.conf.d", "/etc/ssl")
JAIL_PATH = "/usr/local/bin:/usr/bin:/bin"


class IsolationLevel(enum.StrEnum):
    """How strongly commands of an attempt are kept from the rest of the machine."""

    BUBBLEWRAP = "bubblewrap"
    SANDBOX_EXEC = "sandbox-exec"
    PROCESS = "process"

    @property
    def is_jail(self) -> bool:
        return self is not IsolationLevel.PROCESS

    @property
    def label(self) -> str:
        """How the level is named to a user (doctor, Models page, report method)."""
        if self is IsolationLevel.BUBBLEWRAP:
            return "jail (bubblewrap)"
        if self is IsolationLevel.SANDBOX_EXEC:
            return "jail (sandbox-exec)"
        return "process isolation only"


class JailRefused(Exception):
    """The user asked for a jail and this machine has none."""


def isolation_level() -> IsolationLevel:
    """The strongest isolation this machine gives (a jail that fails to start is not
    counted). ``AGENTGAP_ISOLATION=process`` forces process isolation only."""
    if os.environ.get("AGENTGAP_ISOLATION", "").strip().lower() == "process":
        return IsolationLevel.PROCESS
    if sys.platform.startswith("linux") and _bwrap_works():
        return IsolationLevel.BUBBLEWRAP
    if sys.platform == "darwin" and shutil.which("sandbox-exec"):
        return IsolationLevel.SANDBOX_EXEC
    return IsolationLevel.PROCESS


def require_jail_if_asked(require: bool) -> IsolationLevel:
    """The isolation level, or ``JailRefused`` when a jail is required and missing."""
    level = isolation_level()
    if require and not level.is_jail:
        raise JailRefused(
            "this machine has no jail (bubblewrap on Linux, sandbox-exec on macOS) and the "
            "settings require one; install bubblewrap or turn off 'require a jail'"
        )
    return level


@functools.cache
def _bwrap_works() -> bool:
    found = shutil.which("bwrap")
    if found is None:
        return False
    argv = [found, *_bwrap_options(JailPlan(writable={}, readable={}, cwd="/")), "--", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@dataclass(frozen=True, slots=True)
class JailPlan:
    """What a jailed command may see: host folder -> path inside, writable or read-only."""

    writable: dict[str, str]
    readable: dict[str, str]
    cwd: str = JAIL_WORKSPACE
    env: dict[str, str] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # host folders masked by an empty tmpfs if bound by accident


def interpreter_roots(python: str) -> list[str]:
    """The folders a Python interpreter needs (its venv and base installation), read-only."""
    roots: list[str] = []
    exe = Path(python)
    candidates = [exe.parent.parent, exe.resolve().parent.parent]
    if python == sys.executable:
        candidates += [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    for candidate in candidates:
        text = str(candidate)
        if text in ("/", "/usr", "/usr/local") or any(text.startswith(d + "/") for d in _SYSTEM_DIRS):
            continue  # inside a system folder, bound anyway
        if candidate.is_dir() and text not in roots:
            roots.append(text)
    return roots


def _overlaps(a: str, b: str) -> bool:
    a, b = a.rstrip("/") or "/", b.rstrip("/") or "/"
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def free_mount_point(preferred: str, occupied: Sequence[str]) -> str:
    """``preferred``, or a sibling name, such that binding a folder there hides none of
    ``occupied`` (host folders bound at their own path, e.g. an interpreter that lives
    under ``/workspace`` or ``/check`` on the host) and sits inside none of them."""
    stem = "/" + (Path(preferred).name or "mount")  # siblings at the top: never inside one
    candidates = [preferred, *(f"{stem}-{n}" for n in range(2, 1000))]
    for candidate in candidates:
        if not any(_overlaps(candidate, taken) for taken in occupied if taken != "/"):
            return candidate
    raise ValueError(f"no free mount point near {preferred!r}")


def app_private_paths() -> tuple[str, ...]:
    """Folders of the app a command must never see even if an interpreter folder holds them:
    the app's own package (and its suites), the user data folder."""
    from app.core.paths import builtin_tasks_dir, user_data_dir

    package = Path(__file__).resolve().parents[2]
    return tuple(str(p) for p in (package, builtin_tasks_dir().resolve(), user_data_dir()))


def _bwrap_options(plan: JailPlan) -> list[str]:
    options = [
        "--unshare-all",  # user, PID, network, IPC, UTS, cgroup namespaces
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(JAIL_TMP_BYTES), "--tmpfs", "/tmp",
        "--dir", "/etc",
    ]
    for folder in _SYSTEM_DIRS:
        if os.path.islink(folder):
            options += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            options += ["--ro-bind", folder, folder]
    for item in (*_SYSTEM_FILES, *_SYSTEM_ETC_DIRS):
        options += ["--ro-bind-try", item, item]
    for host, inside in plan.readable.items():
        options += ["--ro-bind", host, inside]
    for host, inside in plan.writable.items():
        options += ["--bind", host, inside]
    bound = [*plan.readable, *_SYSTEM_DIRS]
    masked: list[str] = []
    for secret in sorted(set(plan.hidden), key=len):  # a folder inside a masked one is gone already
        if any(secret.startswith(m.rstrip("/") + "/") for m in masked):
            continue
        exposed = any(secret == b or secret.startswith(b.rstrip("/") + "/") for b in bound)
        if exposed and os.path.isdir(secret):
            options += ["--tmpfs", secret, "--remount-ro", secret]
            masked.append(secret)
    options += ["--remount-ro", "/"]  # the jail's own root: nothing to write outside the binds
    options += ["--chdir", plan.cwd]
    for key, value in plan.env.items():
        options += ["--setenv", key, value]
    return options


def bwrap_argv(plan: JailPlan, argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped in bubblewrap as ``plan`` says."""
    found = shutil.which("bwrap") or "bwrap"
    return [found, *_bwrap_options(plan), "--", *argv]


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sandbox_exec_profile(plan: JailPlan, tmp: str) -> str:
    """A macOS ``sandbox-exec`` profile with the rules of the Linux jail (paths are host
    paths: macOS has no bind mounts, so the command sees the real folders)."""
    readable = [*plan.readable, "/usr", "/bin", "/sbin", "/System", "/Library/Frameworks",
                "/private/etc", "/dev", "/Library/Developer/CommandLineTools", "/opt/homebrew"]
    writable = [*plan.writable, tmp]
    lines = [
        "(version 1)",
        "(deny default)",
        "(allow process-fork)",
        "(allow process-exec)",
        "(allow signal (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow mach-lookup (global-name \"com.apple.system.logger\"))",
        "(deny network*)",
        "(allow file-read-metadata)",
        "(allow file-read* (literal \"/\"))",
        "(allow file-read* " + " ".join(f"(subpath {_quoted(p)})" for p in readable) + ")",
        "(allow file-read* file-write* "
        + " ".join(f"(subpath {_quoted(p)})" for p in writable)
        + ")",
        "(allow file-write* (literal \"/dev/null\"))",
    ]
    for secret in plan.hidden:
        lines.append(f"(deny file-read* file-write* (subpath {_quoted(secret)}))")
    return "\n".join(lines) + "\n"


def sandbox_exec_argv(plan: JailPlan, argv: Sequence[str], tmp: str) -> list[str]:
    return ["sandbox-exec", "-p", sandbox_exec_profile(plan, tmp), *argv]
