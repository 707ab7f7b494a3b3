"""The engine behind one object, shared by the CLI and the GUI: settings, task catalog,
providers, the store and its single writer, and run execution with resume."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from app.core.bus import EventBus
from app.core.cancel import CancelToken
from app.core.config import AppSettings, load_settings
from app.core.discovery import discover_all
from app.core.events import RunFinished
from app.core.modelref import ModelRef, parse_model_ref
from app.core.paths import builtin_tasks_dir, default_database_path, user_tasks_dir
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan
from app.core.providers.base import HostStatus, ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.providers.simulated import SimulatedProvider
from app.core.run_owner import claim_run
from app.core.runner import Runner, RunnerOptions, host_key, plan_run
from app.core.store.database import Database, open_database
from app.core.store.repository import Repository
from app.core.store.writer import StoreWriteFailed, StoreWriter
from app.core.tasks.jail import require_jail_if_asked
from app.core.tasks.loader import Catalog, Task, load_catalog
from app.core.tuning.ceilings import DEFAULT_SCALES, ceiling_sweep
from app.core.tuning.planning import plan_pairs, plan_sweep
from app.core.tuning.sweep import MIN_REPEATS, SweepError, SweepSpec

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

    def discover(
        self, *, include_simulated: bool = True, on_status: Callable[[HostStatus], None] | None = None
    ) -> list[HostStatus]:
        return discover_all(self.settings, self.providers, include_simulated=include_simulated, on_status=on_status)

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
        require_jail_if_asked(self.settings.require_jail)  # refuses before anything is stored
        plan = plan_run(models, tasks, repeats=repeats, settings=settings, name=name, digests=digests)
        self.repository.create_run(plan, {t.id: t for t in tasks})
        return plan

    def store_plan(self, plan: RunPlan) -> RunPlan:
        """Store a plan built elsewhere (sweeps, ceilings, follow-ups) before it executes."""
        require_jail_if_asked(self.settings.require_jail)
        self.repository.create_run(plan, {t.id: t for t in self._tasks_for(plan.attempts)})
        return plan

    def plan_sweep(
        self,
        model: ModelRef,
        tasks: Sequence[Task],
        spec: SweepSpec,
        *,
        name: str = "",
        digests: dict[ModelRef, str | None] | None = None,
    ) -> RunPlan:
        """An OFAT sweep of one model, stored; ``SweepError`` says why a spec is refused."""
        return self.store_plan(plan_sweep(model, tasks, spec, name=name, digests=digests))

    def plan_ceiling(
        self,
        run_ids: Sequence[str],
        *,
        scales: Sequence[float] = DEFAULT_SCALES,
        repeats: int = MIN_REPEATS,
        models: Sequence[str] = (),
    ) -> RunPlan:
        """Sweep the turn and token budgets on every model × task that failed in the runs."""
        failing = {
            (row.model, row.task_id)
            for row in self.repository.task_pass_table(run_ids)
            if row.scored and row.passed < row.scored and (not models or row.model in models)
        }
        if not failing:
            raise SweepError("every model passed every task it ran: there is no ceiling to find")
        refs, baseline, specs = self._run_parts(run_ids)
        pairs = sorted(
            {(refs[label], task_id) for label, task_id in failing if label in refs},
            key=lambda pair: (pair[0].label, pair[1]),
        )
        needed = [
            c.needed
            for c in self.repository.context_limits(run_ids)
            if c.needed and (c.model, c.task_id) in failing
        ]
        # a context that holds every cut reply: the smallest that would, for all of them
        spec = ceiling_sweep(baseline, scales, repeats, contexts=[max(needed)] if needed else ())
        cells = spec.cells()
        tasks = {t.id: t for t in self._tasks_for(specs)}
        plan = plan_pairs(
            [(ref, tasks[task_id]) for ref, task_id in pairs],
            [c.settings for c in cells],
            repeats=repeats,
            name=f"budget ceilings · {len(pairs)} failing pair{'s' if len(pairs) != 1 else ''}",
            notes={"tuning": "ceiling", "from runs": ", ".join(run_ids)},
            digests={a.model: a.model_digest for a in specs},
        )
        return self.store_plan(plan)

    def plan_follow_up(
        self, run_ids: Sequence[str], model_label: str, settings: Sequence[AttemptSettings], *, name: str
    ) -> RunPlan:
        """The same model, tasks and N as earlier runs, under new settings (e.g. all winners)."""
        refs, _, specs = self._run_parts(run_ids)
        if model_label not in refs:
            raise LookupError(f"{model_label} did not run in {', '.join(run_ids)}")
        own = [a for a in specs if a.model.label == model_label]
        tasks = self._tasks_for(own)
        plan = plan_run(
            [refs[model_label]],
            tasks,
            repeats=max(MIN_REPEATS, 1 + max(a.repeat for a in own)),
            settings=settings,
            name=name,
            digests={refs[model_label]: own[0].model_digest},
        )
        return self.store_plan(replace(plan, notes={"tuning": "follow-up", "from runs": ", ".join(run_ids)}))

    def _run_parts(
        self, run_ids: Sequence[str]
    ) -> tuple[dict[str, ModelRef], AttemptSettings, list[AttemptSpec]]:
        """Models by label, the most used settings, and every attempt spec of the runs."""
        specs = [a for run_id in run_ids for a in self.repository.load_plan(run_id).attempts]
        if not specs:
            raise LookupError("those runs hold no attempts")
        refs = {a.model.label: a.model for a in specs}
        keys = Counter(a.settings.key() for a in specs)
        by_key = {a.settings.key(): a.settings for a in specs}
        return refs, by_key[keys.most_common(1)[0][0]], specs

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
        errors_before = self.writer.errors

        def stop_if_store_failed() -> None:
            """A store that cannot write (a full disk) stops the run; nothing waits for it here."""
            if self.writer.errors > errors_before:
                cancel.cancel()

        runner = Runner(
            tasks,
            self.providers,
            self.bus,
            options=options or self.runner_options(),
            after_attempt=stop_if_store_failed,
        )
        claim_run(self.database, plan.run_id)  # another process can tell a live run from a killed one
        # workers never wait for the store between attempts: one not yet stored when the
        # process dies is still "running" on disk, and resuming runs it again
        finished = runner.run(plan, cancel, pending=pending)
        self.writer.flush()
        if self.writer.errors > errors_before:
            raise StoreWriteFailed(
                f"results could not be stored in {self.database.path} ({self.writer.last_error}); "
                "the run stopped. Free some space or choose another file with --db, then resume it"
            )
        return finished

    def runner_options(self) -> RunnerOptions:
        """Each configured host's own parallel attempts and co-resident choice."""
        hosts = {host_key(h.provider, h.normalized_url): h for h in self.settings.effective_hosts()}
        return RunnerOptions(
            host_concurrency={key: h.concurrency for key, h in hosts.items()},
            co_resident_hosts=frozenset(key for key, h in hosts.items() if h.co_resident),
        )

    def _tasks_for(self, attempts: Iterable[AttemptSpec]) -> list[Task]:
        wanted: dict[str, str] = {}
        for attempt in attempts:
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
