"""Tuning in the app: the sweep builder refuses N < 3, a sweep runs and its chart marks the
winner, and Find budget ceilings runs the budget sweep and labels what failed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.outcomes import ToolMode
from app.core.tuning.analysis import Verdict
from app.core.tuning.ceilings import Ceiling
from app.core.tuning.factors import Factor
from app.ui.charts.compare_charts import save_chart
from app.ui.main_window import COMPARE, MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import choose, wait_until


def _wait_for_run_end(window: MainWindow, qtbot: QtBot, runs: int) -> None:
    """Until ``runs`` runs are stored and none is running (a fast run may end between polls)."""

    def ended() -> bool:
        stored = window.engine.repository.list_runs()
        finished = all(r.status != "running" and r.attempts_done == r.attempts_total for r in stored)
        newest_compared = bool(stored) and window.compare_page.compared_run_ids() == [stored[0].id]
        return len(stored) == runs and not window.controller.running and finished and newest_compared

    wait_until(ended, qtbot, timeout_s=60)  # the window has also ticked the finished run on Compare


def _compare_all(window: MainWindow, qtbot: QtBot) -> None:
    window.show_page(COMPARE)
    page = window.compare_page
    page.reload()
    page.data = None
    for i in range(page.runs.count()):
        page.runs.item(i).setCheckState(Qt.CheckState.Checked)
    wait_until(lambda: page.data is not None and len(page.data.runs) == page.runs.count(), qtbot)


def test_sweep_builder_refuses_fewer_than_three_runs_and_says_why(open_window: WindowFactory) -> None:
    window = open_window()
    n_tasks = choose(window, ("text-caller",), repeats=2)
    dialog = window.setup_page.sweep_dialog()
    assert dialog.repeats.value() == 3  # raised from the page's 2 to the minimum
    dialog.repeats.setValue(2)
    dialog.rows[Factor.TEMPERATURE].enabled.setChecked(True)
    assert not dialog.start.isEnabled()
    assert "at least 3 runs per cell" in dialog.reason.text() and "intervals" in dialog.reason.text()
    dialog.repeats.setValue(3)
    assert dialog.start.isEnabled() and dialog.reason.text() == ""
    # temperature 0, 0.4 and 1.0 against the baseline (model default): four cells
    assert dialog.summary.text() == f"4 cells × {n_tasks} tasks × 3 runs = {4 * n_tasks * 3} attempts"
    dialog.rows[Factor.TEMPERATURE].values.setText("0, hot")
    assert not dialog.start.isEnabled() and "'hot' is not a valid value" in dialog.reason.text()


def test_sweep_runs_and_the_chart_marks_the_winner(open_window: WindowFactory, qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window()
    choose(window, ("text-caller",), repeats=3)
    setup = window.setup_page
    setup.tool_mode.setCurrentIndex(setup.tool_mode.findData(ToolMode.NATIVE))  # the raw baseline
    dialog = setup.sweep_dialog()
    dialog.rows[Factor.TOOL_MODE].enabled.setChecked(True)
    dialog.rows[Factor.TOOL_MODE].values.setText("recovery")
    assert dialog.start.isEnabled(), dialog.reason.text()
    setup.sweep_requested.emit(dialog.request())
    _wait_for_run_end(window, qtbot, runs=1)

    _compare_all(window, qtbot)
    view = window.compare_page.tuning
    sweep = view.current_sweep()
    assert sweep is not None and sweep.model == "sim:text-caller"
    assert view.sweep_model.currentText() == "sim:text-caller · baseline: tool calls native"
    # the text-caller writes its calls as text: native mode reads none, recovery reads them all
    [tool_calls] = sweep.factors
    assert tool_calls.winner is not None and tool_calls.winner.value == "recovery"
    assert [v for _, _, v in view.sweep_chart.bars] == [Verdict.BASELINE, Verdict.BETTER]
    assert view.sweep_chart.winner_marks == 1 and view.sweep_chart.band is not None
    assert view.sweep_table.rowCount() == 2 and "winner" in view.sweep_table.item(1, 1).text()
    assert not view.winners_button.isEnabled()  # one winner is its own cell: nothing to combine
    assert view.modes_table.rowCount() == 1  # the same sweep read as raw vs harness
    assert view.modes_table.item(0, 5).text().startswith("+")
    assert save_chart(view.sweep_chart, tmp_path / "sweep.png").stat().st_size > 2000


def test_find_budget_ceilings_runs_and_labels_failures(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window()
    choose(window, ("looper", "competent"), repeats=1)
    window.setup_page.task_model.check_only("readiness", "basic")
    window.start_from_setup()
    _wait_for_run_end(window, qtbot, runs=1)

    _compare_all(window, qtbot)
    view = window.compare_page.tuning
    assert not view.hint.isHidden() and view.ceiling_button.isEnabled()
    view.ceiling_button.click()
    _wait_for_run_end(window, qtbot, runs=2)

    _compare_all(window, qtbot)
    ceilings = view.tuning.ceilings
    window.compare_page.runs.item(0).setCheckState(Qt.CheckState.Unchecked)
    window.compare_page.runs.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert not view.ceiling_button.isEnabled()  # nothing ticked: nothing to sweep
    assert ceilings and {d.model for d in ceilings} >= {"sim:looper"}
    assert all(d.ceiling is Ceiling.CAPABILITY for d in ceilings if d.model == "sim:looper")
    assert view.ceiling_table.rowCount() == len(ceilings)
    assert ("sim:looper", "turns") in view.ceiling_chart.lines and ("sim:looper", "tokens") in view.ceiling_chart.lines


def test_sweep_dialog_hints_before_errors_and_never_uses_placeholders(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window()
    choose(window, ("competent",), repeats=3)
    dialog = window.setup_page.sweep_dialog()
    qtbot.addWidget(dialog)
    # nothing typed yet: a neutral hint, not a red error
    assert "Tick a factor" in dialog.reason.text() and "color" not in dialog.reason.styleSheet()
    assert not dialog.start.isEnabled()
    row = dialog.rows[Factor.TEMPERATURE]
    assert row.values.text() == "" and row.values.placeholderText()
    row.enabled.setChecked(True)  # the suggestions fill in, selected: typing replaces them
    assert row.values.selectedText() == row.values.text() != ""
    row.values.setFocus()
    qtbot.keyClicks(row.values, "0.2")
    assert row.values.text() == "0.2" and row.parsed() == [0.2]
    assert dialog.start.isEnabled()
    other = dialog.rows[Factor.THINKING]  # unticked rows give nothing, whatever their placeholder
    assert Factor.THINKING not in dialog.spec().factors
    other.enabled.setChecked(True)
    other.values.setText("sometimes")  # a typed mistake is an error, in red
    assert "color" in dialog.reason.styleSheet() and not dialog.start.isEnabled()
