"""Run setup says how long a run should take before it starts, and names what tasks measure in words."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.estimate import DEFAULT_ATTEMPT_S, SIMULATED_ATTEMPT_S, DurationHistory
from app.core.providers.base import HostStatus, ModelInfo, ProviderKind
from app.ui.main_window import SETUP
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import choose, wait_until


def test_estimate_before_the_run_from_history_or_a_guess(open_window: WindowFactory, tmp_path: Path,
                                                        settings: AppSettings, qtbot: QtBot) -> None:
    engine = Engine(db_path=tmp_path / "e.db", settings=settings, simulated_pace=0.0)
    window = open_window(engine=engine)
    window.show_page(SETUP)
    setup = window.setup_page
    tasks = choose(window, ("competent",), repeats=2)
    assert tasks and re.search(r"about \d+ (s|min)", setup.estimate.text())
    assert "guess" in setup.estimate.toolTip()
    demo = setup.run_estimate()
    assert demo.seconds == 2 * tasks * SIMULATED_ATTEMPT_S * settings.simulated_pace / 4  # four demo attempts at once

    # a real model: the stored durations of the same model and tasks, read off the GUI thread
    server = "http://127.0.0.1:9"
    model = ModelInfo("qwen", ProviderKind.OLLAMA, server)
    setup.set_hosts([HostStatus(ProviderKind.OLLAMA, server, True, models=(model,))])
    setup.model_choices.check_only(lambda m: m.name == "qwen")
    assert "guess" in setup.estimate.toolTip()
    assert setup.run_estimate().seconds == 2 * tasks * DEFAULT_ATTEMPT_S
    task_ids = [t.id for t in setup.task_model.selected_tasks()]
    stored = DurationHistory(by_task={(model.ref, t): 12.0 for t in task_ids}, by_model={model.ref: 12.0})
    setup.set_history_source(lambda: stored)
    setup.reload_history()
    wait_until(lambda: "earlier runs" in setup.estimate.toolTip(), qtbot)
    estimate = setup.run_estimate()
    assert estimate.from_history == estimate.total == 2 * tasks
    assert estimate.seconds == 2 * tasks * 12.0
    assert "min" in setup.estimate.text()
    setup.repeats.setValue(4)
    assert setup.run_estimate().seconds == 2 * estimate.seconds


def test_stored_durations_by_model_and_task(tmp_path: Path, settings: AppSettings) -> None:
    engine = Engine(db_path=tmp_path / "d.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:2]
    engine.execute(engine.plan([engine.parse_model("sim:competent")], tasks, repeats=2), CancelToken())
    history = engine.repository.attempt_durations()
    assert set(history.by_task) == {("sim:competent", t.id) for t in tasks}
    assert "sim:competent" in history.by_model and all(v >= 0 for v in history.by_task.values())
    engine.close()


def test_dimensions_are_words_not_codes(open_window: WindowFactory) -> None:
    window = open_window()
    model = window.setup_page.task_model
    seen: list[str] = []

    def walk(parent_index) -> None:  # type: ignore[no-untyped-def]
        for row in range(model.rowCount(parent_index)):
            seen.append(str(model.index(row, 1, parent_index).data() or ""))
            walk(model.index(row, 0, parent_index))

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    words = [s for s in seen if s]
    assert len(words) > 20
    assert not [s for s in words if "_" in s or s[0].islower()]
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Dimension"
