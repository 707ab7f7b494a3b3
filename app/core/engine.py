"""The engine behind one object, shared by the CLI and the GUI: settings, task catalog,
providers, the store and its single writer, and run execution with resume."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.core.bus import EventBus
from app.core.cancel import CancelToken
from app.core.config import AppSettings, load_settings
from app.core.discovery import discover_all
from app.core.events import RunFinished
from app.core.modelref import ModelRef, parse_model_ref
from app.core.paths import builtin_tasks_dir, default_database_path, user_tasks_dir
from app.core.plan import AttemptSettings, RunPlan
from app.core.providers.base import HostStatus, ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import Runner, RunnerOptions, plan_run
from app.core.store.database import Database, open_database
from app.core.store.repository import Repository
from app.core.store.writer import StoreWriter
from app.core.tasks.loader import Catalog, Task, load_catalog

log = logging.getLogger(__name__)


class Engine:
    """Open once per process; ``close`` flushes the store and releases connections."""

    def __init__(
        self,
        *,
        db_path: Path | None = None,
        settings: AppSettings | None = None,
        task_dirs: Sequence[Path] = (),
        simulated_pace: float | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.db_path = db_path or default_database_path()
        self._task_dirs = [builtin_tasks_dir(), user_tasks_dir()]
        self._task_dirs += [Path(p) for p in self.settings.extra_task_dirs] + list(task_dirs)
        self.bus = EventBus()
        self.providers = ProviderPool()
        pace = self.settings.simulated_pace if simulated_pace is None else simulated_pace
        self.providers.register(ProviderKind.SIMULATED, lambda host: SimulatedProvider(host, pace=pace))
        self.database: Database = open_database(self.db_path)
        self.repository = Repository(self.database)
        self.writer = StoreWriter(self.database)
        self.bus.subscribe(self.writer.submit)
        self._catalog: Catalog | None = None

    # ---- tasks and models -------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(p for p in self._task_dirs if p.exists())
            for error in self._catalog.errors:
                log.warning("task file skipped: %s", error)
        return self._catalog

    def reload_tasks(self) -> Catalog:
        self._catalog = None
        return self.catalog

    def discover(self, *, include_simulated: bool = True) -> list[HostStatus]:
        return discover_all(self.settings, self.providers, include_simulated=include_simulated)

    def parse_model(self, text: str) -> ModelRef:
        return parse_model_ref(text, self.settings.known_hosts())

    # ---- runs -------------------------------------------------------------------

    def plan(
        self,
        models: Sequence[ModelRef],
        tasks: Sequence[Task],
        *,
        repeats: int,
        settings: Sequence[AttemptSettings] = (AttemptSettings(),),
        name: str = "",
        digests: dict[ModelRef, str | None] | None = None,
    ) -> RunPlan:
        """Plan a run and store it (every attempt pending) before anything executes."""
        plan = plan_run(models, tasks, repeats=repeats, settings=settings, name=name, digests=digests)
        self.repository.create_run(plan, {t.id: t for t in tasks})
        return plan

    def execute(
        self,
        plan: RunPlan,
        cancel: CancelToken,
        *,
        options: RunnerOptions | None = None,
        resume: bool = False,
    ) -> RunFinished:
        """Run the plan's unfinished attempts (all of them for a new run)."""
        pending = self.repository.unfinished_attempts(plan.run_id) if resume else None
        tasks = self._tasks_for(plan.attempts)
        runner = Runner(
            tasks,
            self.providers,
            self.bus,
            options=options or self.runner_options(),
            after_attempt=self.writer.flush,
        )
        return runner.run(plan, cancel, pending=pending)

    def runner_options(self) -> RunnerOptions:
        concurrency = max((h.concurrency for h in self.settings.effective_hosts()), default=1)
        return RunnerOptions(concurrency_per_host=concurrency)

    def _tasks_for(self, attempts: Iterable[object]) -> list[Task]:
        from app.core.plan import AttemptSpec

        wanted: dict[str, str] = {}
        for attempt in attempts:
            assert isinstance(attempt, AttemptSpec)
            wanted[attempt.task_id] = attempt.task_hash
        tasks: list[Task] = []
        for task_id, content_hash in wanted.items():
            try:
                task = self.catalog.task(task_id)
            except KeyError:
                raise LookupError(
                    f"task {task_id!r} of this run is no longer installed; it cannot be resumed"
                ) from None
            if task.content_hash != content_hash:
                raise LookupError(
                    f"task {task_id!r} changed since the run was planned "
                    f"(hash {content_hash} → {task.content_hash}); start a new run instead"
                )
            tasks.append(task)
        return tasks

    def close(self) -> None:
        self.writer.close()
        self.providers.close()
        self.database.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
