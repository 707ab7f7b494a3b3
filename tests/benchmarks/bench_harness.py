"""How much time does the harness itself add per turn?

Runs 1,000 turns against a zero-latency scripted provider (100 attempts × 10 turns),
then against one that takes 20 ms per turn, and prints our own time per turn and its
share of wall time. Target: under 2 ms per turn.

Then a run as users get it: 200 attempts × 5 turns planned, stored and executed by the
engine with the store on, beside the same run with nothing stored (the baseline), and
prints the whole run's wall time per turn, the loop's own time per turn and the store's
share. Target: at most 0.5 ms per turn with the store on.

    .venv/bin/python tests/benchmarks/bench_harness.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.agent.attempt import run_attempt  # noqa: E402
from app.core.bus import EventBus  # noqa: E402
from app.core.cancel import CancelToken  # noqa: E402
from app.core.chat import ChatRequest  # noqa: E402
from app.core.config import AppSettings  # noqa: E402
from app.core.engine import Engine  # noqa: E402
from app.core.events import AttemptFinished, Event  # noqa: E402
from app.core.modelref import ModelRef  # noqa: E402
from app.core.plan import AttemptSettings  # noqa: E402
from app.core.providers.base import ProviderKind  # noqa: E402
from app.core.providers.registry import ProviderPool  # noqa: E402
from app.core.runner import (  # noqa: E402
    Runner,
    RunnerOptions,
    plan_run,
)
from app.core.tasks.loader import load_catalog  # noqa: E402
from tests.fakes.scripted_provider import ScriptedProvider, Turn  # noqa: E402

TURNS_PER_ATTEMPT = 10
ATTEMPTS = 100


def _provider(latency_s: float, blocking: bool, turns: int = TURNS_PER_ATTEMPT) -> ScriptedProvider:
    def respond(request: ChatRequest) -> Turn:
        turn = sum(1 for m in request.messages if m.role == "assistant")
        if turn + 1 >= turns:
            return Turn(text="Order O-99120 has shipped.", delay_s=latency_s)
        return Turn(
            text="Let me look that up.",
            calls=[("find_customer", {"email": f"user{turn}@example.com"})],
            delay_s=latency_s,
        )

    return ScriptedProvider(responder=respond, blocking_io=blocking)


def measure(latency_s: float, blocking: bool) -> tuple[float, float, int]:
    catalog = load_catalog([REPO / "tasks"])
    task = catalog.task("readiness.chain.order-status")
    plan = plan_run(
        [ModelRef(ProviderKind.SIMULATED, "bench", "m")],
        [task],
        repeats=ATTEMPTS,
        settings=[AttemptSettings(max_turns=TURNS_PER_ATTEMPT + 1)],
    )
    provider = _provider(latency_s, blocking)
    sink: list[Event] = []
    harness = wall = 0.0
    turns = 0
    for spec in plan.attempts:
        finished: AttemptFinished = run_attempt(spec, task, provider, sink.append, CancelToken())
        harness += finished.stats.harness_s
        wall += finished.stats.wall_s
        turns += finished.stats.turns
        sink.clear()
    return harness, wall, turns


STORED_ATTEMPTS = 200
STORED_TURNS = 5


def measure_stored(store: bool) -> tuple[float, float, int]:
    """One engine run (plan, execute, final flush): wall seconds, loop seconds, turns."""
    catalog = load_catalog([REPO / "tasks"])
    task = catalog.task("readiness.chain.order-status")
    model = ModelRef(ProviderKind.SIMULATED, "scripted", "m")
    plan = plan_run([model], [task], repeats=STORED_ATTEMPTS, settings=[AttemptSettings(max_turns=STORED_TURNS + 1)])
    provider = _provider(0.0, False, STORED_TURNS)
    finished: list[AttemptFinished] = []

    def keep(event: Event) -> None:
        if isinstance(event, AttemptFinished):
            finished.append(event)

    options = RunnerOptions(simulated_concurrency=1)
    with tempfile.TemporaryDirectory() as tmp:
        if store:
            engine = Engine(db_path=Path(tmp) / "bench.db", settings=AppSettings(hosts=[]))
            engine.providers.put(provider)
            engine.bus.subscribe(keep)
            engine.repository.create_run(plan, {task.id: task})
            start = time.perf_counter()
            engine.execute(plan, CancelToken(), options=options)
            wall = time.perf_counter() - start
            engine.close()
        else:
            bus = EventBus()
            bus.subscribe(keep)
            pool = ProviderPool({})
            pool.put(provider)
            start = time.perf_counter()
            Runner([task], pool, bus, options=options).run(plan, CancelToken())
            wall = time.perf_counter() - start
    loop = sum(f.stats.harness_s for f in finished)
    return wall, loop, sum(f.stats.turns for f in finished)


def main() -> None:
    for label, latency, blocking in (
        ("zero-latency, in-thread provider", 0.0, False),
        ("zero-latency, network-style provider (reader thread)", 0.0, True),
        ("20 ms/turn provider", 0.020, True),
    ):
        harness, wall, turns = measure(latency, blocking)
        print(
            f"{label:55s} turns={turns:5d}  harness {1000 * harness / turns:6.3f} ms/turn"
            f"  wall {1000 * wall / turns:7.3f} ms/turn  harness share {100 * harness / wall:5.1f}%"
        )
    print(f"stored run: {STORED_ATTEMPTS} attempts x {STORED_TURNS} turns, zero-latency provider, 1 worker")
    off_wall, off_loop, off_turns = measure_stored(store=False)
    on_wall, on_loop, on_turns = measure_stored(store=True)
    for label, wall, loop, turns in (
        ("baseline: store off", off_wall, off_loop, off_turns),
        ("store on (as users run)", on_wall, on_loop, on_turns),
    ):
        print(
            f"  {label:28s} turns={turns:5d}  run wall {1000 * wall / turns:6.3f} ms/turn"
            f"  loop {1000 * loop / turns:6.3f} ms/turn"
        )
    share = max(0.0, on_wall - off_wall) / on_wall
    print(
        f"  AgentGap's own time per turn with the store on: {1000 * on_wall / on_turns:.3f} ms"
        f"  (store's share {100 * share:.1f}%, store cost {1000 * (on_wall - off_wall) / on_turns:+.3f} ms/turn)"
    )


if __name__ == "__main__":
    main()
