"""The verdict answers "which model, and why did the others fail?" at the end of a run and
on Compare; every chart mark opens the attempts it stands for; unlike settings stay apart."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.ui.charts.chart_frame import MarkFilter
from app.ui.main_window import COMPARE, HISTORY, LIVE
from app.ui.pages.compare_page import ComparePage
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import choose, start_run, wait_until


def _engine(tmp_path: Path, settings: AppSettings) -> Engine:
    return Engine(db_path=tmp_path / "v.db", settings=settings, simulated_pace=0.0)


def _compare(window_factory: WindowFactory, engine: Engine, qtbot: QtBot, run_ids: list[str]) -> ComparePage:
    window = window_factory(engine=engine)
    window.compare_runs(run_ids)
    page = window.compare_page
    wait_until(lambda: page.data is not None and {r.id for r in page.data.runs} == set(run_ids), qtbot)
    return page


def test_a_finished_run_shows_its_verdict_and_is_ticked_on_compare(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window()
    choose(window, ("competent", "looper", "prose-only"), repeats=2)
    with qtbot.waitSignal(window.controller.run_finished, timeout=60_000):
        state = start_run(window, qtbot)
    live = window.live_page
    wait_until(lambda: live.verdict_box.isVisible(), qtbot)
    verdict = live.verdict.verdict
    assert verdict is not None
    assert verdict.rows[0].name == "sim:competent"  # ranked by agent score
    scores = [r.agent.value or 0 for r in verdict.rows]
    assert scores == sorted(scores, reverse=True)
    assert verdict.recommendation.startswith("Use sim:competent")
    assert live.verdict.table.rowCount() == 3
    assert window.compare_page.selected_run_ids() == [state.run_id]  # Compare ticks it

    # one click from the verdict opens the failing transcripts of a model
    looper_row = next(i for i, r in enumerate(verdict.rows) if r.name == "sim:looper")
    button = live.verdict.table.cellWidget(looper_row, live.verdict.table.columnCount() - 1)
    assert isinstance(button, QPushButton)
    button.click()
    page = window.compare_page
    wait_until(lambda: page.tabs.currentWidget() is page.browser and page.browser.records != [], qtbot)
    assert window.stack.currentIndex() == COMPARE
    assert {r.model for r in page.browser.records} == {"sim:looper"}
    assert all(r.outcome is not None and not r.outcome.is_pass for r in page.browser.records)
    assert page.browser.comparison.shown_ids[0] == page.browser.records[0].id


def test_history_compares_selected_runs_and_enter_opens_one(open_window: WindowFactory, tmp_path: Path,
                                                            settings: AppSettings, qtbot: QtBot) -> None:
    engine = _engine(tmp_path, settings)
    tasks = engine.catalog.tasks("readiness", "basic")[:2]
    first = engine.plan([engine.parse_model("sim:competent")], tasks, repeats=1, name="first")
    second = engine.plan([engine.parse_model("sim:looper")], tasks, repeats=1, name="second")
    for plan in (first, second):
        engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    page = window.history_page
    wait_until(lambda: page.model.rowCount() == 2, qtbot)
    page.table.selectAll()
    assert set(page.selected_run_ids()) == {first.run_id, second.run_id}
    page.compare_button.click()
    assert window.stack.currentIndex() == COMPARE
    assert set(window.compare_page.selected_run_ids()) == {first.run_id, second.run_id}

    window.show_page(HISTORY)
    page.select_run(first.run_id)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    wait_until(lambda: window.stack.currentIndex() == LIVE, qtbot)
    assert window.live_page.state is not None and window.live_page.state.run_id == first.run_id
    assert QKeySequence(Qt.Key.Key_Return).toString() == "Return"


def test_runs_in_different_tool_modes_are_never_pooled(open_window: WindowFactory, tmp_path: Path,
                                                       settings: AppSettings, qtbot: QtBot) -> None:
    engine = _engine(tmp_path, settings)
    basic = engine.catalog.tasks("readiness", "basic")
    text_caller, competent = engine.parse_model("sim:text-caller"), engine.parse_model("sim:competent")
    harness = engine.plan([text_caller, competent], basic, repeats=1, name="harness")
    raw = engine.plan([text_caller], basic[:3], repeats=1, name="raw",
                      settings=[AttemptSettings(tool_mode=ToolMode.NATIVE)])
    for plan in (harness, raw):
        engine.execute(plan, CancelToken())
    page = _compare(open_window, engine, qtbot, [harness.run_id, raw.run_id])
    data = page.data
    assert data is not None
    names = [m.model for m in data.models]
    assert names == ["sim:competent [recovery]", "sim:text-caller [native]", "sim:text-caller [recovery]"]
    by_name = {m.model: m for m in data.models}
    assert by_name["sim:text-caller [native]"].agent.value == 0.0  # raw: its text calls are not parsed
    assert (by_name["sim:text-caller [recovery]"].agent.value or 0) > 0.8
    assert "tool mode: native / recovery" in page.verdict.differences.text()
    assert page.verdict.differences.isVisible()
    # raw vs harness: only the model run both ways, and only the three tasks run both ways
    deltas = data.tuning.modes
    assert [(d.model, set(d.rates)) for d in deltas] == [("sim:text-caller", {"native", "recovery"})]
    assert deltas[0].rates["native"].scored == deltas[0].rates["recovery"].scored == 3
    # the browser filter for one configuration lists only its attempts
    page.show_attempts(MarkFilter(model="sim:text-caller [native]"))
    assert len(page.browser.records) == 3 and {r.settings_key for r in page.browser.records} == {
        AttemptSettings(tool_mode=ToolMode.NATIVE).key()
    }


def test_every_chart_mark_opens_its_attempts_with_the_full_filter(open_window: WindowFactory, tmp_path: Path,
                                                                  settings: AppSettings, qtbot: QtBot) -> None:
    engine = _engine(tmp_path, settings)
    tasks = engine.catalog.tasks("readiness", "basic")[:2] + engine.catalog.tasks("readiness", "protocol")[:2]
    tasks += engine.catalog.tasks("oneshot")[:1]
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:looper")], tasks, repeats=1)
    engine.execute(plan, CancelToken())
    page = _compare(open_window, engine, qtbot, [plan.run_id])
    browser = page.browser

    # pass rate by tier: model + tier
    protocol = page.by_tier._groups.index("readiness/protocol")
    page.by_tier.picked.emit(page.by_tier._filters[(protocol, 1)])
    assert {(r.model, r.tier) for r in browser.records} == {("sim:looper", "protocol")}
    assert len(browser.records) == 2 and page.tabs.currentWidget() is browser

    # failure modes: model + outcome (and the segment has a share, with its count on hover)
    centre = page.failures.centre_of("sim:looper", Outcome.LOOP)
    assert centre is not None
    hit = page.failures.segment_at(*centre)
    assert hit is not None and hit[2] >= 1 and hit[3] == 5
    page.failures.pick(*centre)
    assert browser.records and {(r.model, r.outcome) for r in browser.records} == {("sim:looper", Outcome.LOOP)}

    # heatmap: model + task
    page.heatmap.pick_cell(0, 1)
    assert {(r.model, r.task_id) for r in browser.records} == {("sim:competent", page.heatmap.tasks[1])}

    # agent vs code: a point opens that model's attempts
    page.gap.picked.emit(MarkFilter(model="sim:looper"))
    assert {r.model for r in browser.records} == {"sim:looper"} and len(browser.records) == len(tasks)

    # the task table cell: model + task
    page._on_cell_clicked(0, 2)
    assert {(r.model, r.task_id) for r in browser.records} == {("sim:looper", page.data.tasks[0][2])}


def test_selected_row_and_transcript_never_disagree(open_window: WindowFactory, tmp_path: Path,
                                                    settings: AppSettings, qtbot: QtBot) -> None:
    engine = _engine(tmp_path, settings)
    tasks = engine.catalog.tasks("readiness", "basic")[:3]
    plan = engine.plan([engine.parse_model("sim:looper"), engine.parse_model("sim:prose-only")], tasks, repeats=2)
    engine.execute(plan, CancelToken())
    page = _compare(open_window, engine, qtbot, [plan.run_id])
    browser = page.browser
    page.tabs.setCurrentWidget(browser)

    def agree() -> bool:
        row = browser.table.currentRow()
        return 0 <= row < len(browser.records) and browser.comparison.shown_ids[0] == browser.records[row].id

    assert agree()
    browser.table.setCurrentCell(3, 0)
    assert agree()
    shown = browser.records[3].id
    browser.model_filter.setCurrentIndex(browser.model_filter.findText("sim:prose-only"))
    assert agree()
    browser.model_filter.setCurrentIndex(0)  # back to any: the attempt shown before is selected again
    assert agree() and browser.records[browser.table.currentRow()].id == shown
    # j / k walk the attempts, and the transcript follows
    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_J)
    assert agree() and browser.records[browser.table.currentRow()].id != shown
    qtbot.keyClick(browser.table, Qt.Key.Key_K)
    assert agree() and browser.records[browser.table.currentRow()].id == shown
    # search marks matches in the shown transcripts
    browser.comparison.search.setText("Outcome")
    assert browser.comparison.matches.text().startswith(("1 ", "2 ", "3 "))


def test_empty_state_instead_of_empty_axes(open_window: WindowFactory) -> None:
    window = open_window()
    window.show_page(COMPARE)
    page = window.compare_page
    for chart in (page.by_tier, page.failures, page.heatmap, page.gap, page.speed, page.modes):
        assert chart.showing_empty_state
        assert "Tick" in chart.empty.text()
    assert "tick a run" in page.verdict.recommendation.text()
