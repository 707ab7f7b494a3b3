"""The notice shown once, before the first run with a cloud model: what is sent, to whom,
and that it costs money. Declining cancels the run."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.cloud_notice import cloud_notice
from app.core.providers.base import ProviderKind


class CloudNoticeDialog(QMessageBox):
    """Run with cloud models, or cancel; the run button is not the default, on purpose."""

    def __init__(self, kinds: list[ProviderKind], cloud_attempts: int | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cloud models")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setText("This run sends your tasks to a cloud provider and costs money.")
        self.setInformativeText(cloud_notice(kinds, cloud_attempts))
        self.accept_button = self.addButton("Run with cloud models", QMessageBox.ButtonRole.AcceptRole)
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)

    @property
    def agreed(self) -> bool:
        return self.clickedButton() is self.accept_button


def confirm_cloud_run(kinds: list[ProviderKind], cloud_attempts: int | None, parent: QWidget | None) -> bool:
    """Show the notice modally; True when the user chose to run."""
    dialog = CloudNoticeDialog(kinds, cloud_attempts, parent)
    dialog.exec()
    return dialog.agreed
