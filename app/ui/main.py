"""Start the desktop app: ``run_gui(argv)`` shows the window first, then loads the engine,
the store and the pages into it (they take longer to import than the window takes to paint)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

import app
from app.core.paths import resource_path, settings_path
from app.ui.main_window import HISTORY, MainWindow

if TYPE_CHECKING:
    from app.core.engine import Engine

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agentgap", description="AgentGap desktop app")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: user data folder)")
    parser.add_argument("--theme", choices=("dark", "light"), default=None, help="force a palette")
    args, _unknown = parser.parse_known_args(argv)  # Qt's own flags (and macOS -psn_) pass through
    return args


def offer_resume(window: MainWindow) -> None:
    """Runs left unfinished get a banner in History; History opens first after a crash."""
    from app.core.run_owner import interrupt_orphaned_runs

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


LOAD_ANYWAY_MS = 300


def keep_module_sources_out_of_memory() -> None:
    """PySide6 reads the source of every module imported after it (``inspect.getsource``, to
    see whether it uses PySide's ``__feature__`` switches), and the sources then stay in
    ``linecache``: ~15 MB of text, and more in line objects, for this app's libraries. Ask
    the same question of the file's bytes, which are dropped once read."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None or getattr(original, "reads_bytes", False):
        return

    def uses_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    uses_pyside.reads_bytes = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]


def saved_theme() -> str | None:
    """The palette chosen in the settings file, read without loading the settings model (that
    waits until the window is up); None when the file does not choose one."""
    try:
        theme = json.loads(settings_path().read_text(encoding="utf-8")).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return theme if isinstance(theme, str) and theme else None


def open_engine(db_path: Path | None) -> Engine:
    """Settings, task catalog and the store, built off the GUI thread (imports included)."""
    from app.core.config import load_settings
    from app.core.engine import Engine

    settings = load_settings()
    engine = Engine(db_path=db_path, settings=settings, simulated_pace=settings.simulated_pace)
    engine.catalog  # noqa: B018  (loads the task files here rather than on the GUI thread)
    return engine


class _Loader(QObject):
    """Opens the engine on a worker once the window is painted, then builds the pages."""

    _opened = Signal(object)  # Engine, or the exception that stopped it

    def __init__(self, window: MainWindow, db_path: Path | None) -> None:
        super().__init__(window)
        self.window = window
        self.db_path = db_path
        self.started = False
        self.failed = False
        self._opened.connect(self._attach)  # emitted on the worker: queued to the GUI thread

    @Slot()
    def load(self) -> None:
        if self.started:
            return
        self.started = True
        threading.Thread(target=self._open, name="open-engine", daemon=True).start()

    def _open(self) -> None:
        try:
            result: object = open_engine(self.db_path)
        except Exception as error:
            log.exception("cannot start the engine")
            result = error
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._opened.emit(result)

    @Slot(object)
    def _attach(self, result: object) -> None:
        if isinstance(result, Exception):
            QMessageBox.critical(self.window, "AgentGap", f"AgentGap could not open its database:\n{result}")
            self.failed = True
            self.window.close()
            return
        engine = cast("Engine", result)
        if not self.window.isVisible():  # closed while the engine opened
            engine.close()
            return
        self.window.attach(engine)
        offer_resume(self.window)
        settle_startup_garbage()


def run_gui(argv: list[str]) -> int:
    """Run the app until its window closes; returns the exit status.

    The window is shown with only its frame; the engine, the store and the pages load once
    it has been painted, so the app is on screen in about the time a bare window takes."""
    keep_module_sources_out_of_memory()
    args = _parse(argv)
    qt_app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName("AgentGap")
    qt_app.setOrganizationName("AgentGap")
    qt_app.setApplicationVersion(app.__version__)
    theme = args.theme or saved_theme() or os.environ.get("AGENTGAP_THEME")
    if theme:  # the system look needs no style of ours (nor the module that makes one)
        from app.ui.theme import apply_theme

        apply_theme(qt_app, theme)
    icon = resource_path("icons", "agentgap.png")
    if icon.exists():
        qt_app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow()
    loader = _Loader(window, args.db)
    window.loading.painted.connect(lambda: QTimer.singleShot(0, loader.load))
    window.show()
    QTimer.singleShot(LOAD_ANYWAY_MS, loader.load)  # a window that is never painted (minimised) loads too
    try:
        exit_code = qt_app.exec()
    finally:
        # Delete the window and its children now, in Qt's parent-first order, while the
        # application lives; left to interpreter exit, wrappers die in any order.
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return 1 if loader.failed else exit_code
