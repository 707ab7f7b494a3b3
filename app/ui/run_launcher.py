"""Prepares runs off the GUI thread: storing a new plan, loading a stored run to open or
resume. Storing a plan of a few hundred attempts takes a noticeable fraction of a
second, so none of it happens on the GUI thread; results arrive as signals there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.core.engine import Engine
from app.core.modelref import ModelRef
from app.core.plan import RunPlan
from app.ui.run_setup_page import RunRequest
from app.ui.run_state import RunState
from app.ui.workers import BackgroundCall


class NothingToResume(Exception):
    """Every attempt of the run has finished already."""


class RunLauncher(QObject):
    """One preparation at a time; ``failed(title, message)`` explains what went wrong."""

    launch_ready = Signal(object, object, bool)  # RunPlan, RunState, resume
    run_opened = Signal(object)  # RunState (read-only)
    failed = Signal(str, str)  # dialog title, message

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._call: BackgroundCall | None = None
        self._title = ""

    @property
    def busy(self) -> bool:
        return self._call is not None

    def wait(self, timeout: float) -> bool:
        return self._call is None or self._call.wait(timeout)

    def plan(self, request: RunRequest) -> bool:
        """Store the plan of ``request``; ``launch_ready`` follows. False when busy."""

        def work() -> tuple[RunPlan, RunState, bool]:
            refs = {m: ModelRef(m.provider, m.host, m.name) for m in request.models}
            plan = self._engine.plan(
                list(refs.values()),
                list(request.tasks),
                repeats=request.repeats,
                settings=[request.settings],
                name=request.name,
                digests={ref: m.digest for m, ref in refs.items()},
            )
            state = RunState(plan.run_id, plan.name, plan.attempts, self._titles(), live=True)
            return plan, state, False

        return self._start("Start run", work, self._on_launch_ready)

    def open(self, run_id: str) -> bool:
        """Load a stored run to show read-only; ``run_opened`` follows."""
        return self._start("Open run", lambda: self._stored(run_id)[1], self._on_opened)

    def resume(self, run_id: str) -> bool:
        """Load a stored run and its unfinished attempts; ``launch_ready`` follows."""

        def work() -> tuple[RunPlan, RunState, bool]:
            plan, state = self._stored(run_id)
            pending = self._engine.repository.unfinished_attempts(run_id)
            if not pending:
                raise NothingToResume("Every attempt of this run has finished.")
            state.mark_resuming(a.attempt_id for a in pending)
            return plan, state, True

        return self._start("Resume run", work, self._on_launch_ready)

    # ---- on the worker --------------------------------------------------------------

    def _titles(self) -> dict[str, str]:
        return {t.id: t.spec.title for t in self._engine.catalog.tasks()}

    def _stored(self, run_id: str) -> tuple[RunPlan, RunState]:
        repository = self._engine.repository
        plan = repository.load_plan(run_id)
        state = RunState(plan.run_id, plan.name, plan.attempts, self._titles(), live=False)
        for record in repository.attempts(run_id):
            if record.status == "done":
                state.mark_stored(record.id, record.outcome, record.detail)
        return plan, state

    # ---- back in the GUI thread -----------------------------------------------------

    def _start(self, title: str, work: Callable[[], Any], on_success: Callable[[Any], None]) -> bool:
        if self._call is not None:
            return False
        self._title = title
        call = BackgroundCall(work, name=title.lower().replace(" ", "-"), parent=self)
        call.succeeded.connect(on_success)
        call.failed.connect(self._on_failed)
        call.done.connect(self._on_done)
        self._call = call.start()
        return True

    @Slot(object)
    def _on_launch_ready(self, result: tuple[RunPlan, RunState, bool]) -> None:
        self.launch_ready.emit(*result)

    @Slot(object)
    def _on_opened(self, state: RunState) -> None:
        self.run_opened.emit(state)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failed.emit(self._title, message)

    @Slot()
    def _on_done(self) -> None:
        if self._call is not None:
            self._call.deleteLater()
        self._call = None
