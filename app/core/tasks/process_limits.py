"""The resource limits every command of an attempt runs under, on POSIX: CPU seconds,
address space, file size and (for non-root users on Linux) the number of processes.

Linux counts ``RLIMIT_NPROC`` over *all* processes of the user and does not enforce it for
root, so the limit is the user's current count plus a headroom, and is skipped for root;
there the timeout and the process-group kill bound a process swarm.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

if os.name == "posix":
    import resource  # imported here: importing inside the forked child can deadlock

    _PRLIMIT_OPTIONS = {
        resource.RLIMIT_CPU: "--cpu",
        resource.RLIMIT_AS: "--as",
        resource.RLIMIT_FSIZE: "--fsize",
        resource.RLIMIT_NPROC: "--nproc",
    }

CPU_SECONDS = 60
MEMORY_BYTES = 2 * 1024**3
FILE_BYTES = 20 * 1024**2
PROCESS_HEADROOM = 64  # processes a command may add to the user's current count


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


def _wanted_limits() -> list[tuple[int, int]]:
    """The limits to lower for a command: each no higher than the hard limit already set."""
    wanted = []
    for limit, value in resource_limits().items():
        soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if soft == resource.RLIM_INFINITY or value < soft:
            wanted.append((limit, value))
    return wanted


def with_limits(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """``argv`` started so that it runs under the resource limits.

    On Linux ``prlimit`` sets them and then runs the command, so no Python code runs in
    the forked child: a ``preexec_fn`` makes CPython take its at-fork locks (logging's
    among them), which can stall a process whose other threads are busy. Elsewhere a
    ``preexec_fn`` that only calls ``setrlimit`` does it.
    """
    if os.name != "posix":
        return argv, None
    prlimit = shutil.which("prlimit") if sys.platform.startswith("linux") else None
    if prlimit is None:
        return argv, _limiter()
    options = [f"{_PRLIMIT_OPTIONS[limit]}={value}" for limit, value in _wanted_limits()]
    return [prlimit, *options, "--", *argv], None


def _limiter() -> Callable[[], None]:
    """A ``preexec_fn`` that only calls ``setrlimit`` (values computed in the parent)."""
    wanted = _wanted_limits()

    def apply() -> None:
        for limit, value in wanted:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, (value, value))

    return apply
