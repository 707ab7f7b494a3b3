"""Preferences: servers, default run settings, and API keys kept in the system keyring."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from PySide6.QtCore import Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.config import AppSettings, HostConfig
from app.core.modelref import default_ollama_host
from app.core.outcomes import ToolMode
from app.core.providers.base import ProviderKind
from app.core.secrets import KeyringUnavailable, get_api_key, keyring_status, set_api_key
from app.ui.dialogs.host_dialog import HostDialog
from app.ui.widgets.form_fields import (
    THINKING_CHOICES,
    TOOL_MODE_CHOICES,
    budget_spin_box,
    choice_box,
)

log = logging.getLogger(__name__)

CLOUD_KEYS = ((ProviderKind.ANTHROPIC.value, "Anthropic"), (ProviderKind.OPENAI_CLOUD.value, "OpenAI"))


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``result_settings`` is what OK produced."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self._hosts: list[HostConfig] = list(settings.hosts)
        self.result_settings: AppSettings | None = None
        tabs = QTabWidget()
        tabs.addTab(self._build_hosts_tab(), "Servers")
        tabs.addTab(self._build_defaults_tab(), "Run defaults")
        tabs.addTab(self._build_keys_tab(), "API keys")
        self.tabs = tabs
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self.resize(640, 420)

    # ---- servers --------------------------------------------------------------------

    def _build_hosts_tab(self) -> QWidget:
        self.hosts_model = QStandardItemModel()
        self.hosts_table = QTableView()
        self.hosts_table.setModel(self.hosts_model)
        self.hosts_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.hosts_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hosts_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hosts_table.verticalHeader().hide()
        add = QPushButton("Add…")
        add.clicked.connect(self._add_host)
        self.edit_host_button = QPushButton("Edit…")
        self.edit_host_button.clicked.connect(self._edit_host)
        self.remove_host_button = QPushButton("Remove")
        self.remove_host_button.clicked.connect(self._remove_host)
        note = QLabel(
            "While no other Ollama server is listed, AgentGap uses the default one (OLLAMA_HOST, "
            "else http://localhost:11434). The simulated demo models are always available."
        )
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (add, self.edit_host_button, self.remove_host_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.hosts_table, 1)
        layout.addLayout(buttons)
        layout.addWidget(note)
        self._fill_hosts()
        return page

    def _listed_hosts(self) -> list[tuple[HostConfig, bool]]:
        """The configured servers, plus the default Ollama server when it is in effect."""
        listed = [(h, False) for h in self._hosts]
        if not any(h.kind == "ollama" for h in self._hosts):
            listed.append((HostConfig(kind="ollama", url=default_ollama_host()), True))
        return listed

    def _fill_hosts(self) -> None:
        self.hosts_model.clear()
        self.hosts_model.setHorizontalHeaderLabels(["Type", "Address", "Name", "Parallel", "Two models loaded", "In use"])
        for host, implicit in self._listed_hosts():
            kind = "Ollama" if host.kind == "ollama" else "OpenAI-compatible"
            name = "default (OLLAMA_HOST or localhost)" if implicit else host.label
            paired = "alternate" if host.co_resident else "no"
            row = [kind, host.normalized_url, name, str(host.concurrency), paired, "yes" if host.enabled else "no"]
            items = [QStandardItem(text) for text in row]
            if implicit:
                for item in items:
                    item.setToolTip("Used automatically while no other Ollama server is listed")
            self.hosts_model.appendRow(items)
        header = self.hosts_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.hosts_table.selectRow(0)

    def _current_host(self) -> tuple[int, HostConfig, bool] | None:
        row = self.hosts_table.currentIndex().row()
        listed = self._listed_hosts()
        if not 0 <= row < len(listed):
            return None
        host, implicit = listed[row]
        return row, host, implicit

    @Slot()
    def _add_host(self) -> None:
        dialog = HostDialog(parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._hosts.append(dialog.host())
            self._fill_hosts()

    @Slot()
    def _edit_host(self) -> None:
        current = self._current_host()
        if current is None:
            return
        row, host, implicit = current
        dialog = HostDialog(host, parent=self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if implicit:
            self._hosts.append(dialog.host())
        else:
            self._hosts[row] = dialog.host()
        self._fill_hosts()

    @Slot()
    def _remove_host(self) -> None:
        current = self._current_host()
        if current is None:
            return
        row, host, implicit = current
        if implicit:  # keep it listed, switched off, or it would come back by default
            self._hosts.append(host.model_copy(update={"enabled": False}))
        else:
            del self._hosts[row]
        self._fill_hosts()

    # ---- defaults -------------------------------------------------------------------

    def _build_defaults_tab(self) -> QWidget:
        s = self._settings
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 100)
        self.repeats.setValue(s.repeats)
        self.max_turns = budget_spin_box(200, " turns", "Most assistant turns per attempt")
        self.max_turns.setValue(s.budgets.max_turns or 0)
        self.max_tokens = budget_spin_box(1_000_000, " tokens", "Most tokens per attempt", step=1000)
        self.max_tokens.setValue(s.budgets.max_tokens or 0)
        self.max_seconds = budget_spin_box(3600, " s", "Most wall-clock seconds per attempt")
        self.max_seconds.setValue(round(s.budgets.max_seconds or 0))
        self.tool_mode = choice_box(TOOL_MODE_CHOICES, s.tool_mode)
        self.thinking = choice_box(THINKING_CHOICES, s.think)
        self.pace = QDoubleSpinBox()
        self.pace.setRange(0.0, 10.0)
        self.pace.setSingleStep(0.5)
        self.pace.setDecimals(1)
        self.pace.setValue(s.simulated_pace)
        self.pace.setToolTip("1 streams at each demo model's own speed; 0 answers instantly")
        self.theme = QComboBox()
        for label, value in (("Follow the system", ""), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        self.theme.setToolTip("Light and dark apply at once; following the system applies from the next start")
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Theme", self.theme)
        form.addRow("Runs per task", self.repeats)
        form.addRow("Turn budget", self.max_turns)
        form.addRow("Token budget", self.max_tokens)
        form.addRow("Time budget", self.max_seconds)
        form.addRow("Tool calls", self.tool_mode)
        form.addRow("Thinking", self.thinking)
        form.addRow("Simulated model pace", self.pace)
        pace_note = QLabel("The pace applies from the next start of AgentGap.")
        pace_note.setWordWrap(True)
        form.addRow("", pace_note)
        return page

    # ---- API keys -------------------------------------------------------------------

    def _build_keys_tab(self) -> QWidget:
        status = keyring_status()
        self.keyring_available = status.available
        self.keyring_message = QLabel(status.message)
        self.keyring_message.setWordWrap(True)
        intro = QLabel(
            "Keys let you compare a local model with a cloud model as a baseline. Nothing is "
            "sent anywhere unless you add a key and select that model in a run."
        )
        intro.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addWidget(self.keyring_message)
        form = QFormLayout()
        self.key_fields: dict[str, QLineEdit] = {}
        self.forget_buttons: dict[str, QPushButton] = {}
        for provider, title in CLOUD_KEYS:
            field = QLineEdit()
            field.setEchoMode(QLineEdit.EchoMode.Password)
            stored = get_api_key(provider) if status.available else None
            field.setPlaceholderText(
                "a key is stored; type a new one to replace it" if stored else "paste an API key"
            )
            field.setEnabled(status.available)
            forget = QPushButton("Forget")
            forget.setEnabled(bool(stored))
            forget.clicked.connect(lambda _=False, p=provider: self._forget_key(p))
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(forget)
            form.addRow(title, row)
            self.key_fields[provider] = field
            self.forget_buttons[provider] = forget
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _forget_key(self, provider: str) -> None:
        try:
            set_api_key(provider, None)
        except KeyringUnavailable as error:
            QMessageBox.warning(self, "API keys", str(error))
            return
        self.key_fields[provider].setPlaceholderText("paste an API key")
        self.forget_buttons[provider].setEnabled(False)

    def _save_keys(self) -> bool:
        for provider, field in self.key_fields.items():
            key = field.text().strip()
            if not key:
                continue
            try:
                set_api_key(provider, key)
            except KeyringUnavailable as error:
                QMessageBox.warning(self, "API keys", f"The key was not saved: {error}")
                return False
            field.clear()
        return True

    # ---- result ---------------------------------------------------------------------

    def settings_from_form(self) -> AppSettings:
        """The edited settings, validated like a settings file (raises ValidationError)."""
        data = self._settings.model_dump()
        data.update(
            hosts=[h.model_dump() for h in self._hosts],
            repeats=self.repeats.value(),
            budgets={
                "max_turns": self.max_turns.value() or None,
                "max_tokens": self.max_tokens.value() or None,
                "max_seconds": float(self.max_seconds.value()) or None,
            },
            tool_mode=ToolMode(self.tool_mode.currentData()),
            think=self.thinking.currentData(),
            simulated_pace=self.pace.value(),
            theme=self.theme.currentData(),
        )
        return AppSettings.model_validate(data)

    def accept(self) -> None:
        try:
            settings = self.settings_from_form()
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            QMessageBox.warning(self, "Preferences", f"These settings cannot be used: {problems}")
            return
        if self.keyring_available and not self._save_keys():
            return
        self.result_settings = settings
        super().accept()
