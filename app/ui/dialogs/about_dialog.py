"""About AgentGap: the version, and what this machine judges with (the facts of
``agentgap doctor``: the Python that runs checks, pytest, sandbox, database, keyring, hosts)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

import app
from app.core.config import AppSettings
from app.ui.background.workers import BackgroundCall


class AboutDialog(QDialog):
    """Opens at once; the machine's facts fill in from a worker thread (about a second)."""

    def __init__(self, settings: AppSettings, database: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About AgentGap")
        self.setMinimumWidth(560)
        intro = QLabel(
            f"<h3>AgentGap {app.__version__}</h3>"
            "<p>Which of your local models can actually work as an agent? AgentGap runs each "
            "model N times through tiered agent tasks with real tools, shows every tool call, "
            "and keeps every attempt.</p>"
            f"<p>Database: <code>{escape(str(database))}</code></p>"
        )
        intro.setWordWrap(True)
        self.facts = QLabel("Checking this machine…")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.facts)
        layout.addWidget(buttons)
        self._call = BackgroundCall(lambda: _diagnose(settings, database), name="about", parent=self)
        self._call.succeeded.connect(self.show_facts)
        self._call.failed.connect(lambda message: self.facts.setText(f"Could not check this machine: {escape(message)}"))
        self._call.start()

    @Slot(object)
    def show_facts(self, report: Any) -> None:
        probe = report.interpreter
        runner = "this app itself (standalone build)" if probe.frozen else probe.interpreter
        if probe.can_run_checks:
            checks = f"Python {probe.python_version} ({runner}); pytest {probe.pytest_version} imports there"
        else:
            checks = f"<b style='color:#b3261e'>cannot run checks</b>: {escape(probe.problem or '')} ({runner})"
        hosts = "".join(
            f"<li>{escape(h.host)} ({h.kind}): {'reachable' if h.reachable else 'not reachable'}, {escape(h.detail)}</li>"
            for h in report.hosts
        ) or "<li>none configured</li>"
        rows = [
            ("Checks run with", checks),
            ("Sandbox", escape(report.isolation)),
            ("Database folder", f"{escape(report.data_folder)}: {escape(report.data_folder_detail)}"),
            ("Keyring", f"{escape(report.keyring_backend)}: {escape(report.keyring_detail)}"),
        ]
        body = "".join(f"<tr><td><b>{name}</b>&nbsp;</td><td>{value}</td></tr>" for name, value in rows)
        self.facts.setText(
            f"<p><b>This machine</b> (<code>agentgap doctor</code> also runs one reference "
            f"attempt per suite)</p><table>{body}</table><p><b>Hosts</b></p><ul>{hosts}</ul>"
        )

    def done(self, result: int) -> None:
        self._call.wait(10.0)
        super().done(result)


def _diagnose(settings: AppSettings, database: Path) -> Any:
    from app.core.doctor import diagnose

    return diagnose(settings, database, judge_suites=False)
