"""A run started from Run setup: the grid fills, transcripts show tool-call cards, cancel
and closing the window stop the run quickly and keep what finished."""

from __future__ import annotations

import re
import time

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.ui.main_window import LIVE
from app.ui.models.run_state import AttemptStatus
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import choose, start_run, wait_until

DEMO = ("competent", "text-caller")
CHAIN = "readiness.chain.order-status"


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def test_run_from_setup_fills_grid_and_streams_tool_call_cards(
    open_window: WindowFactory, qtbot: QtBot
) -> None:
    window = open_window(pace=0.5)
    tasks = choose(window, DEMO, repeats=1, tier=None)  # the whole readiness suite
    assert tasks == len(window.engine.catalog.tasks("readiness")) > 0
    setup = window.setup_page
    assert setup.start_button.isEnabled()
    assert f"2 models × {tasks} tasks × 1 run = {2 * tasks} attempts" in setup.summary.text()

    qtbot.mouseClick(setup.start_button, Qt.MouseButton.LeftButton)
    assert not setup.start_button.isEnabled()  # no second run while the plan is stored
    wait_until(lambda: window.stack.currentIndex() == LIVE, qtbot, timeout_s=10)
    page = window.live_page
    transcript = page.transcript
    # While the run executes, the followed transcript streams and shows tool-call cards.
    wait_until(lambda: window.controller.running and "Tool call" in transcript.toPlainText(), qtbot)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        pass
    grid = page.grid_model
    assert (grid.rowCount(), grid.columnCount()) == (tasks + 1, 2)  # one row per task, then the totals
    cells = [grid.index(r, c).data() for r in range(tasks) for c in range(2)]
    assert all(re.fullmatch(r"[01]/1", text) for text in cells), cells
    for c in range(2):
        passed = sum(int(grid.index(r, c).data()[0]) for r in range(tasks))
        assert grid.index(tasks, c).data() == f"{passed}/{tasks}"
    assert grid.headerData(tasks, Qt.Orientation.Vertical) == "Total"
    assert grid.cell_at(grid.index(tasks, 0)) is None
    # task titles are never cut in the middle: the header elides at the end, the tooltip has all
    rows = page.grid.verticalHeader()
    assert rows.textElideMode() == Qt.TextElideMode.ElideRight
    longest = max((grid.headerData(r, Qt.Orientation.Vertical) for r in range(tasks)), key=len)
    assert rows.width() >= min(300, rows.fontMetrics().horizontalAdvance(longest))
    assert page.progress.value() == page.progress.maximum() == 2 * tasks
    assert f"Finished: {2 * tasks} of {2 * tasks}" in page.status.text()

    state = page.state
    assert state is not None
    by_model = {
        a.model: a.attempt_id for a in state.attempts.values() if a.task_id == CHAIN
    }
    page.select_attempt(by_model["sim:text-caller"])
    recovered = _plain(transcript.toPlainText())
    assert "Tool call find_customer recovered from <tool_call> tag" in recovered
    assert "Outcome" in recovered

    page.select_attempt(by_model["sim:competent"])
    native = _plain(transcript.toPlainText())
    assert "Tool call find_customer native" in native
    assert "recovered from" not in native


def test_raw_text_of_a_recovered_call_opens_on_demand(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window(pace=0.0)
    choose(window, ("text-caller",), repeats=1, tier="protocol")
    window.start_from_setup()
    with qtbot.waitSignal(window.controller.run_finished, timeout=20_000):
        pass
    page = window.live_page
    state = page.state
    assert state is not None
    attempt = next(a for a in state.attempts.values() if a.task_id == CHAIN)
    page.select_attempt(attempt.attempt_id)
    view = page.transcript
    before = view.toPlainText()
    assert "show the text it was recovered from" in before
    anchor = re.search(r'href="(toggle:[^"]+)"(?:(?!href=).)*?show the text', view.toHtml(), re.S)
    assert anchor is not None
    view.anchorClicked.emit(QUrl(anchor.group(1)))
    after = view.toPlainText()
    assert "hide raw text" in after
    assert after.count("<tool_call>") > before.count("<tool_call>")


def test_cancel_stops_within_a_second_and_keeps_finished_attempts(
    open_window: WindowFactory, qtbot: QtBot
) -> None:
    window = open_window(pace=1.0)
    choose(window, DEMO, repeats=3)
    state = start_run(window, qtbot)
    page = window.live_page
    wait_until(lambda: state.done >= 2 and state.running > 0, qtbot)

    started = time.monotonic()
    with qtbot.waitSignal(window.controller.run_finished, timeout=5_000) as finished:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    stopped_after = time.monotonic() - started
    assert stopped_after < 1.5, f"cancel took {stopped_after:.2f} s"
    assert finished.args[0].cancelled
    assert not window.controller.running

    stored = window.engine.repository.attempts(state.run_id)
    kept = [a for a in stored if a.outcome is not None and a.outcome.counts_in_score]
    assert len(kept) == state.done >= 2
    assert len(window.engine.repository.unfinished_attempts(state.run_id)) == state.total - state.done
    assert not any(a.status is AttemptStatus.RUNNING for a in state.attempts.values())
    assert "Cancelled" in page.status.text()
    assert window.setup_page.start_button.isEnabled()


def test_closing_the_window_mid_run_cancels_and_joins_without_a_dialog(
    open_window: WindowFactory, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogs: list[str] = []
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, _n=name, **k: dialogs.append(_n))
    window = open_window(pace=1.0)
    choose(window, DEMO, repeats=3)
    state = start_run(window, qtbot)
    wait_until(lambda: state.running > 0, qtbot)

    started = time.monotonic()
    assert window.close()
    assert time.monotonic() - started < 3.0
    assert not window.controller.running
    assert not window.isVisible()
    assert dialogs == []
