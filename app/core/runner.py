"""Plan a run as a list of attempts, then execute it on worker threads, host by host."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.core.agent.attempt import DEFAULT_INFRA_RETRIES, run_attempt
from app.core.bus import EventBus
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished, RunFinished, RunStarted
from app.core.modelref import ModelRef
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan, new_attempt_id, new_run_id
from app.core.providers.base import ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.reports.configurations import describe_settings
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
        configurations = sorted({describe_settings(s) for s in settings})
        name += " · " + (configurations[0] if len(configurations) == 1 else f"{len(configurations)} configurations")
    return RunPlan(run_id=run_id, name=name, created_at=time.time(), attempts=tuple(attempts))


def host_key(provider: ProviderKind, host: str) -> str:
    """Names one server's queue: its provider and address (``ollama:http://gpu:11434``)."""
    return f"{provider.value}:{host}"


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """How many attempts run at once on each host, and which hosts keep two models loaded.

    ``host_concurrency`` and ``co_resident_hosts`` are keyed by :func:`host_key`; hosts not
    named there get ``concurrency``. Simulated models use ``simulated_concurrency``.
    """

    concurrency: int = 1
    host_concurrency: Mapping[str, int] = field(default_factory=dict)
    co_resident_hosts: frozenset[str] = frozenset()
    simulated_concurrency: int = 4
    infra_retries: int = DEFAULT_INFRA_RETRIES
    scratch_root: Path | None = None

    def workers_for(self, key: str) -> int:
        return self.host_concurrency.get(key, self.concurrency)

    def with_concurrency(self, workers: int) -> RunnerOptions:
        """The same options with ``workers`` parallel attempts on every (non-simulated) host."""
        return replace(self, concurrency=workers, host_concurrency={})

    def with_co_resident(self, keys: Iterable[str]) -> RunnerOptions:
        """The same options with these hosts (``host_key``) also keeping two models loaded."""
        return replace(self, co_resident_hosts=self.co_resident_hosts | frozenset(keys))


class HostQueue:
    """One host's attempts as a sequence of batches: one model's attempts, or a co-resident
    pair's interleaved A, B, A, B.

    A batch starts only once every attempt of the batch before it has *finished*, not just
    been taken: otherwise, with several workers, the last attempts of model A would run
    beside the first ones of model B, and a server with room for one model would swap them
    in and out on every turn. Workers that reach the boundary early wait for the others
    (the price: at most one attempt's duration per model).
    """

    def __init__(self, batches: Iterable[Sequence[AttemptSpec]]) -> None:
        self._batches = deque(deque(batch) for batch in batches if batch)
        self._running = 0
        self._changed = threading.Condition()

    def take(self, cancel: CancelToken) -> AttemptSpec | None:
        """The next attempt to run, waiting at a batch boundary; None when done or cancelled."""
        with self._changed:
            while not cancel.cancelled and self._batches:
                batch = self._batches[0]
                if batch:
                    self._running += 1
                    return batch.popleft()
                if self._running == 0:
                    self._batches.popleft()
                else:
                    self._changed.wait(timeout=0.1)  # woken by ``done``; the timeout polls cancel
            return None

    def done(self) -> None:
        """An attempt returned by ``take`` has finished."""
        with self._changed:
            self._running -= 1
            self._changed.notify_all()


def host_batches(attempts: Sequence[AttemptSpec], *, co_resident: bool) -> list[list[AttemptSpec]]:
    """One host's attempts grouped so each model loads once: a batch per model in order of
    first appearance (attempts in ``seq`` order), or with ``co_resident`` a batch per pair of
    models whose attempts alternate, so both stay loaded and share the server's memory."""
    by_model: dict[ModelRef, list[AttemptSpec]] = {}
    for attempt in sorted(attempts, key=lambda a: a.seq):
        by_model.setdefault(attempt.model, []).append(attempt)
    groups = list(by_model.values())
    if not co_resident:
        return groups
    batches: list[list[AttemptSpec]] = []
    for i in range(0, len(groups), 2):
        pairs = itertools.zip_longest(*groups[i : i + 2])
        batches.append([a for pair in pairs for a in pair if a is not None])
    return batches


class Runner:
    """Executes attempts: one queue per host (models kept grouped, see ``HostQueue``),
    hosts in parallel, each with its own number of workers.

    ``after_attempt`` runs on the worker after each attempt, and once more when the run ends.
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

    def _host_queues(self, todo: list[AttemptSpec]) -> Iterable[tuple[str, HostQueue, int]]:
        by_host: dict[str, list[AttemptSpec]] = {}
        for attempt in todo:
            key = host_key(attempt.model.provider, attempt.model.host)
            by_host.setdefault(key, []).append(attempt)
        for key, attempts in by_host.items():
            if attempts[0].model.simulated:  # nothing to load: one batch, no waiting
                batches = [sorted(attempts, key=lambda a: a.seq)]
                workers = self._options.simulated_concurrency
            else:
                co_resident = key in self._options.co_resident_hosts
                batches = host_batches(attempts, co_resident=co_resident)
                workers = self._options.workers_for(key)
            yield key, HostQueue(batches), max(1, min(workers, len(attempts)))

    def _drain(
        self,
        attempts: HostQueue,
        cancel: CancelToken,
        record: Callable[[AttemptFinished], None],
    ) -> None:
        while (spec := attempts.take(cancel)) is not None:
            try:
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
            finally:
                attempts.done()
            if finished.outcome.counts_in_score or finished.outcome.value in ("infra_error", "harness_error"):
                record(finished)
