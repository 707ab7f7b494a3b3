"""Plan a run as a list of attempts, then execute it on worker threads, host by host."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.agent.attempt import DEFAULT_INFRA_RETRIES, run_attempt
from app.core.bus import EventBus
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished, RunFinished, RunStarted
from app.core.modelref import ModelRef
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan, new_attempt_id, new_run_id
from app.core.providers.registry import ProviderPool
from app.core.tasks.loader import Task


def plan_run(
    models: Sequence[ModelRef],
    tasks: Sequence[Task],
    *,
    repeats: int = 3,
    settings: Sequence[AttemptSettings] = (AttemptSettings(),),
    name: str = "",
    digests: dict[ModelRef, str | None] | None = None,
    run_id: str | None = None,
) -> RunPlan:
    """Every model × setting × repeat × task, repeat-major so early results cover every task."""
    if repeats < 1:
        raise ValueError("run each task at least once")
    if not models or not tasks:
        raise ValueError("a run needs at least one model and one task")
    run_id = run_id or new_run_id()
    digests = digests or {}
    attempts: list[AttemptSpec] = []
    seq = itertools.count()
    for model, setting, repeat, task in itertools.product(
        models, settings, range(repeats), tasks
    ):
        n = next(seq)
        attempts.append(
            AttemptSpec(
                attempt_id=new_attempt_id(run_id, n),
                run_id=run_id,
                seq=n,
                model=model,
                task_id=task.id,
                suite=task.suite,
                tier=task.tier,
                task_hash=task.content_hash,
                repeat=repeat,
                settings=setting,
                model_digest=digests.get(model),
            )
        )
    if not name:
        suites = sorted({t.suite for t in tasks})
        name = f"{', '.join(suites)} × {len(models)} model{'s' if len(models) > 1 else ''}"
    return RunPlan(run_id=run_id, name=name, created_at=time.time(), attempts=tuple(attempts))


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    concurrency_per_host: int = 1
    simulated_concurrency: int = 4
    infra_retries: int = DEFAULT_INFRA_RETRIES
    scratch_root: Path | None = None


class Runner:
    """Executes attempts: one queue per host (models kept grouped), hosts in parallel.

    ``after_attempt`` runs on the worker after each attempt (the store's flush), so what
    finished is durable before that worker starts the next one.
    """

    def __init__(
        self,
        tasks: Iterable[Task],
        providers: ProviderPool,
        bus: EventBus,
        *,
        options: RunnerOptions = RunnerOptions(),
        after_attempt: Callable[[], object] | None = None,
    ) -> None:
        self._tasks = {t.id: t for t in tasks}
        self._providers = providers
        self._bus = bus
        self._options = options
        self._after_attempt: Callable[[], object] = after_attempt or (lambda: None)

    def run(
        self,
        plan: RunPlan,
        cancel: CancelToken,
        *,
        pending: Sequence[AttemptSpec] | None = None,
    ) -> RunFinished:
        """Run ``pending`` (default: the whole plan); returns when done or cancelled."""
        todo = list(plan.attempts if pending is None else pending)
        missing = sorted({a.task_id for a in todo} - set(self._tasks))
        if missing:
            raise KeyError(f"tasks not loaded: {', '.join(missing)}")
        self._bus.publish(
            RunStarted(
                run_id=plan.run_id,
                total_attempts=len(plan.attempts),
                pending_attempts=len(todo),
                resumed=pending is not None and len(todo) < len(plan.attempts),
            )
        )
        completed = 0
        lock = threading.Lock()

        def record(_: AttemptFinished) -> None:
            nonlocal completed
            with lock:
                completed += 1

        threads = [
            threading.Thread(
                target=self._drain,
                args=(queue_, cancel, record),
                name=f"runner-{host}-{i}",
                daemon=True,
            )
            for host, queue_, workers in self._host_queues(todo)
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        finished = RunFinished(
            run_id=plan.run_id, cancelled=cancel.cancelled, completed_attempts=completed
        )
        self._bus.publish(finished)
        self._after_attempt()
        return finished

    def _host_queues(
        self, todo: list[AttemptSpec]
    ) -> Iterable[tuple[str, queue.SimpleQueue[AttemptSpec], int]]:
        by_host: dict[str, list[AttemptSpec]] = {}
        for attempt in todo:
            by_host.setdefault(f"{attempt.model.provider.value}:{attempt.model.host}", []).append(
                attempt
            )
        for host, attempts in by_host.items():
            model_order = {m: i for i, m in enumerate(dict.fromkeys(a.model for a in attempts))}
            attempts.sort(key=lambda a: (model_order[a.model], a.seq))
            q: queue.SimpleQueue[AttemptSpec] = queue.SimpleQueue()
            for attempt in attempts:
                q.put(attempt)
            simulated = attempts[0].model.simulated
            workers = (
                self._options.simulated_concurrency
                if simulated
                else self._options.concurrency_per_host
            )
            yield host, q, max(1, min(workers, len(attempts)))

    def _drain(
        self,
        attempts: queue.SimpleQueue[AttemptSpec],
        cancel: CancelToken,
        record: Callable[[AttemptFinished], None],
    ) -> None:
        while not cancel.cancelled:
            try:
                spec = attempts.get_nowait()
            except queue.Empty:
                return
            provider = self._providers.get(spec.model)
            finished = run_attempt(
                spec,
                self._tasks[spec.task_id],
                provider,
                self._bus.publish,
                cancel,
                infra_retries=self._options.infra_retries,
                scratch_root=self._options.scratch_root,
            )
            self._after_attempt()
            if finished.outcome.counts_in_score or finished.outcome.value == "infra_error":
                record(finished)
