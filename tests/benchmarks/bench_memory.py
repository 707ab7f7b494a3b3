"""How much memory do the app and the command line hold?

1. Builds a database with 2,000 stored attempts (ten runs of the simulated models through
   the engine, as a user's history would hold them), starts the app on it in a fresh
   process, opens every page (Models, Run setup, a stored run on Live run with one of its
   transcripts, History, Compare with every run ticked and each of its tabs) and prints that
   process's peak RSS. Target: under 200 MB.
2. Runs ``agentgap run`` with simulated models for 200 attempts and prints its peak RSS.
   Target: under 90 MiB.

Each beside its baseline from the same run: a bare PySide6 window for the app, a bare
``python -c pass`` for the command line.

    .venv/bin/python tests/benchmarks/bench_memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launch import app_env  # a sibling module: benchmarks run as scripts

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

RUNS, ATTEMPTS_PER_RUN = 10, 200
MODELS = ("competent", "text-caller", "looper", "prose-only", "verifier")
TASKS = (
    "readiness.arguments.flight-search", "readiness.arguments.reminder", "readiness.choose-tool.calendar",
    "readiness.choose-tool.files", "readiness.single-tool.stock", "readiness.single-tool.weather",
    "readiness.chain.order-status", "readiness.parallel.two-cities", "readiness.required-choice.capital",
    "readiness.silence.no-fit",
)  # 5 models x 10 tasks x 4 repeats = 200 attempts

_GUI_PROBE = """
import os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

qt_app = QApplication([sys.argv[0]])
mode = sys.argv[1]


def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1.0


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0


def finish():
    if os.environ.get("BENCH_STEPS"):
        print("MODULES", " ".join(sorted({m.split(".")[0] for m in sys.modules})), flush=True)
    print(f"PEAK {peak_mb():.1f} RSS {rss_mb():.1f}", flush=True)
    os._exit(0)


if mode == "bare":
    window = QMainWindow()
    window.resize(1180, 760)
    window.show()
    QTimer.singleShot(500, finish)
    sys.exit(qt_app.exec())

steps = []


def window():
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible() and getattr(w, "pages_ready", True)]  # without it: built before shown
    return found[0] if found else None


def wait(condition, then, limit=600):
    def poll(left=limit):
        if condition():
            QTimer.singleShot(300, then)  # let what was shown paint
        elif left <= 0:
            print("TIMEOUT", flush=True)
            finish()
        else:
            QTimer.singleShot(100, lambda: poll(left - 1))
    poll()


def run_steps():
    print(f"STEP {len(steps)} left: RSS {rss_mb():.1f} MiB, peak {peak_mb():.1f} MiB", flush=True)
    if not steps:
        finish()
        return
    steps.pop(0)()


def show(page):
    window().show_page(page)
    QTimer.singleShot(500, run_steps)


def open_largest_run():
    w = window()
    runs = w.engine.repository.list_runs(limit=500)
    w.open_run(runs[0].id)
    wait(lambda: w.live_page.state is not None and w.live_page.state.run_id == runs[0].id, open_transcript)


def open_transcript():
    live = window().live_page
    grid = live.grid
    if grid.model().rowCount() and grid.model().columnCount() > 1:
        grid.setCurrentIndex(grid.model().index(0, 1))
    QTimer.singleShot(300, pick_attempt)


def pick_attempt():
    table = window().live_page.attempt_table
    if table.model().rowCount():
        table.setCurrentIndex(table.model().index(0, 0))
    QTimer.singleShot(800, run_steps)


def compare_all():
    w = window()
    runs = [r.id for r in w.engine.repository.list_runs(limit=500)]
    computed = []
    w.compare_page.computed.connect(computed.append)
    w.compare_runs(runs)
    wait(lambda: bool(computed), visit_tabs)


def visit_tabs():
    tabs = window().compare_page.tabs
    def step(i=0):
        if i >= tabs.count():
            run_steps()
            return
        tabs.setCurrentIndex(i)
        QTimer.singleShot(400, lambda: step(i + 1))
    step()


def start():
    w = window()
    if w is None or w.models_page.discovering:
        QTimer.singleShot(100, start)
        return
    steps.extend([lambda: show(1), open_largest_run, lambda: show(3), compare_all, lambda: show(0)])
    run_steps()


QTimer.singleShot(100, start)
from app.__main__ import main
sys.exit(main(["--db", sys.argv[2]]))
"""


def build_history(db_path: Path) -> int:
    """Ten stored runs of 200 attempts each, run by the engine with the simulated models."""
    from app.core.cancel import CancelToken
    from app.core.config import AppSettings
    from app.core.engine import Engine

    engine = Engine(db_path=db_path, settings=AppSettings(), simulated_pace=0.0)
    try:
        models = [engine.parse_model(f"sim:{name}") for name in MODELS]
        tasks = [engine.catalog.task(task_id) for task_id in TASKS]
        for i in range(RUNS):
            plan = engine.plan(models, tasks, repeats=ATTEMPTS_PER_RUN // (len(MODELS) * len(TASKS)), name=f"history {i + 1}")
            engine.execute(plan, CancelToken())
        return sum(len(engine.repository.attempts(r.id)) for r in engine.repository.list_runs(limit=RUNS))
    finally:
        engine.close()


def gui_peak(mode: str, db_path: Path, env: dict[str, str]) -> tuple[float, float]:
    result = subprocess.run(
        [sys.executable, "-c", _GUI_PROBE, mode, str(db_path)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    if os.environ.get("BENCH_STEPS"):  # BENCH_STEPS=1: the RSS after each step, and the modules held
        print(result.stdout)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PEAK")]
    if not lines or "TIMEOUT" in result.stdout:
        raise RuntimeError(f"{mode}: no figure\n{result.stdout}\n{result.stderr[-3000:]}")
    _, peak, _, rss = lines[-1].split()
    return float(peak), float(rss)


def child_peak_mib(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Peak RSS (MiB) of one child process, and its wall time."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    return float(result.stdout.strip().splitlines()[-1]), took


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = app_env(home)
        db_path = home / "history.db"
        started = time.perf_counter()
        attempts = build_history(db_path)
        print(f"history: {attempts} attempts in {RUNS} runs, built in {time.perf_counter() - started:.1f} s")
        bare, _ = gui_peak("bare", db_path, env)
        app, app_rss = gui_peak("app", db_path, env)
        print(f"bare PySide6 window          peak RSS {bare:6.1f} MiB")
        print(
            f"app, every page opened       peak RSS {app:6.1f} MiB = {app * 1.048576:.0f} MB"
            f"  (at the end {app_rss:.1f} MiB; target < 200 MB)"
        )

        bare_cli, _ = child_peak_mib([sys.executable, "-c", "pass"], env)
        argv = [sys.executable, "-m", "app", "--db", str(home / "cli.db"), "run", "--pace", "0", "-n", "4"]
        argv += [a for name in MODELS for a in ("--model", f"sim:{name}")]
        argv += [a for task in TASKS for a in ("--task", task)]
        cli, took = child_peak_mib(argv, env)
        print(f"bare python -c pass          peak RSS {bare_cli:6.1f} MiB")
        print(f"agentgap run, 200 attempts   peak RSS {cli:6.1f} MiB  ({took:.1f} s; target < 90 MiB)")


if __name__ == "__main__":
    main()
