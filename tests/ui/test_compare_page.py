"""Compare: ticking runs draws bars, whiskers, stacked failures, points and the task table."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.ui.charts.compare_charts import save_chart
from app.ui.main_window import COMPARE
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until


def test_compare_two_models_across_suites(open_window: WindowFactory, tmp_path: Path, settings: AppSettings, qtbot: QtBot) -> None:
    engine = Engine(db_path=tmp_path / "c.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:3] + engine.catalog.tasks("oneshot")[:2]
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:prose-only")], tasks, repeats=2)
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.show_page(COMPARE)
    page = window.compare_page
    assert page.runs.count() == 1
    from PySide6.QtCore import Qt

    page.runs.item(0).setCheckState(Qt.CheckState.Checked)
    wait_until(lambda: page.data is not None, qtbot)
    data = page.data
    assert data is not None and [m.model for m in data.models] == ["sim:competent", "sim:prose-only"]
    # one bar group per model across the two tiers present (readiness/basic; oneshot is the code score)
    assert len(page.by_tier.bars) == 2
    assert page.failures.segments, "prose-only fails: there must be failure segments"
    assert len(page.gap.points) == 2  # both models have a code score and an agent score
    assert page.table.rowCount() == len(tasks) + 1 and page.table.columnCount() == 3
    page.resize(1200, 800)
    png = save_chart(page.by_tier, tmp_path / "chart.png")
    svg = save_chart(page.failures, tmp_path / "chart.svg")
    assert png.stat().st_size > 1000 and "<svg" in svg.read_text()


def test_cell_lists_attempts_and_two_transcripts_side_by_side(
    open_window: WindowFactory, tmp_path: Path, settings: AppSettings, qtbot: QtBot
) -> None:
    from PySide6.QtCore import Qt

    engine = Engine(db_path=tmp_path / "c.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:2]
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:prose-only")], tasks, repeats=2)
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.show_page(COMPARE)
    page = window.compare_page
    page.runs.item(0).setCheckState(Qt.CheckState.Checked)
    wait_until(lambda: page.data is not None, qtbot)
    browser = page.browser
    # failures browser: prose-only never calls a tool
    assert browser.records and {r.outcome.value for r in browser.records if r.outcome} == {"no_tool_call"}
    # clicking the prose-only cell of the first task lists its two attempts
    page._on_cell_clicked(0, 2)
    assert page.tabs.currentWidget() is browser
    assert len(browser.records) == 2 and {r.model for r in browser.records} == {"sim:prose-only"}
    browser.table.setCurrentCell(1, 0)
    assert browser.comparison.shown_ids[0] == browser.records[1].id
    kept = browser.records[1].id
    browser.put_beside()
    browser.focus("sim:competent", tasks[0].id)
    # the selected row and the first transcript agree after every filter change; the kept one stays beside
    assert browser.table.currentRow() == 0
    assert browser.comparison.shown_ids[0] == browser.records[0].id
    assert browser.comparison.shown_ids[1] == kept  # put beside: it stays across filters
    assert "sim:prose-only" in browser.comparison.headers[1].text()
    assert "sim:competent" in browser.comparison.headers[0].text()


def test_heatmap_and_points_lead_to_attempts(open_window: WindowFactory, tmp_path: Path, settings: AppSettings, qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt

    engine = Engine(db_path=tmp_path / "c.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:3]
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:looper")], tasks, repeats=1)
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.show_page(COMPARE)
    page = window.compare_page
    page.runs.item(0).setCheckState(Qt.CheckState.Checked)
    wait_until(lambda: page.data is not None, qtbot)
    assert page.heatmap.matrix.shape == (2, 3)
    assert page.heatmap.matrix[1].tolist() == [0.0, 0.0, 0.0]  # the looper never finishes
    page.heatmap.pick_cell(1, 1)
    assert page.tabs.currentWidget() is page.browser
    assert [(r.model, r.task_id) for r in page.browser.records] == [("sim:looper", tasks[1].id)]


def test_pass_rate_small_multiples_and_heatmap_names_fit(open_window: WindowFactory, tmp_path: Path,
                                                         settings: AppSettings, qtbot: QtBot) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter

    from app.core.outcomes import ToolMode
    from app.core.plan import AttemptSettings

    engine = Engine(db_path=tmp_path / "c.db", settings=settings, simulated_pace=0.0)
    tasks = engine.catalog.tasks("readiness", "basic")[:2] + engine.catalog.tasks("readiness", "protocol")[:2]
    models = [engine.parse_model(m) for m in ("sim:competent", "sim:looper", "sim:text-caller")]
    settings_list = [AttemptSettings(tool_mode=ToolMode.RECOVERY), AttemptSettings(tool_mode=ToolMode.NATIVE)]
    plan = engine.plan(models, tasks, repeats=1, settings=settings_list)
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.resize(1280, 720)
    window.compare_runs([plan.run_id])
    page = window.compare_page
    wait_until(lambda: page.data is not None, qtbot)
    chart = page.by_tier
    page.tabs.setCurrentWidget(chart)
    qtbot.wait(50)
    # one panel per tier, one bar per series in each; names once per row of panels
    assert len(chart.panels) == 2 and len(chart.bars) == 2 * 6
    first = chart.panels[0].getAxis("left")._tickLevels[0]  # type: ignore[attr-defined]
    assert next(name for _, name in first).startswith("sim:competent")
    assert all(name == "" for _, name in chart.panels[1].getAxis("left")._tickLevels[0])  # type: ignore[attr-defined]
    # a click on the third bar of the second panel opens that series in that tier
    panel = chart.panels[1]
    scene_point = panel.vb.mapViewToScene(QPointF(1.0, 2.0))
    hit = chart.bar_under(scene_point)
    assert hit == (1, 2)
    with qtbot.waitSignal(chart.picked) as picked:
        chart.picked.emit(chart._filters[hit])
    assert picked.args[0].tier == chart._groups[1] and picked.args[0].model == chart._series[2]

    heatmap = page.heatmap
    page.tabs.setCurrentWidget(heatmap)
    qtbot.wait(50)
    top = heatmap.plot.getAxis("top")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    specs = top.generateDrawSpecs(painter)
    painter.end()
    drawn = [text for _, _, text in specs[2]]
    assert drawn and drawn[0].startswith(heatmap.models[0].split(" [")[0])  # the first column is named
    assert len(drawn) == len(heatmap.models)
    widest = max(heatmap.fontMetrics().horizontalAdvance(line) for t in drawn for line in t.splitlines())
    assert heatmap.column_width >= widest
