"""Start the desktop app: ``run_gui(argv)`` builds the QApplication, the engine and the window."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

import app
from app.core.config import load_settings
from app.core.engine import Engine
from app.core.paths import resource_path
from app.core.run_owner import interrupt_orphaned_runs
from app.ui.main_window import HISTORY, MainWindow
from app.ui.theme import apply_theme

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agentgap", description="AgentGap desktop app")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: user data folder)")
    parser.add_argument("--theme", choices=("dark", "light"), default=None, help="force a palette")
    args, _unknown = parser.parse_known_args(argv)  # Qt's own flags (and macOS -psn_) pass through
    return args


def offer_resume(window: MainWindow) -> None:
    """Runs left unfinished get a banner in History; History opens first after a crash."""
    repository = window.engine.repository
    try:
        # "running" rows whose process is gone; a run another process still executes stays
        crashed = interrupt_orphaned_runs(repository, unknown_owner_gone=True)
        unfinished = repository.interrupted_runs()  # interrupted or cancelled, attempts left
    except Exception:
        log.exception("cannot look for interrupted runs")
        return
    if not unfinished:
        return
    window.history_page.show_interrupted(unfinished)
    if crashed:
        window.show_page(HISTORY)


def settle_startup_garbage() -> None:
    """Collect once, then exempt everything alive after start-up from later collections:
    a full collection over the Qt wrappers and imported modules would otherwise stall the
    event loop for tens of milliseconds now and then."""
    gc.collect()
    gc.freeze()


def run_gui(argv: list[str]) -> int:
    """Run the app until its window closes; returns the exit status."""
    args = _parse(argv)
    qt_app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("AgentGap")
    qt_app.setOrganizationName("AgentGap")
    qt_app.setApplicationVersion(app.__version__)
    settings = load_settings()
    apply_theme(qt_app, args.theme or settings.theme or None)
    icon = resource_path("icons", "agentgap.png")
    if icon.exists():
        qt_app.setWindowIcon(QIcon(str(icon)))
    try:
        engine = Engine(db_path=args.db, settings=settings, simulated_pace=settings.simulated_pace)
    except Exception as error:
        log.exception("cannot start the engine")
        QMessageBox.critical(None, "AgentGap", f"AgentGap could not open its database:\n{error}")
        return 1
    window = MainWindow(engine)
    window.show()
    offer_resume(window)
    settle_startup_garbage()
    try:
        return qt_app.exec()
    finally:
        # Delete the window and its children now, in Qt's parent-first order, while the
        # application lives; left to interpreter exit, wrappers die in any order.
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
