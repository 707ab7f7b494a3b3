"""Models page: the empty state without a server, the demo shortcut, and host editing."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.providers.simulated import PROFILES
from app.ui.dialogs.host_dialog import HostDialog
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.main_window import SETUP, MainWindow
from app.ui.pages.models_page import ModelsPage
from tests.fakes.fake_ollama import FakeModel, FakeOllama
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until


def _when_modal(qtbot: QtBot, kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Run ``act`` on the next modal dialog of type ``kind`` once it is shown."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind) and dialog.isVisible():
            act(dialog)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def _host_rows(window: MainWindow) -> list[str]:
    model = window.models_page.tree_model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_empty_state_explains_how_to_start_ollama_and_demo_button_selects_demo_models(
    open_window: WindowFactory, qtbot: QtBot, closed_port: int
) -> None:
    window = open_window()
    page = window.models_page
    assert page.empty_state.isVisibleTo(window)
    text = page.empty_text.text()
    assert "ollama serve" in text and "ollama pull qwen2.5:3b" in text
    assert f"127.0.0.1:{closed_port}" in text  # one line per unreachable host
    rows = _host_rows(window)
    assert any(f"127.0.0.1:{closed_port}" in r and "not reachable" in r for r in rows)
    assert any(r.startswith("Simulated demo models") for r in rows)

    page.demo_button.click()
    assert window.stack.currentIndex() == SETUP
    chosen = {m.ref for m in window.setup_page.model_choices.selected_models()}
    # every demo model: the good ones and each way of failing, so the demo shows why models fail
    assert chosen == {f"sim:{name}" for name in PROFILES}
    assert {"sim:competent", "sim:looper", "sim:prose-only"} <= chosen
    assert window.setup_page.start_button.isEnabled()


def test_host_added_in_preferences_is_saved_and_used_by_discovery(
    open_window: WindowFactory, qtbot: QtBot, closed_port: int
) -> None:
    window = open_window()
    models = [
        FakeModel("qwen2.5:3b", family="qwen2", parameter_size="3.1B", loaded=True),
        FakeModel("gemma3:4b", family="gemma3", capabilities=("completion", "vision")),
    ]
    with FakeOllama(models) as server:

        def fill_host(dialog: QWidget) -> None:
            assert isinstance(dialog, HostDialog)
            dialog.url.setText(server.url)
            dialog.label.setText("Second box")
            dialog.accept()

        def add_in_preferences(dialog: QWidget) -> None:
            assert isinstance(dialog, SettingsDialog)
            _when_modal(qtbot, HostDialog, fill_host)
            dialog._add_host()  # opens the host dialog (modal, nested)
            assert dialog.hosts_model.rowCount() == 2
            dialog.accept()

        _when_modal(qtbot, SettingsDialog, add_in_preferences)
        window.preferences_action.trigger()

        saved = json.loads(Path(os.environ["AGENTGAP_CONFIG"]).read_text())
        assert server.url in [h["url"] for h in saved["hosts"]]
        assert any(h.url == server.url for h in window.engine.settings.hosts)
        page = window.models_page
        # hosts show as they answer; the summary comes once every host has
        wait_until(lambda: not page.discovering and any(server.url in r and "2 models" in r for r in _host_rows(window)), qtbot)
    row = next(r for r in _host_rows(window) if server.url in r)
    assert "Second box" in row and "version 0.12.6" in row
    tree = page.tree_model
    host = next(tree.index(r, 0) for r in range(tree.rowCount()) if server.url in tree.index(r, 0).data())
    cells = [[tree.index(r, c, host).data() for c in range(8)] for r in range(tree.rowCount(host))]
    assert ["qwen2.5:3b", "qwen2", "3.1B", "Q4_K_M", "2.0 GB", "128K", "tools", "loaded"] in cells
    gemma = next(c for c in cells if c[0] == "gemma3:4b")
    assert "vision" in gemma[6] and "tools" not in gemma[6]
    assert not page.empty_state.isVisibleTo(window)  # a real server answered
    summary = page.summary.text()  # the other host's error stays visible, one line
    assert "2 models on 1 server" in summary
    assert f"127.0.0.1:{closed_port}</b> did not answer" in summary
    offered = {m.ref for m in window.setup_page.model_choices.models()}
    assert f"{server.url.removeprefix('http://')}/qwen2.5:3b" in offered


def test_remove_server_switches_the_default_host_off(
    open_window: WindowFactory, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    window = open_window()
    page = window.models_page
    model = page.tree_model
    row = next(
        r for r in range(model.rowCount()) if f"{closed_port}" in model.index(r, 0).data()
    )
    page.tree.setCurrentIndex(model.index(row, 0))
    assert page.remove_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.remove_button.click()
    wait_until(lambda: not page.discovering and all(f"{closed_port}" not in r for r in _host_rows(window)), qtbot)
    hosts = window.engine.settings.hosts
    assert [h.enabled for h in hosts if str(closed_port) in h.url] == [False]
    assert page.empty_state.isVisibleTo(window)
    assert "No server is enabled" in page.empty_text.text()


def test_the_page_says_how_commands_are_isolated() -> None:
    from app.core.tasks.jail import IsolationLevel
    from app.ui.pages.models_page import isolation_text

    assert "process isolation only" in isolation_text(IsolationLevel.PROCESS)
    assert "jail (bubblewrap)" in isolation_text(IsolationLevel.BUBBLEWRAP)


def test_each_host_shows_as_it_answers_a_refused_port_before_a_silent_one(
    qtbot: QtBot, tmp_path: Path, closed_port: int
) -> None:
    listener = socket.socket()  # accepts connections into its backlog and never answers
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    silent = f"http://127.0.0.1:{listener.getsockname()[1]}"
    refused = f"http://127.0.0.1:{closed_port}"
    settings = AppSettings(hosts=[HostConfig(url=silent), HostConfig(url=refused)])
    engine = Engine(db_path=tmp_path / "models.db", settings=settings)
    page = ModelsPage(engine)
    qtbot.addWidget(page)
    try:
        page.refresh()
        # the refused port and the built-in models show at once, the silent host still awaited
        wait_until(lambda: len(_page_rows(page)) == 2, qtbot, timeout_s=5)
        assert page.discovering and page.busy_label.isVisibleTo(page)
        rows = _page_rows(page)
        assert refused in rows[0] and "not reachable" in rows[0]
        assert rows[1].startswith("Simulated demo models")
        listener.close()  # the silent host goes away: discovery ends with every host, in order
        wait_until(lambda: not page.discovering, qtbot, timeout_s=20)
        rows = _page_rows(page)
        assert silent in rows[0] and refused in rows[1] and not page.busy_label.isVisibleTo(page)
    finally:
        listener.close()
        page.wait_for_discovery(5.0)
        engine.close()


def _page_rows(page: ModelsPage) -> list[str]:
    model = page.tree_model
    return [model.index(r, 0).data() for r in range(model.rowCount())]
