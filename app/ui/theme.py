"""Colours for outcomes and pass shares that stay readable on light and dark palettes.

Every colour is derived from the active ``QPalette``: pale tints on a light window,
deep tints on a dark one, so the palette's own text colour is always legible on them.
``AGENTGAP_THEME=dark|light`` forces a palette (used for screenshots and tests).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

from app.core.outcomes import Outcome

THEME_ENV = "AGENTGAP_THEME"

# Hues (degrees) of the outcome families.
_HUE_PASS = 120
_HUE_PARTIAL = 45
_HUE_BUDGET = 28
_HUE_FAIL = 0
_HUE_INFO = 210


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the window background is dark."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def tint(hue: int, palette: QPalette | None = None, *, strong: bool = False) -> QColor:
    """A background of ``hue`` on which the palette's text colour stays readable."""
    if is_dark(palette):
        return QColor.fromHsl(hue, 110 if strong else 90, 62 if strong else 52)
    return QColor.fromHsl(hue, 170 if strong else 150, 190 if strong else 215)


def neutral_tint(palette: QPalette | None = None) -> QColor:
    """A grey background for outcomes that do not count (infra errors, cancellations)."""
    palette = palette or QGuiApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    return base.lighter(170) if is_dark(palette) else base.darker(112)


def pass_share_color(share: float | None, palette: QPalette | None = None) -> QColor:
    """Red (0 %) through amber to green (100 %); neutral when nothing counted yet."""
    if share is None:
        return neutral_tint(palette)
    share = min(1.0, max(0.0, share))
    return tint(round(_HUE_FAIL + (_HUE_PASS - _HUE_FAIL) * share), palette)


def outcome_hue(outcome: Outcome) -> int | None:
    """The hue family of an outcome; None for outcomes that do not count."""
    if not outcome.counts_in_score:
        return None
    if outcome is Outcome.PASSED:
        return _HUE_PASS
    if outcome is Outcome.PARTIAL:
        return _HUE_PARTIAL
    if outcome.is_budget or outcome is Outcome.LOOP:
        return _HUE_BUDGET
    return _HUE_FAIL


def outcome_color(
    outcome: Outcome, palette: QPalette | None = None, *, strong: bool = True
) -> QColor:
    """Background for an outcome: ``strong`` for badges, pale for whole cards."""
    hue = outcome_hue(outcome)
    return neutral_tint(palette) if hue is None else tint(hue, palette, strong=strong)


def info_color(palette: QPalette | None = None) -> QColor:
    """Badge background for neutral information (native calls, simulated models)."""
    return tint(_HUE_INFO, palette, strong=True)


def text_color(palette: QPalette | None = None) -> QColor:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Text)


def dim_text_color(palette: QPalette | None = None) -> QColor:
    """Secondary text (thinking, hints): halfway between text and base."""
    palette = palette or QGuiApplication.palette()
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    return QColor(
        (text.red() + base.red()) // 2,
        (text.green() + base.green()) // 2,
        (text.blue() + base.blue()) // 2,
    )


def error_text_color(palette: QPalette | None = None) -> QColor:
    """Red text readable on the window background of either palette."""
    return QColor("#fca5a5") if is_dark(palette) else QColor("#b91c1c")


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def dark_palette() -> QPalette:
    """A neutral dark palette for the Fusion style."""
    p = QPalette()
    role = QPalette.ColorRole
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(230, 230, 230)
    for r, c in (
        (role.Window, window),
        (role.WindowText, text),
        (role.Base, base),
        (role.AlternateBase, QColor(40, 40, 43)),
        (role.ToolTipBase, QColor(60, 60, 64)),
        (role.ToolTipText, text),
        (role.PlaceholderText, QColor(150, 150, 150)),
        (role.Text, text),
        (role.Button, QColor(55, 55, 58)),
        (role.ButtonText, text),
        (role.BrightText, QColor(255, 90, 90)),
        (role.Link, QColor(110, 170, 255)),
        (role.Highlight, QColor(50, 110, 200)),
        (role.HighlightedText, QColor(255, 255, 255)),
        (role.Mid, QColor(70, 70, 74)),
        (role.Dark, QColor(25, 25, 27)),
        (role.Light, QColor(80, 80, 84)),
    ):
        p.setColor(r, c)
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(disabled, r, QColor(125, 125, 125))
    return p


def light_palette() -> QPalette:
    """The Fusion style's own light palette."""
    style = QStyleFactory.create("Fusion")
    return style.standardPalette() if style is not None else QPalette()


class OutlinedCheckStyle(QProxyStyle):
    """Fusion, with check boxes outlined in the text colour: on a dark palette Fusion's own
    outline (the window colour, darker) vanishes against the base colour."""

    _CHECKS = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    )

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element in self._CHECKS and is_dark(option.palette):
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(dim_text_color(option.palette))
            side = min(option.rect.width(), option.rect.height()) - 1
            box = QRect(0, 0, side, side)
            box.moveCenter(option.rect.center())
            painter.drawRect(box)
            painter.restore()


def apply_theme(app: QApplication, name: str | None = None) -> str:
    """Apply ``dark`` or ``light`` (default: ``$AGENTGAP_THEME``); ``""`` keeps the system look."""
    name = (name if name is not None else os.environ.get(THEME_ENV, "")).strip().lower()
    if name not in ("dark", "light"):
        return ""
    app.setStyle(OutlinedCheckStyle(QStyleFactory.create("Fusion")))
    app.setPalette(dark_palette() if name == "dark" else light_palette())
    return name
