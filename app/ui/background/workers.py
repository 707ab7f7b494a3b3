"""Blocking engine calls on plain threads, with results delivered as signals in the GUI thread.

The signal-carrying QObjects live in the GUI thread. A worker only emits a private
signal connected to a slot of that object, so Qt queues it to the GUI thread, and the
public signals are emitted from there (the superqt / Anki ``QueryOp`` pattern): every
receiver, lambdas included, runs in the GUI thread and no widget is touched by a worker.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.core.cancel import CancelToken
from app.core.engine import Engine
from app.core.events import RunFinished
from app.core.plan import RunPlan

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """A one-line message for a user; the traceback goes to the log."""
    text = str(error).strip()
    return text or type(error).__name__


class _Outcome:
    """What a worker hands back: a result or an error message."""

    __slots__ = ("error", "result")

    def __init__(self, result: object = None, error: str | None = None) -> None:
        self.result = result
        self.error = error


class _ThreadedCall(QObject):
    """Base: run a callable on a daemon thread and route its outcome to the GUI thread."""

    _delivered = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)

    def _launch(self, function: Callable[[], Any], name: str) -> None:
        def work() -> None:
            try:
                outcome = _Outcome(result=function())
            except Exception as error:
                log.exception("%s failed", name)
                outcome = _Outcome(error=describe_error(error))
            # The owner may have been deleted while we worked (window closed).
            with contextlib.suppress(RuntimeError):
                self._delivered.emit(outcome)

        self._thread = threading.Thread(target=work, name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker; True when nothing is left running."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @Slot(object)
    def _on_delivered(self, outcome: _Outcome) -> None:
        raise NotImplementedError


class BackgroundCall(_ThreadedCall):
    """Run ``function`` once off the GUI thread; then ``succeeded(result)`` or ``failed(message)``.
    While it runs, the function may hand partial results to ``report`` (from any thread):
    each arrives as ``progressed(value)`` in the GUI thread, before the outcome."""

    succeeded = Signal(object)
    failed = Signal(str)
    done = Signal()
    progressed = Signal(object)
    _reported = Signal(object)

    def __init__(
        self, function: Callable[[], Any], *, name: str = "background", parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._function = function
        self._name = name
        self._reported.connect(self.progressed, Qt.ConnectionType.QueuedConnection)

    def report(self, value: object) -> None:
        """Called on a worker thread: queue ``value`` to the GUI thread as ``progressed``."""
        with contextlib.suppress(RuntimeError):  # the owner was deleted meanwhile
            self._reported.emit(value)

    def start(self) -> BackgroundCall:
        self._launch(self._function, self._name)
        return self

    @Slot(object)
    def _on_delivered(self, outcome: _Outcome) -> None:
        if outcome.error is None:
            self.succeeded.emit(outcome.result)
        else:
            self.failed.emit(outcome.error)
        self.done.emit()


class RunController(_ThreadedCall):
    """Owns the thread that executes a run and the token that cancels it."""

    run_started = Signal(str)  # run id
    run_finished = Signal(object)  # RunFinished
    run_failed = Signal(str)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._token: CancelToken | None = None
        self._run_id: str | None = None

    @property
    def run_id(self) -> str | None:
        return self._run_id

    @property
    def cancelling(self) -> bool:
        return self._token is not None and self._token.cancelled and self.running

    def start(self, plan: RunPlan, *, resume: bool = False) -> None:
        """Execute ``plan`` (only its unfinished attempts when ``resume``) on a new thread."""
        if self.running:
            raise RuntimeError("a run is already in progress")
        token = self._token = CancelToken()
        self._run_id = plan.run_id
        self._launch(lambda: self._engine.execute(plan, token, resume=resume), f"run-{plan.run_id}")
        self.run_started.emit(plan.run_id)

    def cancel(self) -> None:
        """Ask the run to stop; the engine honours the token within about a second."""
        if self._token is not None:
            self._token.cancel()

    @Slot(object)
    def _on_delivered(self, outcome: _Outcome) -> None:
        if outcome.error is not None:
            self.run_failed.emit(outcome.error)
        elif isinstance(outcome.result, RunFinished):
            self.run_finished.emit(outcome.result)
        else:
            self.run_failed.emit("the run ended without a result")
