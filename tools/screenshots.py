"""Regenerate the screenshots in docs/screenshots/ (light and dark) from the real app.

Drives the main window offscreen over a temporary database with the simulated models
(pace 1, so the live run is caught mid-stream) and saves one PNG per main screen:
models (no server: the empty state), run-setup, live-run, history, preferences,
sweep-builder, tuning and ceilings (a sweep and a budget-ceiling run on the Compare page),
the verdict at the end of a demo run, and Compare's verdict, failure modes, heatmap, gap,
raw vs harness and attempts views over the demo run and a native-mode run. Shots are
1280×720; the verdict and Compare are also taken at 1440×900 (``-1440`` in the name).

    .venv/bin/python tools/screenshots.py            # both themes
    .venv/bin/python tools/screenshots.py --theme dark
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.engine import Engine

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIZE = (1280, 720)
LARGE = (1440, 900)


def _port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _isolate() -> None:
    """Temporary data folder, settings and keyring; no real model server in sight."""
    home = Path(tempfile.mkdtemp(prefix="agentgap-shots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["AGENTGAP_HOME"] = str(home)
    os.environ["AGENTGAP_CONFIG"] = str(home / "settings.json")
    os.environ["XDG_CONFIG_HOME"] = str(home / "qt")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    # The default address reads best in a screenshot; use it only if nothing answers there.
    port = 11434 if _port_is_closed(11434) else _closed_port()
    os.environ["OLLAMA_HOST"] = f"localhost:{port}"


def shoot(theme_name: str) -> list[Path]:
    """Take every screenshot with one palette; returns the files written."""
    _isolate()
    sys.path.insert(0, str(REPO))
    from PySide6.QtWidgets import QApplication, QWidget

    from app.core.config import AppSettings
    from app.core.engine import Engine
    from app.core.tuning.factors import Factor
    from app.ui.dialogs.settings_dialog import SettingsDialog
    from app.ui.main_window import COMPARE, HISTORY, MainWindow
    from app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName("AgentGap")
    app.setApplicationName("AgentGap")
    apply_theme(app, theme_name)
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def pump(seconds: float = 0.2, until: Callable[[], bool] | None = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if until is not None and until():
                return
            time.sleep(0.01)
        if until is not None and not until():
            raise TimeoutError("the app did not reach the state to photograph")

    def save(widget: QWidget, name: str, settle: float = 0.3, suffix: str = "") -> None:
        pump(settle)
        path = OUT / f"{name}-{theme_name}{suffix}.png"
        widget.grab().save(str(path))
        written.append(path)

    db = Path(os.environ["AGENTGAP_HOME"]) / "agentgap.db"
    history_engine = Engine(db_path=db, settings=AppSettings(), simulated_pace=0.0)
    _seed_history(history_engine)
    history_engine.close()

    engine = Engine(db_path=db, settings=AppSettings(), simulated_pace=1.0)
    window = MainWindow(engine)
    window.resize(*SIZE)
    window.show()
    setup = window.setup_page
    pump(15, until=lambda: setup.model_choices.rowCount() > 0 and not window.models_page.discovering)
    save(window, "models")

    window.models_page.demo_button.click()
    setup.model_choices.check_only(
        lambda m: m.simulated and m.name in ("competent", "text-caller", "looper", "prose-only")
    )
    setup.name.setText("Demo: four simulated models")
    save(window, "run-setup")

    setup.start_button.click()
    live = window.live_page
    pump(
        90,
        until=lambda: window.controller.running
        and "recovered from" in live.transcript.toPlainText()
        and "Result" in live.transcript.toPlainText(),
    )
    save(window, "live-run", settle=0.06)  # mid-stream: no time for the view to move on

    window.show_page(HISTORY)
    cancelled = next(r for r in engine.repository.list_runs(limit=10, offset=0, search=None)
                     if r.name == "Cancelled half-way")
    window.history_page.select_run(cancelled.id)
    save(window, "history")

    dialog = SettingsDialog(engine.settings, window)
    dialog.show()
    save(dialog, "preferences")
    dialog.close()

    window.controller.cancel()
    pump(10, until=lambda: not window.controller.running)
    setup.model_choices.check_only(lambda m: m.simulated and m.name == "text-caller")
    builder = setup.sweep_dialog()
    for factor, values in ((Factor.TEMPERATURE, "0, 1.0"), (Factor.TOOL_MODE, "native, prompted"),
                           (Factor.DIRECTIVE, "completeness")):
        builder.rows[factor].enabled.setChecked(True)
        builder.rows[factor].values.setText(values)
    builder.show()
    save(builder, "sweep-builder")
    builder.close()

    window.show_page(COMPARE)
    compare = window.compare_page
    compare.reload()
    wanted = {r.id for r in engine.repository.list_runs(limit=20) if r.name.startswith(("sweep", "budget"))}
    compare.tick_runs(sorted(wanted))
    pump(20, until=lambda: compare.data is not None and len(compare.data.runs) == len(wanted))
    compare.tabs.setCurrentWidget(compare.tuning)
    save(window, "tuning", settle=0.6)
    compare.tuning.tables.setCurrentIndex(1)  # budget ceilings: chart and table
    save(window, "ceilings", settle=0.6)

    runs = {r.name: r.id for r in engine.repository.list_runs(limit=50)}
    demo, native = runs[DEMO_RUN], runs[NATIVE_RUN]
    window.open_run(demo)
    pump(30, until=lambda: window.live_page.verdict_box.isVisible())
    save(window, "verdict", settle=0.5)
    window.compare_runs([demo, native])
    pump(30, until=lambda: compare.data is not None and {r.id for r in compare.data.runs} == {demo, native})
    for tab, name in ((compare.by_tier, "compare"), (compare.failures, "failure-modes"),
                      (compare.heatmap, "heatmap"), (compare.gap, "agent-vs-code"), (compare.modes, "raw-vs-harness")):
        compare.tabs.setCurrentWidget(tab)
        save(window, name, settle=0.5)
    looper = next(r.name for r in compare.verdict.verdict.rows if r.name.startswith("sim:looper"))  # type: ignore[union-attr]
    verifier = next(r.name for r in compare.verdict.verdict.rows if r.name.startswith("sim:verifier"))  # type: ignore[union-attr]
    compare.show_failures(looper)
    compare.browser.compare_same_task()  # the looper beside models that ended otherwise, turns aligned
    save(window, "attempts", settle=0.5)
    compare.browser.clear_beside()
    compare.browser.put_beside()
    compare.browser.focus(verifier, None, failures_only=True)
    save(window, "attempts-beside", settle=0.5)
    window.resize(*LARGE)
    compare.browser.clear_beside()
    compare.tabs.setCurrentWidget(compare.by_tier)
    save(window, "compare", settle=0.6, suffix="-1440")
    window.open_run(demo)
    pump(30, until=lambda: window.live_page.state is not None and window.live_page.verdict_box.isVisible())
    save(window, "verdict", settle=0.6, suffix="-1440")
    window.close()
    return written


DEMO_RUN = "Demo: every simulated model, readiness and one-shot code"
NATIVE_RUN = "The same, native tool calls only (three models)"


def _seed_history(engine: Engine) -> None:
    """Two finished runs and one cancelled run, so History has something to show."""
    from app.core.cancel import CancelToken
    from app.core.chat import GenerationSettings
    from app.core.events import AttemptFinished, Event
    from app.core.outcomes import ToolMode
    from app.core.plan import AttemptSettings
    from app.core.tuning.factors import Factor

    tasks = engine.catalog.tasks("readiness")
    sim = [engine.parse_model(f"sim:{n}") for n in ("competent", "text-caller", "verifier", "overthinker")]
    raw = AttemptSettings(tool_mode=ToolMode.NATIVE, generation=GenerationSettings(temperature=0.0))
    for models, settings, name in (
        (sim, AttemptSettings(), "Readiness, three demo models"),
        (sim[:2], raw, "Raw score: native tool calls only, temperature 0"),
    ):
        plan = engine.plan(models, tasks, repeats=3, settings=[settings], name=name)
        engine.execute(plan, CancelToken())
    from app.core.providers.simulated import PROFILES

    demo = [engine.parse_model(f"sim:{n}") for n in PROFILES]
    code = engine.catalog.tasks("oneshot")
    engine.execute(engine.plan(demo, tasks + code, repeats=2, name=DEMO_RUN), CancelToken())
    native = AttemptSettings(tool_mode=ToolMode.NATIVE)
    engine.execute(engine.plan(demo[:3], tasks, repeats=2, settings=[native], name=NATIVE_RUN), CancelToken())
    plan = engine.plan(sim[1:], tasks, repeats=3, name="Cancelled half-way")
    token = CancelToken()
    done = 0

    def cancel_after_some(event: Event) -> None:
        nonlocal done
        if isinstance(event, AttemptFinished):
            done += 1
            if done >= 20:
                token.cancel()

    unsubscribe = engine.bus.subscribe(cancel_after_some)
    engine.execute(plan, token)
    unsubscribe()

    from app.core.tuning.sweep import SweepSpec

    basic = engine.catalog.tasks("readiness", "basic") + engine.catalog.tasks("readiness", "protocol")
    spec = SweepSpec(raw, {Factor.TOOL_MODE: ["recovery", "prompted"], Factor.TEMPERATURE: [0.7]}, repeats=3)
    sweep = engine.plan_sweep(sim[1], basic, spec)
    engine.execute(sweep, CancelToken())
    first = engine.repository.list_runs(limit=10)[-1]
    engine.execute(engine.plan_ceiling([first.id]), CancelToken())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), help="one palette only (default: both)")
    args = parser.parse_args()
    if args.theme:
        for path in shoot(args.theme):
            print(path.relative_to(REPO))
        return 0
    status = 0
    for name in ("light", "dark"):  # one process per palette: a clean QApplication each
        status |= subprocess.call([sys.executable, __file__, "--theme", name])
    return status


if __name__ == "__main__":
    sys.exit(main())
