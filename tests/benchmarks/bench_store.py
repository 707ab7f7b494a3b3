"""The store at scale: bulk-insert 300,000 attempts across 50 runs, then time the reads.

    .venv/bin/python tests/benchmarks/bench_store.py [--attempts 300000] [--runs 50] [--db FILE]

Seeds through the real migrations (``open_database``) with Core ``insert()`` in large
batches (then fills the summary totals with ``rebuild_totals``), then prints the time of the history list (``list_runs(limit=100)``), the
per-task pass table over every run, and a few single-run reads. Not collected by
pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert

from app.core.outcomes import Outcome
from app.core.store.aggregates import cell_stats
from app.core.store.database import Database, open_database
from app.core.store.models import AttemptRow, ModelRow, RunRow, TaskRow
from app.core.store.repository import Repository
from app.core.store.totals import rebuild_totals

T = TypeVar("T")
OUTCOMES = [o.value for o in Outcome if o is not Outcome.CANCELLED]
SUITES = ("readiness", "api-chain", "coding", "oneshot")
BATCH = 50_000


def seed(db: Database, attempts: int, runs: int, models: int = 8, tasks: int = 56) -> None:
    rng = random.Random(7)
    now = time.time()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB: index pages stay in memory
        connection.execute(insert(ModelRow), [
            {"id": m + 1, "provider": "ollama", "host": "http://localhost:11434", "name": f"model-{m}:7b",
             "digest": f"sha256:{m:064x}", "label": f"localhost:11434/model-{m}:7b", "details_json": "{}"}
            for m in range(models)
        ])
        connection.execute(insert(TaskRow), [
            {"id": t + 1, "suite": SUITES[t % 4], "task_id": f"{SUITES[t % 4]}.task-{t}", "tier": f"tier-{t % 3}",
             "content_hash": f"{t:016x}", "title": f"Task {t}"}
            for t in range(tasks)
        ])
        connection.execute(insert(RunRow), [
            {"id": f"run{r:04d}", "name": f"nightly {r}", "created_at": now - r * 3600, "finished_at": now,
             "status": "finished" if r else "interrupted", "app_version": "0.1.0", "notes_json": "{}"}
            for r in range(runs)
        ])
        per_run = attempts // runs
        batch: list[dict[str, Any]] = []
        for r in range(runs):
            for i in range(per_run):
                pending = r == 0 and i >= per_run // 2  # one interrupted run, half done
                roll = rng.random()
                outcome = None if pending else ("passed" if roll < 0.4 else OUTCOMES[int(roll * 1000) % len(OUTCOMES)])
                batch.append({
                    "id": f"run{r:04d}-{i:06d}", "run_id": f"run{r:04d}", "seq": i,
                    "model_id": 1 + i % models, "task_row_id": 1 + (i // models) % tasks,
                    "repeat": i // (models * tasks), "settings_key": f"k{i % 2}", "settings_label": "",
                    "settings_json": "{}", "status": "pending" if pending else "done", "outcome": outcome,
                    "score": None if pending else float(outcome == "passed"), "detail": "", "final_answer": "",
                    "infra_retries": 0, "turns": 1 + int(roll * 10), "calls_valid": 2, "calls_recovered": 0,
                    "calls_malformed": int(roll > 0.8), "calls_rejected": 0, "prompt_tokens": 400,
                    "completion_tokens": 200, "tokens_per_s": 20 + 100 * rng.random(),
                    "wall_s": 0.5 + 20 * roll, "checks_json": "[]",
                })
                if len(batch) >= BATCH:
                    connection.execute(insert(AttemptRow), batch)
                    batch = []
        if batch:
            connection.execute(insert(AttemptRow), batch)
        rebuild_totals(connection)  # the bulk load skipped the summary totals the store keeps


def timed(label: str, fn: Callable[[], T], repeat: int = 3) -> T:
    """Best of ``repeat`` runs (the first one also warms SQLite's page cache)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    print(f"{label:58s} {best * 1000:8.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", type=Path, help="keep the seeded database here (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.db"
        db = open_database(path)
        started = time.perf_counter()
        seed(db, args.attempts, args.runs)
        print(f"{f'seed {args.attempts:,} attempts in {args.runs} runs (Core insert)':58s} "
              f"{time.perf_counter() - started:8.2f} s")
        repo = Repository(db)
        ids = [r.id for r in repo.list_runs(limit=10_000)]
        runs = timed("list_runs(limit=100)", lambda: repo.list_runs(limit=100))
        assert len(runs) == min(100, args.runs) and runs[0].pass_rate is not None
        timed("list_runs(limit=100, search='model-3')", lambda: repo.list_runs(limit=100, search="model-3"))
        table = timed(f"task_pass_table over all {len(ids)} runs", lambda: repo.task_pass_table(ids))
        assert sum(row.total for row in table) == args.attempts // args.runs * args.runs
        timed("task_pass_table of one run", lambda: repo.task_pass_table(ids[:1]))
        timed(f"cell_stats over all {len(ids)} runs", lambda: cell_stats(db, ids))
        timed("run_summary(one run)", lambda: repo.run_summary(ids[0]))
        timed("interrupted_runs()", repo.interrupted_runs)
        timed(f"attempts(one run: {args.attempts // args.runs:,})", lambda: repo.attempts(ids[0]))
        timed("unfinished_attempts(interrupted run)", lambda: repo.unfinished_attempts(ids[0]))
        db.close()


if __name__ == "__main__":
    main()
