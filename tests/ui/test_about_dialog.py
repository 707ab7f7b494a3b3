"""About shows what this machine judges with: the facts of ``agentgap doctor``."""

from __future__ import annotations

import sys

from pytestqt.qtbot import QtBot

from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until


def test_about_lists_the_machine_facts(open_window: WindowFactory, qtbot: QtBot) -> None:
    window = open_window()
    window.show_about()
    dialog = window.about_dialog
    assert dialog.isVisible() and "Checking this machine" in dialog.facts.text()
    wait_until(lambda: "Checks run with" in dialog.facts.text(), qtbot)
    text = dialog.facts.text()
    assert sys.executable in text and "pytest" in text and "imports there" in text
    for fact in ("Sandbox", "Database folder", "writable", "Keyring", "Hosts", "not reachable"):
        assert fact in text
    dialog.reject()
    assert not dialog.isVisible()
