"""History at scale: seed 1,000,000 attempts, then time what a user waits for.

    .venv/bin/python tests/benchmarks/bench_history.py [--attempts 1000000] [--keep big.db]

Prints: seeding time, the history list, the compare view's aggregates and the HTML
export. Targets: compare over all of them under 0.2 s, the HTML export under 1 s.
``--keep FILE`` seeds FILE once and times the later runs on it (seeding takes a minute).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert

from app.core.outcomes import Outcome
from app.core.reports.data import build_report
from app.core.reports.export import to_html
from app.core.store.database import open_database
from app.core.store.models import AttemptRow, ModelRow, RunRow, TaskRow
from app.core.store.repository import Repository
from app.core.store.totals import rebuild_totals

OUTCOMES = [o.value for o in Outcome if o is not Outcome.CANCELLED]


def seed(repo_path: Path, attempts: int, runs: int = 50, models: int = 8, tasks: int = 56) -> Repository:
    db = open_database(repo_path)
    rng = random.Random(7)
    with db.sessions.begin() as session:
        session.execute(insert(ModelRow), [
            {"id": m + 1, "provider": "ollama", "host": "http://localhost:11434", "name": f"model-{m}:7b",
             "digest": f"d{m}", "label": f"localhost:11434/model-{m}:7b"} for m in range(models)])
        suites = ["readiness", "api-chain", "coding", "oneshot"]
        session.execute(insert(TaskRow), [
            {"id": t + 1, "suite": suites[t % 4], "task_id": f"{suites[t % 4]}.task-{t}", "tier": f"tier-{t % 3}",
             "content_hash": f"h{t}", "title": f"Task {t}"} for t in range(tasks)])
        session.execute(insert(RunRow), [
            {"id": f"run{r:04d}", "name": f"run {r}", "created_at": time.time() - r * 3600, "status": "finished",
             "app_version": "0.1.0", "notes_json": "{}"} for r in range(runs)])
    per_run = attempts // runs
    batch: list[dict[str, object]] = []
    for r in range(runs):
        for i in range(per_run):
            outcome = OUTCOMES[rng.randrange(len(OUTCOMES))] if rng.random() < 0.6 else "passed"
            batch.append({
                "id": f"run{r:04d}-{i:06d}", "run_id": f"run{r:04d}", "seq": i, "model_id": 1 + i % models,
                "task_row_id": 1 + (i // models) % tasks, "repeat": i // (models * tasks), "settings_key": "k",
                "settings_label": "", "settings_json": "{}", "status": "done", "outcome": outcome,
                "score": 1.0 if outcome == "passed" else 0.0, "detail": "", "final_answer": "", "infra_retries": 0,
                "turns": rng.randint(1, 10), "calls_valid": 2, "calls_recovered": 0, "calls_malformed": rng.randint(0, 1),
                "calls_rejected": 0, "prompt_tokens": 400, "completion_tokens": 200, "tokens_per_s": rng.uniform(20, 120),
                "wall_s": rng.uniform(0.5, 20), "checks_json": "[]",
            })
            if len(batch) >= 20_000:
                with db.sessions.begin() as session:
                    session.execute(insert(AttemptRow), batch)
                batch = []
    if batch:
        with db.sessions.begin() as session:
            session.execute(insert(AttemptRow), batch)
    with db.engine.begin() as connection:  # the bulk load skipped the summary totals the store keeps
        rebuild_totals(connection)
    return Repository(db)


def timed(label: str, fn: object) -> object:
    started = time.perf_counter()
    result = fn()  # type: ignore[operator]
    print(f"{label:55s} {time.perf_counter() - started:7.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="seed this file once and reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "big.db"
        if path.exists():
            repo = Repository(open_database(path))
            with repo.database.engine.connect() as connection:
                args.attempts = int(connection.exec_driver_sql("SELECT count(*) FROM attempts").scalar() or 0)
        else:
            repo = timed(f"seed {args.attempts:,} attempts", lambda: seed(path, args.attempts))
        assert isinstance(repo, Repository)
        ids = [r.id for r in repo.list_runs(limit=1000)]
        timed("history: list_runs(limit=100)", lambda: repo.list_runs(limit=100))
        timed(f"compare view: one run ({args.attempts // len(ids):,} attempts)",
              lambda: build_report(repo, ids[:1], failure_examples=0, with_attempts=False))
        data = timed(f"compare view: all {len(ids)} runs ({args.attempts:,} attempts)",
                     lambda: build_report(repo, ids, failure_examples=0, with_attempts=False))
        timed("HTML export of all runs (with 12 failure transcripts)",
              lambda: to_html(build_report(repo, ids, with_attempts=False)))
        assert data is not None


if __name__ == "__main__":
    main()
