"""File → Export: write the run on screen (or the one picked in History) as a report."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core.engine import Engine
from app.core.reports.data import build_report
from app.core.reports.export import suggested_file_name, write_report
from app.ui.background.workers import BackgroundCall

FILTERS = {
    "HTML report (*.html)": "html",
    "Markdown with chart images (*.md)": "md",
    "CSV, one row per attempt (*.csv)": "csv",
    "JSON (*.json)": "json",
}


def export_run(parent: QWidget, engine: Engine, run_id: str) -> BackgroundCall | None:
    """Ask where to save, then build and write the report off the GUI thread."""
    names = [run.name for run in engine.repository.run_summaries([run_id])]
    suggested = suggested_file_name(names or [run_id], time.time(), "html")
    path, chosen = QFileDialog.getSaveFileName(parent, "Export report", str(Path.home() / suggested), ";;".join(FILTERS))
    if not path:
        return None
    fmt = FILTERS.get(chosen) or Path(path).suffix.lstrip(".") or "html"
    target = Path(path)
    if target.suffix.lstrip(".") != fmt:
        target = target.with_suffix(f".{fmt}")

    def work() -> list[Path]:
        return write_report(
            build_report(engine.repository, [run_id], with_attempts=fmt in ("csv", "json")), fmt, target
        )

    call = BackgroundCall(work, name="export", parent=parent)
    call.succeeded.connect(
        lambda written: QMessageBox.information(
            parent, "Report exported", "Wrote:\n" + "\n".join(str(p) for p in written)
        )
    )
    call.failed.connect(lambda message: QMessageBox.warning(parent, "Export failed", message))
    return call.start()
