"""Real widgets offscreen, a real engine on a temporary SQLite file, simulated models only.

No test may touch the user's settings, keyring or a real Ollama: the data folder and
settings file point into ``tmp_path``, Qt's own settings into a temporary folder, the
keyring is the "fail" backend, and every Ollama host is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
_QT_SETTINGS_DIR = tempfile.mkdtemp(prefix="agentgap-qsettings-")
os.environ["XDG_CONFIG_HOME"] = _QT_SETTINGS_DIR

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from app.core.config import AppSettings, HostConfig  # noqa: E402
from app.core.engine import Engine  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from tests.ui.ui_driver import wait_for_models  # noqa: E402

WindowFactory = Callable[..., MainWindow]


def free_closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session", autouse=True)
def _qt_app_identity(qapp: QApplication) -> None:
    qapp.setOrganizationName("AgentGap")
    qapp.setApplicationName("AgentGap")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, _QT_SETTINGS_DIR)


@pytest.fixture
def closed_port() -> int:
    return free_closed_port()


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("AGENTGAP_HOME", str(home))
    monkeypatch.setenv("AGENTGAP_CONFIG", str(home / "settings.json"))
    monkeypatch.setenv("AGENTGAP_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{closed_port}")


@pytest.fixture
def settings(closed_port: int) -> AppSettings:
    return AppSettings(hosts=[HostConfig(kind="ollama", url=f"http://127.0.0.1:{closed_port}")])


@pytest.fixture
def open_window(
    qtbot: QtBot, tmp_path: Path, settings: AppSettings
) -> Iterator[WindowFactory]:
    """Build the main window over a fresh engine; ``pace`` slows the simulated models."""
    windows: list[MainWindow] = []

    def factory(pace: float = 0.0, engine: Engine | None = None) -> MainWindow:
        engine = engine or Engine(db_path=tmp_path / "agentgap.db", settings=settings, simulated_pace=pace)
        window = MainWindow(engine)
        qtbot.addWidget(window)
        window.resize(1200, 780)
        window.show()
        windows.append(window)
        wait_for_models(qtbot, window)
        return window

    yield factory
    for window in windows:  # closing cancels a run and joins its thread before the engine closes
        window.close()
