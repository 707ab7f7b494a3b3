"""How much time does the harness itself add per turn?

Runs 1,000 turns against a zero-latency scripted provider (100 attempts × 10 turns),
then against one that takes 20 ms per turn, and prints our own time per turn and its
share of wall time. Target: under 2 ms per turn.

    .venv/bin/python tests/benchmarks/bench_harness.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.agent.attempt import run_attempt  # noqa: E402
from app.core.cancel import CancelToken  # noqa: E402
from app.core.chat import ChatRequest  # noqa: E402
from app.core.events import AttemptFinished, Event  # noqa: E402
from app.core.modelref import ModelRef  # noqa: E402
from app.core.plan import AttemptSettings  # noqa: E402
from app.core.providers.base import ProviderKind  # noqa: E402
from app.core.runner import plan_run  # noqa: E402
from app.core.tasks.loader import load_catalog  # noqa: E402
from tests.fakes.scripted_provider import ScriptedProvider, Turn  # noqa: E402

TURNS_PER_ATTEMPT = 10
ATTEMPTS = 100


def _provider(latency_s: float, blocking: bool) -> ScriptedProvider:
    def respond(request: ChatRequest) -> Turn:
        turn = sum(1 for m in request.messages if m.role == "assistant")
        if turn + 1 >= TURNS_PER_ATTEMPT:
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


if __name__ == "__main__":
    main()
