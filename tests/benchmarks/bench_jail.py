"""What does the jail cost? Per command and per attempt, median over 100 each, under
bubblewrap and under process isolation only.

Per command: ``true`` and ``python -c pass`` in a workspace. Per attempt: the reference
solution of ``coding.read-fix-write`` through the real loop (three tool calls, one of
them no command) and its checks (hidden pytest run and probe, each in a fresh jail).

    .venv/bin/python tests/benchmarks/bench_jail.py [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.agent.attempt import run_attempt  # noqa: E402
from app.core.cancel import CancelToken  # noqa: E402
from app.core.modelref import ModelRef  # noqa: E402
from app.core.providers.base import ProviderKind  # noqa: E402
from app.core.providers.simulated import SimulatedProvider  # noqa: E402
from app.core.runner import plan_run  # noqa: E402
from app.core.tasks.jail import IsolationLevel, isolation_level  # noqa: E402
from app.core.tasks.loader import load_catalog  # noqa: E402
from app.core.tasks.sandbox import Sandbox  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def per_command(level: IsolationLevel, argv: list[str]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        box = Sandbox(Path(folder), isolation=level)
        samples = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            result = box.run(argv)
            samples.append(time.perf_counter() - started)
            assert result.exit_code == 0, result.output
    return _median_ms(samples)


def per_attempt(level: IsolationLevel) -> float:
    os.environ["AGENTGAP_ISOLATION"] = "process" if level is IsolationLevel.PROCESS else ""
    task = load_catalog([REPO / "tasks"]).task("coding.read-fix-write")
    provider = SimulatedProvider(pace=0.0)
    samples = []
    for _ in range(REPEATS):
        plan = plan_run([ModelRef(ProviderKind.SIMULATED, "sim", "reference")], [task], repeats=1)
        started = time.perf_counter()
        finished = run_attempt(plan.attempts[0], task, provider, lambda e: None, CancelToken())
        samples.append(time.perf_counter() - started)
        assert finished.outcome.value == "passed", finished.detail
    return _median_ms(samples)


def main() -> None:
    levels = [IsolationLevel.PROCESS]
    if isolation_level() is IsolationLevel.BUBBLEWRAP:
        levels.append(IsolationLevel.BUBBLEWRAP)
    else:
        print("bubblewrap is not available here: only process isolation is measured")
    rows: dict[str, dict[IsolationLevel, float]] = {}
    for level in levels:
        rows.setdefault("command `true`", {})[level] = per_command(level, ["true"])
        rows.setdefault("command `python -c pass`", {})[level] = per_command(level, ["python", "-c", "pass"])
        rows.setdefault("attempt (read-fix-write, reference)", {})[level] = per_attempt(level)
    print(f"median of {REPEATS}, milliseconds")
    print(f"{'':40} {'process':>10} {'bubblewrap':>11} {'jail cost':>10}")
    for name, by_level in rows.items():
        process = by_level[IsolationLevel.PROCESS]
        jail = by_level.get(IsolationLevel.BUBBLEWRAP)
        cost = f"{jail - process:+.1f}" if jail is not None else "-"
        shown = f"{jail:.1f}" if jail is not None else "-"
        print(f"{name:40} {process:10.1f} {shown:>11} {cost:>10}")


if __name__ == "__main__":
    main()
