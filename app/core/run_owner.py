"""Which process runs a run: recorded in the run's notes when execution starts, so that
another process can tell a run still going from one whose process was killed.

A run left "running" by a process that no longer exists on this machine is interrupted:
its attempts that were running go back to pending, to be run again on resume. A run
whose owner lives on another machine (a shared database file) is never taken for a dead
one; one whose owner is unknown (stored by an older version) only by the desktop app at
start-up.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from sqlalchemy import select

from app.core.store.database import Database
from app.core.store.models import RunRow
from app.core.store.repository import Repository

OWNER_PID = "owner_pid"
OWNER_HOST = "owner_host"


def owner_notes() -> dict[str, str]:
    """This process, as a run's notes record it."""
    return {OWNER_PID: str(os.getpid()), OWNER_HOST: socket.gethostname()}


def claim_run(database: Database, run_id: str) -> None:
    """Record this process as the one executing ``run_id`` (call before it starts)."""
    with database.plan_lock, database.sessions.begin() as session:
        run = session.get(RunRow, run_id)
        if run is None:
            raise KeyError(run_id)
        notes = _notes(run.notes_json)
        notes.update(owner_notes())
        run.notes_json = json.dumps(notes)


def owner_gone(notes_json: str) -> bool:
    """True only when the recorded owner is a process of this machine that has ended."""
    notes = _notes(notes_json)
    pid, host = notes.get(OWNER_PID), notes.get(OWNER_HOST)
    if not isinstance(pid, str) or not pid.isdigit() or host != socket.gethostname():
        return False
    return int(pid) != os.getpid() and not pid_alive(int(pid))


def interrupt_orphaned_runs(repository: Repository, *, unknown_owner_gone: bool = False) -> list[str]:
    """Mark "interrupted" the runs left "running" by a process that is gone (their running
    attempts go back to pending); returns their ids. A run whose owner lives, or lives on
    another machine, is left alone. ``unknown_owner_gone`` also takes runs that recorded
    no owner (stored by an older version): right for a desktop app starting up."""
    with repository.database.sessions() as session:
        running = session.execute(select(RunRow.id, RunRow.notes_json).where(RunRow.status == "running")).all()
    dead = [run_id for run_id, notes in running if owner_gone(notes) or (unknown_owner_gone and _unowned(notes))]
    return repository.mark_interrupted(dead) if dead else []


def _unowned(notes_json: str) -> bool:
    return OWNER_PID not in _notes(notes_json)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        still_active = 259
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def _notes(notes_json: str) -> dict[str, object]:
    try:
        notes = json.loads(notes_json or "{}")
    except ValueError:
        return {}
    return notes if isinstance(notes, dict) else {}
