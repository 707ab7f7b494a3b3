"""Models: every configured server and its models, and what to do when none is found."""

from __future__ import annotations

import html

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.config import HostConfig, save_settings
from app.core.engine import Engine
from app.core.modelref import default_ollama_host
from app.core.providers.base import HostStatus, ProviderKind
from app.core.tasks.jail import IsolationLevel, isolation_level
from app.ui.background.workers import BackgroundCall
from app.ui.dialogs.host_dialog import HostDialog
from app.ui.formatting import plural
from app.ui.models.models_tree import HOST_ROLE, BadgeDelegate, HostModelsTreeModel

EMPTY_STATE_HTML = """
<h3>No model server found</h3>
<p>AgentGap looks for Ollama at <code>{default}</code> and at any server you add here.
To test the models on this machine:</p>
<ol>
<li>Install Ollama from ollama.com, then start it: <code>ollama serve</code></li>
<li>Pull a small model that can call tools: <code>ollama pull qwen2.5:3b</code></li>
<li>Press <b>Refresh</b>.</li>
</ol>
<p>Or see the whole app work right now with the built-in <i>simulated</i> demo models,
scripted to behave like typical local models (one competent, one that writes its tool
calls as text, one that loops, one that only talks).</p>
"""


def isolation_text(level: IsolationLevel) -> str:
    """One line on how coding tasks' commands are kept apart on this machine."""
    if level.is_jail:
        return f"Commands of coding tasks run in a {level.label}."
    return (
        "Commands of coding tasks run with process isolation only: no jail (install bubblewrap "
        "on Linux), so a model's code could reach this machine's files and network."
    )


class ModelsPage(QWidget):
    """Discovery runs on a worker; the tree, the empty state and host edits live here."""

    discovered = Signal(list)  # list[HostStatus]
    demo_requested = Signal()

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._discovery: BackgroundCall | None = None
        self._arrived: list[HostStatus] | None = None  # hosts known so far while discovering
        self.tree_model = HostModelsTreeModel()

        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ask every server again which models it has (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.add_button = QPushButton("Add server…")
        self.add_button.clicked.connect(self.add_host)
        self.edit_button = QPushButton("Edit server…")
        self.edit_button.clicked.connect(self.edit_host)
        self.remove_button = QPushButton("Remove server")
        self.remove_button.clicked.connect(self.remove_host)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(160)
        self.busy.setTextVisible(False)
        self.busy_label = QLabel("Looking for models…")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.empty_state = QFrame()
        self.empty_state.setFrameShape(QFrame.Shape.StyledPanel)
        self.empty_text = QLabel()
        self.empty_text.setWordWrap(True)
        self.empty_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_button = QPushButton("Try the simulated demo models")
        self.demo_button.clicked.connect(self.demo_requested)
        empty_layout = QVBoxLayout(self.empty_state)
        empty_layout.addWidget(self.empty_text)
        empty_layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.empty_state.hide()

        self.tree = QTreeView()
        self.tree.setModel(self.tree_model)
        self.tree.setItemDelegate(BadgeDelegate(self.tree))
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.selectionModel().currentChanged.connect(self._update_buttons)
        self.tree_model.modelReset.connect(self._after_reset)

        buttons = QHBoxLayout()
        for widget in (self.refresh_button, self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(widget)
        buttons.addSpacing(12)
        buttons.addWidget(self.busy)
        buttons.addWidget(self.busy_label)
        buttons.addStretch(1)
        self.isolation = QLabel(isolation_text(isolation_level()))
        self.isolation.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.isolation)
        layout.addWidget(self.empty_state)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self._set_busy(False)
        self._update_buttons()

    # ---- discovery ------------------------------------------------------------------

    @property
    def hosts(self) -> list[HostStatus]:
        return self.tree_model.hosts

    @property
    def discovering(self) -> bool:
        """True from ``refresh`` until every host's state is shown."""
        return self._arrived is not None

    @Slot()
    def refresh(self) -> None:
        """Probe every host on a worker thread; results arrive in ``_on_discovered``."""
        if self.discovering:
            return
        self._set_busy(True)
        self._arrived = []
        engine = self._engine
        call = BackgroundCall(lambda: engine.discover(on_status=call.report), name="discovery", parent=self)
        call.progressed.connect(self._on_host_known)
        call.succeeded.connect(self._on_discovered)
        call.failed.connect(self._on_discovery_failed)
        call.done.connect(call.deleteLater)
        self._discovery = call.start()

    def wait_for_discovery(self, timeout: float) -> bool:
        return self._discovery is None or self._discovery.wait(timeout)

    @Slot(object)
    def _on_host_known(self, status: HostStatus) -> None:
        """Show each host as soon as it has answered (or refused); the rest follow."""
        if self._arrived is None:  # that discovery is over
            return
        self._arrived.append(status)
        order = [h.normalized_url for h in self._engine.settings.effective_hosts()]

        def place(host: HostStatus) -> int:
            if host.provider is ProviderKind.SIMULATED:
                return len(order) + 1
            return order.index(host.host) if host.host in order else len(order)

        self.tree_model.set_hosts(sorted(self._arrived, key=place), self._host_labels())

    def _host_labels(self) -> dict[str, str]:
        return {h.normalized_url: h.label for h in self._engine.settings.effective_hosts()}

    @Slot(object)
    def _on_discovered(self, statuses: list[HostStatus]) -> None:
        self._arrived = None
        self._discovery = None
        self._set_busy(False)
        self.tree_model.set_hosts(statuses, self._host_labels())
        self._show_empty_state(statuses)
        self.discovered.emit(statuses)

    @Slot(str)
    def _on_discovery_failed(self, message: str) -> None:
        self._arrived = None
        self._discovery = None
        self._set_busy(False)
        self.summary.setText(f"Looking for models failed: {message}")

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.refresh_button.setEnabled(not busy)

    def _show_empty_state(self, statuses: list[HostStatus]) -> None:
        real = [s for s in statuses if s.provider is not ProviderKind.SIMULATED]
        reachable = [s for s in real if s.reachable]
        models = sum(len(s.models) for s in reachable)
        unreachable = [s for s in real if not s.reachable]
        if reachable:
            self.empty_state.hide()
            lines = [f"{plural(models, 'model')} on {plural(len(reachable), 'server')}."]
            lines += [
                f"<b>{html.escape(s.host)}</b> did not answer: {html.escape(s.error or 'no answer')}"
                for s in unreachable
            ]
            self.summary.setText("<br>".join(lines))
            return
        errors = "".join(
            f"<li><b>{html.escape(s.host)}</b>: {html.escape(s.error or 'no answer')}</li>"
            for s in unreachable
        )
        body = EMPTY_STATE_HTML.format(default=html.escape(default_ollama_host()))
        if errors:
            body += f"<p>What happened when AgentGap tried:</p><ul>{errors}</ul>"
        elif not real:
            body += "<p>No server is enabled: add one with <b>Add server…</b>.</p>"
        self.empty_text.setText(body)
        self.empty_state.show()
        self.summary.setText("Only the simulated demo models are available.")

    @Slot()
    def _after_reset(self) -> None:
        for row in range(self.tree_model.rowCount()):
            self.tree.setFirstColumnSpanned(row, QModelIndex(), True)
        self.tree.expandAll()
        self._update_buttons()

    # ---- hosts ----------------------------------------------------------------------

    def _selected_host(self) -> HostConfig | None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        if index.parent().isValid():
            index = index.parent()
        status = index.siblingAtColumn(0).data(HOST_ROLE)
        if not isinstance(status, HostStatus) or status.provider is ProviderKind.SIMULATED:
            return None
        for host in self._engine.settings.effective_hosts():
            if host.normalized_url == status.host and host.provider is status.provider:
                return host
        return None

    @Slot()
    def _update_buttons(self, *_: object) -> None:
        selected = self._selected_host() is not None
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
        hint = "" if selected else "Select a server (not the simulated one) first"
        self.edit_button.setToolTip(hint)
        self.remove_button.setToolTip(hint)

    @Slot()
    def add_host(self) -> None:
        dialog = HostDialog(parent=self)
        if dialog.exec() == HostDialog.DialogCode.Accepted:
            self._save_hosts([*self._configured_hosts(), dialog.host()])

    @Slot()
    def edit_host(self) -> None:
        current = self._selected_host()
        if current is None:
            return
        dialog = HostDialog(current, parent=self)
        if dialog.exec() != HostDialog.DialogCode.Accepted:
            return
        edited = dialog.host()
        hosts = [h for h in self._configured_hosts() if not _same(h, current)]
        self._save_hosts([*hosts, edited])

    @Slot()
    def remove_host(self) -> None:
        current = self._selected_host()
        if current is None:
            return
        answer = QMessageBox.question(
            self,
            "Remove server",
            f"Stop looking for models at {current.normalized_url}?\n"
            "Runs already stored are kept.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        hosts = [h for h in self._configured_hosts() if not _same(h, current)]
        if current.kind == "ollama" and not any(h.kind == "ollama" for h in hosts):
            # Without any Ollama entry the default host would come back; keep it, switched off.
            hosts.append(current.model_copy(update={"enabled": False}))
        self._save_hosts(hosts)

    def _configured_hosts(self) -> list[HostConfig]:
        return list(self._engine.settings.hosts)

    def _save_hosts(self, hosts: list[HostConfig]) -> None:
        self._engine.settings = self._engine.settings.model_copy(update={"hosts": hosts})
        save_settings(self._engine.settings)
        self.refresh()


def _same(a: HostConfig, b: HostConfig) -> bool:
    return a.kind == b.kind and a.normalized_url == b.normalized_url
