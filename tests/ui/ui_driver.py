"""Small steps the UI tests share: wait for discovery, pick demo models, wait for a state."""

from __future__ import annotations

import time
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.models.run_state import RunState


def wait_for_models(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.setup_page.model_choices.rowCount() > 0, timeout=10_000)


def choose(
    window: MainWindow, models: tuple[str, ...], repeats: int, tier: str | None = "basic"
) -> int:
    """On Run setup, tick these simulated models and the readiness tasks (of one tier, or
    all with ``tier=None``) and set the run count; returns how many tasks are ticked."""
    setup = window.setup_page
    setup.model_choices.check_only(lambda m: m.simulated and m.name in models)
    setup.task_model.check_only("readiness", tier)
    setup.repeats.setValue(repeats)
    return len(setup.task_model.selected_tasks())


def wait_until(condition: Callable[[], bool], qtbot: QtBot, timeout_s: float = 20.0) -> float:
    """Process events until ``condition`` holds; returns the seconds it took."""
    started = time.monotonic()
    qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))
    return time.monotonic() - started


def start_run(window: MainWindow, qtbot: QtBot) -> RunState:
    """Press Start (Ctrl+R) and wait until the stored plan is executing; returns its state."""
    window.start_from_setup()
    qtbot.waitUntil(lambda: window.controller.running or window.live_page.live_state is not None)
    state = window.live_page.live_state
    assert state is not None
    return state
