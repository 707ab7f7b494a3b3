"""The simulated models' own channel to a task's reference solution.

The answer key stays with the judge: no ``ChatRequest`` carries it, so no provider that
talks to a server can ever send it. While a simulated model runs an attempt, the attempt
lends that task's reference script here, under the attempt's id, and takes it back when
the attempt ends; only the simulated provider reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.chat import ScriptStep


class ScriptBook:
    """Reference scripts on loan, by attempt id (thread-safe: attempts run in parallel)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, tuple[ScriptStep, ...]] = {}

    @contextmanager
    def lend(self, attempt_id: str, script: tuple[ScriptStep, ...]) -> Iterator[None]:
        with self._lock:
            self._scripts[attempt_id] = script
        try:
            yield
        finally:
            with self._lock:
                self._scripts.pop(attempt_id, None)

    def script(self, attempt_id: str) -> tuple[ScriptStep, ...]:
        """The script lent for ``attempt_id``; empty when none is (e.g. a free chat)."""
        with self._lock:
            return self._scripts.get(attempt_id, ())


SCRIPTS = ScriptBook()
