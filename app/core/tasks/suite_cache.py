"""A loaded suite kept on disk, so a large suite (an imported benchmark of thousands of
task files) loads in a fraction of a second instead of being parsed and validated again.

An entry is used only while every file under the suite folder has the size and
modification time it had when the entry was written, and only by the same app version
and cache format; anything else (a missing, stale or unreadable entry) means the suite is
loaded from its files as usual and the entry rewritten. Entries live in the user's own
cache folder, which no command of an attempt can see.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.tasks.loader import Suite, TaskLoadError

FORMAT = 1
MIN_TASK_FILES = 200  # smaller suites load in well under a second without it


def cache_dir() -> Path:
    import platformdirs

    from app.core.paths import APP_NAME

    override = os.environ.get("AGENTGAP_HOME")
    if override:
        return Path(override) / "cache" / "suites"
    return platformdirs.user_cache_path(APP_NAME, appauthor=False) / "suites"


def _fingerprint(suite_dir: Path) -> tuple[str, int]:
    """A digest of every file's path, size and modification time, and the number of
    ``.yaml`` files (a cheap stand-in for the number of tasks)."""
    from app import __version__

    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{suite_dir}".encode())
    yaml_files = 0
    for folder, dirs, files in os.walk(suite_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
            yaml_files += name.endswith(".yaml")
    return digest.hexdigest(), yaml_files


def load_suite_cached(
    suite_dir: Path,
    errors: list[TaskLoadError],
    load: Callable[[Path, list[TaskLoadError]], Suite],
    *,
    min_task_files: int = MIN_TASK_FILES,
) -> Suite:
    """``load(suite_dir, errors)``, or the stored result of it while the folder is unchanged."""
    fingerprint, yaml_files = _fingerprint(suite_dir.resolve())
    if yaml_files < min_task_files:
        return load(suite_dir, errors)
    entry = cache_dir() / (hashlib.sha256(str(suite_dir.resolve()).encode()).hexdigest()[:32] + ".pickle")
    stored = _read(entry, fingerprint)
    if stored is not None:
        suite, stored_errors = stored
        errors.extend(stored_errors)
        return suite
    found: list[TaskLoadError] = []
    suite = load(suite_dir, found)
    errors.extend(found)
    _write(entry, (fingerprint, suite, found))
    return suite


def _read(entry: Path, fingerprint: str) -> tuple[Suite, list[TaskLoadError]] | None:
    try:
        with entry.open("rb") as stream:
            stored_fingerprint, suite, errors = pickle.load(stream)
    except Exception:  # missing, from another version, truncated: load from the files
        return None
    if stored_fingerprint != fingerprint:
        return None
    return suite, errors


def _write(entry: Path, value: object) -> None:
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, entry)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
