"""The cloud notice: shown once before the first run with a cloud model; declining cancels
the launch, accepting is remembered in the settings file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.plan import AttemptSettings
from app.core.providers.base import ModelInfo, ProviderKind
from app.ui.background.run_launcher import RunLauncher
from app.ui.dialogs.cloud_notice import CloudNoticeDialog
from app.ui.pages.run_setup_page import RunRequest

CLAUDE = ModelInfo("claude-haiku-4-5", ProviderKind.ANTHROPIC, "http://127.0.0.1:9", description="cloud")
LOCAL = ModelInfo("competent", ProviderKind.SIMULATED, "sim", simulated=True)


def _answer_notice(choose: Callable[[CloudNoticeDialog], None], shown: list[str]) -> None:
    """Once the notice is up, record its text and press a button in it."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, CloudNoticeDialog):
            shown.append(dialog.informativeText())
            choose(dialog)
        else:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    """Owns the launcher, as the main window does in the app; the notice opens over it."""
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def _request(engine: Engine, *models: ModelInfo) -> RunRequest:
    task = engine.catalog.task("readiness.single-tool.weather")
    return RunRequest(models=models, tasks=(task,), repeats=3, settings=AttemptSettings(), name="")


def test_dialog_says_what_is_sent_where_and_that_it_costs(qtbot: QtBot) -> None:
    dialog = CloudNoticeDialog([ProviderKind.ANTHROPIC, ProviderKind.OPENAI_CLOUD], 12)
    qtbot.addWidget(dialog)
    text = dialog.informativeText()
    assert "Anthropic and OpenAI" in text and "tool result" in text and "12 cloud attempts" in text
    assert "per token" in text
    assert dialog.defaultButton() is dialog.cancel_button  # running is never the default
    QTimer.singleShot(0, dialog.accept_button.click)
    dialog.exec()
    assert dialog.agreed


def test_declining_cancels_the_launch(qtbot: QtBot, window: QWidget, tmp_path: Path, settings: AppSettings) -> None:
    with Engine(db_path=tmp_path / "e.db", settings=settings) as engine:
        launcher = RunLauncher(engine, window)
        shown: list[str] = []
        _answer_notice(lambda d: d.cancel_button.click(), shown)
        assert launcher.plan(_request(engine, LOCAL, CLAUDE)) is False
        assert len(shown) == 1 and "Anthropic" in shown[0] and "3 cloud attempts" in shown[0]
        assert not launcher.busy and not engine.settings.cloud_notice_accepted
        assert engine.repository.list_runs() == []
    assert not Path(os.environ["AGENTGAP_CONFIG"]).exists()


def test_accepting_launches_and_is_asked_once(qtbot: QtBot, window: QWidget, tmp_path: Path, settings: AppSettings) -> None:
    with Engine(db_path=tmp_path / "e.db", settings=settings) as engine:
        launcher = RunLauncher(engine, window)
        shown: list[str] = []
        _answer_notice(lambda d: d.accept_button.click(), shown)
        with qtbot.waitSignal(launcher.launch_ready, timeout=10_000):
            assert launcher.plan(_request(engine, CLAUDE)) is True
        assert len(shown) == 1 and engine.settings.cloud_notice_accepted
        stored = json.loads(Path(os.environ["AGENTGAP_CONFIG"]).read_text())
        assert stored["cloud_notice_accepted"] is True

        def must_not_ask(*_: object) -> bool:
            raise AssertionError("the notice was shown twice")

        launcher.confirm_cloud = must_not_ask
        with qtbot.waitSignal(launcher.launch_ready, timeout=10_000):
            assert launcher.plan(_request(engine, CLAUDE)) is True
        assert launcher.wait(5)


def test_local_runs_never_ask(qtbot: QtBot, window: QWidget, tmp_path: Path, settings: AppSettings) -> None:
    with Engine(db_path=tmp_path / "e.db", settings=settings) as engine:
        launcher = RunLauncher(engine, window)

        def must_not_ask(*_: object) -> bool:
            raise AssertionError("asked for a local run")

        launcher.confirm_cloud = must_not_ask
        with qtbot.waitSignal(launcher.launch_ready, timeout=10_000):
            assert launcher.plan(_request(engine, LOCAL)) is True
        assert launcher.wait(5)


def test_a_sweep_of_a_cloud_model_asks_first(qtbot: QtBot, window: QWidget, tmp_path: Path, settings: AppSettings) -> None:
    with Engine(db_path=tmp_path / "c.db", settings=settings) as engine:
        launcher = RunLauncher(engine, window)
        asked: list[tuple[list[ProviderKind], int | None]] = []

        def decline(kinds: list[ProviderKind], attempts: int | None, parent: QWidget | None) -> bool:
            asked.append((kinds, attempts))
            return False

        launcher.confirm_cloud = decline
        planned: list[bool] = []
        assert launcher.launch_planned("Start sweep", lambda: planned.append(True) or None, cloud=([ProviderKind.ANTHROPIC], 18)) is False  # type: ignore[func-returns-value, arg-type]
        assert asked == [([ProviderKind.ANTHROPIC], 18)] and not planned and not launcher.busy
        task = engine.catalog.task("readiness.single-tool.weather")
        local = lambda: engine.plan([engine.parse_model("sim:competent")], [task], repeats=3)  # noqa: E731
        with qtbot.waitSignal(launcher.launch_ready, timeout=10_000):
            assert launcher.launch_planned("Find budget ceilings", local) is True
        assert len(asked) == 1  # local plans never ask
