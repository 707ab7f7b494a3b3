"""A red banner over a run's results when attempts could not be judged (``harness_error``)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from app.core.unjudged import Unjudged

_STYLE = (
    "QLabel#unjudgedBanner { background: #b3261e; color: white; padding: 6px 10px; "
    "border-radius: 4px; font-weight: bold; }"
)


class UnjudgedBanner(QLabel):
    """Hidden until a run holds attempts AgentGap itself could not judge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unjudgedBanner")
        self.setStyleSheet(_STYLE)
        self.setWordWrap(True)
        self.hide()

    def show_unjudged(self, found: Unjudged | None) -> None:
        if found is None:
            self.hide()
            return
        self.setText(
            f"{found.headline}. This is AgentGap's fault, not the models': these attempts are "
            "not counted. Run `agentgap doctor` to see what this machine lacks."
        )
        self.setToolTip("\n".join(a.line for a in found.attempts[:20]))
        self.show()
