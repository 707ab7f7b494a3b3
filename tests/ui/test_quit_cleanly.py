"""Closing the main window after real use leaves no Qt warning about objects deleted while
still referenced (shared QObjects, timers or threads of a deleted owner)."""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.config import AppSettings
from app.core.engine import Engine
from app.ui.main_window import COMPARE, HISTORY, LIVE, MODELS, SETUP, MainWindow
from app.ui.theme import apply_theme
from tests.ui.ui_driver import choose, start_run, wait_for_models, wait_until

SHUTDOWN_WARNINGS = ("deleted directly", "QObject", "QThread", "Timers cannot", "destroyed while", "already deleted")


def test_open_use_and_close_the_window_without_qt_warnings(qtbot: QtBot, qtlog: object, tmp_path: Path,
                                                           settings: AppSettings) -> None:
    engine = Engine(db_path=tmp_path / "q.db", settings=settings, simulated_pace=0.0)
    window = MainWindow(engine)
    window.resize(1280, 720)
    window.show()
    wait_for_models(qtbot, window)
    for page in (MODELS, SETUP, HISTORY, COMPARE):
        window.show_page(page)
        qtbot.wait(20)
    choose(window, ("competent", "looper"), repeats=1)
    start_run(window, qtbot)
    wait_until(lambda: not window.controller.running, qtbot, timeout_s=60)
    window.show_page(LIVE)
    window.compare_page.tabs.setCurrentWidget(window.compare_page.browser)
    window.show_page(COMPARE)
    wait_until(lambda: window.compare_page.data is not None, qtbot, timeout_s=30)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    apply_theme(app, "light")
    window.show_page(SETUP)  # reads stored durations on a worker: close while it may still run
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    qtbot.wait(50)
    engine.close()
    messages = [record.message for record in qtlog.records]  # type: ignore[attr-defined]
    bad = [m for m in messages if any(word in m for word in SHUTDOWN_WARNINGS)]
    assert bad == []
