"""History: finished runs are listed, open read-only from the store, resume, and delete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.events import RunStarted
from app.core.plan import RunPlan
from app.core.tasks.loader import Task
from app.ui.main import offer_resume
from app.ui.main_window import HISTORY, LIVE, MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import choose, start_run, wait_until


def _basic_tasks(engine: Engine) -> list[Task]:
    return engine.catalog.tasks("readiness", "basic")


def _finished_run(engine: Engine, name: str = "baseline readiness") -> RunPlan:
    models = [engine.parse_model("sim:competent"), engine.parse_model("sim:prose-only")]
    plan = engine.plan(models, _basic_tasks(engine), repeats=1, name=name)
    engine.execute(plan, CancelToken())
    return plan


@pytest.fixture
def engine(tmp_path: Path, settings: AppSettings) -> Engine:
    return Engine(db_path=tmp_path / "agentgap.db", settings=settings, simulated_pace=0.0)


def _history(window: MainWindow) -> list[str]:
    model = window.history_page.model
    return [model.index(r, 1).data() for r in range(model.rowCount())]


def test_history_lists_a_finished_run_and_delete_removes_it_after_confirmation(
    open_window: WindowFactory, engine: Engine, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _finished_run(engine)
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    page = window.history_page
    assert _history(window) == ["baseline readiness"]
    model = page.model
    total = 2 * len(_basic_tasks(engine))
    assert model.index(0, model.ATTEMPTS).data() == f"{total}/{total}"
    assert re.fullmatch(r"\d+%", model.index(0, model.PASS_RATE).data())
    assert "sim:competent" in model.index(0, model.MODELS).data()

    asked: list[str] = []

    def confirm(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", confirm)
    page.table.selectRow(0)
    page.delete_button.click()
    assert asked and "baseline readiness" in asked[0]
    assert _history(window) == []
    assert engine.repository.list_runs(limit=10, offset=0, search=None) == []
    assert "No runs yet" in page.empty.text()
    with pytest.raises(KeyError):
        engine.repository.load_plan(plan.run_id)


def test_declining_the_confirmation_keeps_the_run(
    open_window: WindowFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _finished_run(engine)
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.history_page.table.selectRow(0)
    window.history_page.delete_button.click()
    assert _history(window) == ["baseline readiness"]


def test_filter_and_open_a_stored_run_read_only(open_window: WindowFactory, engine: Engine, qtbot: QtBot) -> None:
    _finished_run(engine, "first")
    _finished_run(engine, "second")
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    page = window.history_page
    assert sorted(_history(window)) == ["first", "second"]
    page.filter.setText("second")
    wait_until(lambda: _history(window) == ["second"], qtbot, timeout_s=5)

    page.table.selectRow(0)
    page.open_button.click()  # loads the run on a worker
    wait_until(lambda: window.stack.currentIndex() == LIVE, qtbot, timeout_s=5)
    live = window.live_page
    assert live.state is not None and not live.state.live
    assert not live.cancel_button.isVisible()
    grid = live.grid_model
    tasks = len(_basic_tasks(engine))
    assert (grid.rowCount(), grid.columnCount()) == (tasks + 1, 2)
    prose_column = [grid.index(r, 1).data() for r in range(tasks)]
    assert "0/1" in prose_column  # the prose-only model fails the tool tasks
    assert live.attempts_model.rowCount() == 2 * tasks
    text = live.transcript.toPlainText()  # the first attempt, loaded from the store
    assert "Outcome" in text and "User" in text


def test_resume_a_cancelled_run_finishes_the_rest(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window(pace=0.3)
    tasks = choose(window, ("competent", "text-caller"), repeats=2)
    state = start_run(window, qtbot)
    wait_until(lambda: state.done >= 1, qtbot)
    with qtbot.waitSignal(window.controller.run_finished, timeout=5_000):
        window.cancel_run()
    run_id = state.run_id
    left = len(window.engine.repository.unfinished_attempts(run_id))
    assert left > 0

    window.show_page(HISTORY)
    page = window.history_page
    page.select_run(run_id)
    assert page.resume_button.isEnabled()
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as finished:
        page.resume_button.click()
    assert not finished.args[0].cancelled
    assert window.engine.repository.unfinished_attempts(run_id) == []
    resumed = window.live_page.state
    assert resumed is not None and resumed.run_id == run_id
    assert resumed.done == resumed.total == 2 * 2 * tasks


def test_a_run_left_running_by_a_crash_is_offered_for_resume_at_start(
    open_window: WindowFactory, engine: Engine, qtbot: QtBot
) -> None:
    models = [engine.parse_model("sim:competent")]
    plan = engine.plan(models, _basic_tasks(engine), repeats=1, name="left running")
    # What a crash leaves behind: the run was announced as running and never finished.
    count = len(plan.attempts)
    engine.bus.publish(RunStarted(run_id=plan.run_id, total_attempts=count, pending_attempts=count))
    assert engine.writer.flush()
    window = open_window(engine=engine)
    offer_resume(window)

    page = window.history_page
    assert window.stack.currentIndex() == HISTORY
    assert page.banner.isVisibleTo(window)
    assert "stopped when AgentGap last closed" in page.banner_text.text()
    assert "left running" in page.banner_resume.text()
    with qtbot.waitSignal(window.controller.run_finished, timeout=20_000):
        page.banner_resume.click()
    assert engine.repository.unfinished_attempts(plan.run_id) == []
    assert engine.repository.run_summary(plan.run_id).status == "finished"


def test_runs_that_differ_only_in_mode_are_told_apart(open_window: WindowFactory, engine: Engine, qtbot: QtBot) -> None:
    from app.core.outcomes import ToolMode
    from app.core.plan import AttemptSettings

    models, tasks = [engine.parse_model("sim:competent")], _basic_tasks(engine)[:2]
    named = [engine.plan(models, tasks, repeats=1, name="same name", settings=[AttemptSettings(tool_mode=mode)])
             for mode in (ToolMode.RECOVERY, ToolMode.NATIVE)]
    unnamed = [engine.plan(models, tasks, repeats=1, settings=[AttemptSettings(tool_mode=mode)])
               for mode in (ToolMode.RECOVERY, ToolMode.NATIVE)]
    for plan in (*named, *unnamed):
        engine.execute(plan, CancelToken())
    assert unnamed[0].name != unnamed[1].name and "native" in unnamed[1].name  # default names carry the mode
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    model = window.history_page.model
    wait_until(lambda: model.rowCount() == 4, qtbot)
    rows = {model.run_at(r).id: (model.index(r, model.NAME).data(), model.index(r, model.MODE).data())
            for r in range(model.rowCount())}
    assert rows[named[0].run_id] == ("same name · recovery", "recovery")
    assert rows[named[1].run_id] == ("same name · native", "native")
    assert len({name for name, _ in rows.values()}) == 4
    assert model.headerData(model.MODE, Qt.Orientation.Horizontal) == "Mode"
    compare = window.compare_page
    compare.reload()
    assert any(compare.runs.item(i).text().startswith("same name · native") for i in range(compare.runs.count()))
