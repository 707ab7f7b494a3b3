"""Run setup warns, before a run starts, when budgets cannot fit a model's context."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.providers.base import HostStatus, ModelInfo, ProviderKind
from app.core.tasks.loader import load_catalog
from app.ui.pages.run_setup_page import RunSetupPage

REPO = Path(__file__).resolve().parents[2]
SERVER = "http://127.0.0.1:9/v1"


def test_budgets_that_overflow_the_context_are_warned_about(qtbot: QtBot) -> None:
    page = RunSetupPage()
    qtbot.addWidget(page)
    page.set_catalog(load_catalog([REPO / "tasks"]))
    small = ModelInfo("smollm2", ProviderKind.OPENAI, SERVER, context_length=4096)
    roomy = ModelInfo("qwen", ProviderKind.OPENAI, SERVER, context_length=131_072)
    page.set_hosts([HostStatus(ProviderKind.OPENAI, SERVER, True, models=(small, roomy))])
    page.model_choices.check_only(lambda m: m.name == "roomy-none")
    page.task_model.check_only("readiness")
    assert page.context_warning.isHidden()

    page.model_choices.check_only(lambda m: True)
    page.max_tokens.setValue(16_000)
    text = page.context_warning.text()
    assert not page.context_warning.isHidden()
    assert "smollm2" in text and "4,096-token context" in text and "raise num_ctx" in text.lower()
    assert "qwen" not in text  # its context holds every budget
    assert page.start_button.isEnabled()  # a warning, not a block

    page.max_tokens.setValue(2000)
    assert page.context_warning.isHidden()
