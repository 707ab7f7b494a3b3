"""The window is painted before the engine, the store, the charts and the pages are imported;
they arrive afterwards. A fresh ``python -m app`` process reports the heavy modules it holds
when its window is first painted and again once its pages are ready."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "app.core.engine",
    "app.core.store",
    "app.core.runner",
    "app.ui.pages",
    "app.ui.charts",
    "sqlalchemy",
    "alembic",
    "pyqtgraph",
    "numpy",
    "pydantic",
    "httpx",
    "ollama",
)

_PROBE = """
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

heavy = sys.argv[1].split(",")
qt_app = QApplication([sys.argv[0]])


def loaded():
    return ",".join(sorted({h for h in heavy for m in list(sys.modules) if m == h or m.startswith(h + ".")}))


def poll_ready():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
    if any(getattr(w, "pages_ready", False) for w in windows):
        print("READY " + loaded(), flush=True)
        os._exit(0)
    QTimer.singleShot(10, poll_ready)


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType() and isinstance(watched.window(), QMainWindow):
            qt_app.removeEventFilter(self)
            print("PAINTED " + loaded(), flush=True)
            QTimer.singleShot(0, poll_ready)
        return False


first_paint = FirstPaint()
qt_app.installEventFilter(first_paint)
from app.__main__ import main
sys.exit(main(["--db", sys.argv[2]]))
"""


def _modules_at(line_start: str, lines: list[str]) -> set[str]:
    found = [line for line in lines if line.startswith(line_start)]
    assert found, f"the app never reported {line_start.strip()}: {lines}"
    return {name for name in found[0][len(line_start) :].split(",") if name}


def test_the_window_is_painted_before_the_engine_store_charts_and_pages_are_imported(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        QT_QPA_PLATFORM="offscreen",
        AGENTGAP_HOME=str(tmp_path / "home"),
        AGENTGAP_CONFIG=str(tmp_path / "home" / "settings.json"),
        XDG_CONFIG_HOME=str(tmp_path / "qt"),
        OLLAMA_HOST="http://127.0.0.1:9",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(HEAVY), str(tmp_path / "app.db")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    lines = result.stdout.splitlines()
    assert _modules_at("PAINTED ", lines) == set()
    # the probe does see them once they are there: the engine, the store and the pages
    assert {"app.core.engine", "app.core.store", "app.ui.pages", "sqlalchemy"} <= _modules_at("READY ", lines)
    assert (tmp_path / "app.db").exists()
