"""A small dialog to add or edit one model server (Ollama or OpenAI-compatible)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.config import HostConfig
from app.core.modelref import normalize_host

KINDS = (("ollama", "Ollama"), ("openai", "OpenAI-compatible (llama.cpp, LM Studio, vLLM…)"))
PLACEHOLDERS = {"ollama": "http://localhost:11434", "openai": "http://localhost:8080/v1"}


class HostDialog(QDialog):
    """Edits a ``HostConfig``; OK stays disabled until the address can be used."""

    def __init__(self, host: HostConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit model server" if host else "Add model server")
        self.kind = QComboBox()
        for value, text in KINDS:
            self.kind.addItem(text, value)
        self.url = QLineEdit()
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional, e.g. “GPU box”")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 16)
        self.concurrency.setToolTip("How many attempts may run on this server at once")
        self.co_resident = QCheckBox("Keep two models loaded and alternate their attempts")
        self.co_resident.setToolTip(
            "Runs models in pairs on this server, their attempts interleaved (side by side with "
            "two or more parallel attempts), to show whether a model that passes alone still "
            "passes when it must share memory with another. Ollama must be allowed to keep two "
            "models loaded (OLLAMA_MAX_LOADED_MODELS=2 or more); otherwise every switch reloads."
        )
        self.enabled = QCheckBox("Use this server")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Server type", self.kind)
        form.addRow("Address", self.url)
        form.addRow("Name", self.label)
        form.addRow("Parallel attempts", self.concurrency)
        form.addRow("", self.co_resident)
        form.addRow("", self.enabled)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        current = host or HostConfig(url="")
        self.kind.setCurrentIndex(max(0, self.kind.findData(current.kind)))
        self.url.setText(current.url)
        self.label.setText(current.label)
        self.concurrency.setValue(current.concurrency)
        self.co_resident.setChecked(current.co_resident)
        self.enabled.setChecked(current.enabled)
        self.kind.currentIndexChanged.connect(self._validate)
        self.url.textChanged.connect(self._validate)
        self._validate()
        self.setMinimumWidth(460)

    def host(self) -> HostConfig:
        """The host as entered (only meaningful after the dialog was accepted)."""
        return HostConfig(
            kind=self.kind.currentData(),
            url=normalize_host(self.url.text()),
            label=self.label.text().strip(),
            enabled=self.enabled.isChecked(),
            concurrency=self.concurrency.value(),
            co_resident=self.co_resident.isChecked(),
        )

    @Slot()
    def _validate(self) -> None:
        kind = self.kind.currentData()
        self.url.setPlaceholderText(PLACEHOLDERS[kind])
        text = self.url.text().strip()
        error = hint = ""
        if not text:
            hint = "Enter the server's address, for example " + PLACEHOLDERS[kind]
        else:
            try:
                normalize_host(text)
            except ValueError as problem:
                error = str(problem)
        if text and not error and kind == "openai" and "/v1" not in text:
            hint = "OpenAI-compatible servers are usually addressed as …/v1"
        self.problem.setText(error or hint)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text) and not error)
