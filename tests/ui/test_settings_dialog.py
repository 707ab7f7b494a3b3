"""Preferences: run defaults are saved; API keys are never accepted without a keyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.config import AppSettings, load_settings, save_settings
from app.core.outcomes import ToolMode
from app.ui.dialogs.settings_dialog import CLOUD_KEYS, SettingsDialog


def test_without_a_keyring_key_entry_is_disabled_and_explained(qtbot: QtBot, settings: AppSettings) -> None:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert not dialog.keyring_available  # the test session uses keyring's "fail" backend
    assert "never written to disk in plain text" in dialog.keyring_message.text()
    assert {p for p, _ in CLOUD_KEYS} == set(dialog.key_fields)
    assert all(not field.isEnabled() for field in dialog.key_fields.values())


def test_run_defaults_are_validated_and_returned(qtbot: QtBot, settings: AppSettings) -> None:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.repeats.setValue(5)
    dialog.max_turns.setValue(12)
    dialog.tool_mode.setCurrentIndex(dialog.tool_mode.findData(ToolMode.NATIVE))
    dialog.pace.setValue(0.0)
    dialog.accept()
    result = dialog.result_settings
    assert result is not None
    assert (result.repeats, result.budgets.max_turns, result.tool_mode) == (5, 12, ToolMode.NATIVE)
    assert result.budgets.max_tokens is None  # "task default"
    assert result.simulated_pace == 0.0
    assert result.hosts == settings.hosts
    save_settings(result)
    assert load_settings() == result
    assert json.loads(Path(os.environ["AGENTGAP_CONFIG"]).read_text())["repeats"] == 5
