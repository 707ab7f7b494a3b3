"""``agentgap --smoke``: prove an installation works, headless, in a few seconds.

Starts the GUI stack without showing a window, opens a temporary database, loads
every task suite, runs one simulated attempt through the real loop, prints one
line and exits 0 — or prints the reason and exits 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path


def run_smoke() -> int:
    started = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        with tempfile.TemporaryDirectory(prefix="agentgap-smoke-") as home:
            os.environ["AGENTGAP_HOME"] = home
            os.environ["AGENTGAP_CONFIG"] = str(Path(home) / "settings.json")
            summary = _check(Path(home))
    except Exception as error:  # the reason, in one line, and the traceback for the log
        traceback.print_exc(file=sys.stderr)
        print(f"smoke: FAILED: {type(error).__name__}: {error}")
        return 1
    print(f"smoke: ok in {time.perf_counter() - started:.1f}s: {summary}")
    return 0


def _check(home: Path) -> str:
    from PySide6.QtWidgets import QApplication

    from app import __version__
    from app.core.cancel import CancelToken
    from app.core.config import AppSettings, HostConfig
    from app.core.engine import Engine
    from app.core.modelref import ModelRef
    from app.core.providers.base import ProviderKind
    from app.ui.main_window import MainWindow

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    # a host nobody listens on, so the check never depends on a local server
    settings = AppSettings(hosts=[HostConfig(kind="ollama", url="http://127.0.0.1:9")])
    engine = Engine(db_path=home / "smoke.db", settings=settings, simulated_pace=0.0)
    window = MainWindow(engine, owns_engine=False)
    try:
        catalog = engine.catalog
        if catalog.errors:
            raise RuntimeError(f"{len(catalog.errors)} task file(s) failed to load: {catalog.errors[0]}")
        tasks = catalog.tasks()
        if not tasks:
            raise RuntimeError("no task suites found in the bundle")
        task = catalog.task("readiness.single-tool.weather")
        plan = engine.plan([ModelRef(ProviderKind.SIMULATED, "sim", "competent")], [task], repeats=1)
        engine.execute(plan, CancelToken())
        attempts = engine.repository.attempts(plan.run_id)
        outcome = attempts[0].outcome
        if outcome is None or outcome.value != "passed":
            raise RuntimeError(f"the simulated attempt ended as {outcome}, expected passed")
        qt_app.processEvents()
    finally:
        window.close()
        engine.close()
    return (
        f"AgentGap {__version__}, {len(catalog.suites)} suites / {len(tasks)} tasks loaded, "
        f"1 simulated attempt {outcome.value}, database and GUI ok"
    )
