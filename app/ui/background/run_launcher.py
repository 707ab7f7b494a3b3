"""Prepares runs off the GUI thread: storing a new plan, loading a stored run to open or
resume. Storing a plan of a few hundred attempts takes a noticeable fraction of a
second, so none of it happens on the GUI thread; results arrive as signals there."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from app.core.cloud_notice import cloud_attempts, is_cloud
from app.core.config import save_settings
from app.core.engine import Engine
from app.core.estimate import PlannedAttempt, prior_attempt_seconds
from app.core.modelref import ModelRef
from app.core.plan import RunPlan
from app.core.providers.base import ProviderKind
from app.ui.background.workers import BackgroundCall
from app.ui.dialogs.cloud_notice import confirm_cloud_run
from app.ui.models.run_state import RunState
from app.ui.pages.run_setup_page import RunRequest

log = logging.getLogger(__name__)


class NothingToResume(Exception):
    """Every attempt of the run has finished already."""


#: Asks the user to agree to the cloud notice: (cloud kinds, cloud attempts, parent) -> agreed.
CloudConfirmation = Callable[[list[ProviderKind], int | None, QWidget | None], bool]


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
        self.confirm_cloud: CloudConfirmation = confirm_cloud_run

    @property
    def busy(self) -> bool:
        return self._call is not None

    def wait(self, timeout: float) -> bool:
        return self._call is None or self._call.wait(timeout)

    def plan(self, request: RunRequest) -> bool:
        """Store the plan of ``request``; ``launch_ready`` follows. False when busy, or when
        the user declined the cloud notice."""
        if self._call is not None:
            return False
        kinds = [m.provider for m in request.models]
        if not self._cloud_agreed(kinds, cloud_attempts(kinds, len(request.tasks) * request.repeats)):
            return False

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
            planned = [PlannedAttempt(a.model.label, a.task_id, a.model.provider is ProviderKind.SIMULATED)
                       for a in plan.attempts]
            state.prior_attempt_s = prior_attempt_seconds(planned, self._engine.repository.attempt_durations())
            return plan, state, False

        return self._start("Start run", work, self._on_launch_ready)

    def launch_planned(
        self,
        title: str,
        make_plan: Callable[[], RunPlan],
        *,
        cloud: tuple[list[ProviderKind], int | None] = ([], None),
    ) -> bool:
        """Store a plan built by ``make_plan`` on the worker (sweeps, ceilings, follow-ups);
        ``cloud`` names the providers and attempt count the cost notice must cover."""
        if self._call is not None or not self._cloud_agreed(*cloud):
            return False

        def work() -> tuple[RunPlan, RunState, bool]:
            plan = make_plan()
            return plan, RunState(plan.run_id, plan.name, plan.attempts, self._titles(), live=True), False

        return self._start(title, work, self._on_launch_ready)

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

    def _cloud_agreed(self, kinds: list[ProviderKind], attempts: int | None) -> bool:
        """True without asking for local-only runs or once the notice was accepted; else ask,
        and remember a yes in the settings file."""
        if not any(is_cloud(kind) for kind in kinds) or self._engine.settings.cloud_notice_accepted:
            return True
        parent = self.parent()
        if not self.confirm_cloud(kinds, attempts, parent if isinstance(parent, QWidget) else None):
            return False
        self._engine.settings = self._engine.settings.model_copy(update={"cloud_notice_accepted": True})
        try:
            save_settings(self._engine.settings)
        except OSError as error:  # agreed for this session; asked again after a restart
            log.warning("could not remember the cloud notice: %s", error)
        return True

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
