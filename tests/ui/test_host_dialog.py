"""The host dialog: per-host parallel attempts and the co-resident choice round-trip."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.core.config import HostConfig
from app.ui.dialogs.host_dialog import HostDialog


def test_co_resident_and_concurrency_are_edited_and_returned(qtbot: QtBot) -> None:
    dialog = HostDialog(HostConfig(url="http://gpu-box:11434", concurrency=3))
    qtbot.addWidget(dialog)
    assert dialog.concurrency.value() == 3
    assert not dialog.co_resident.isChecked()  # off unless asked for
    assert "OLLAMA_MAX_LOADED_MODELS" in dialog.co_resident.toolTip()
    dialog.co_resident.setChecked(True)
    dialog.concurrency.setValue(2)
    host = dialog.host()
    assert (host.co_resident, host.concurrency, host.url) == (True, 2, "http://gpu-box:11434")


def test_a_co_resident_host_opens_with_the_box_ticked(qtbot: QtBot) -> None:
    dialog = HostDialog(HostConfig(url="localhost", co_resident=True))
    qtbot.addWidget(dialog)
    assert dialog.co_resident.isChecked()
    assert dialog.host().co_resident
