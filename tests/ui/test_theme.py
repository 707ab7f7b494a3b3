"""Outcome and pass-share colours stay readable with both the light and the dark palette."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from app.core.outcomes import Outcome
from app.ui import theme


@pytest.fixture(params=["light", "dark"])
def palette(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[QPalette]:
    previous_palette, previous_style = qapp.palette(), qapp.style().name()
    assert theme.apply_theme(qapp, request.param) == request.param
    yield qapp.palette()
    qapp.setStyle(previous_style)
    qapp.setPalette(previous_palette)


def test_theme_follows_the_palette(palette: QPalette) -> None:
    dark = theme.is_dark(palette)
    assert dark == (QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128)
    pale = theme.pass_share_color(1.0, palette)
    assert (pale.lightness() < 128) == dark


@pytest.mark.parametrize("share", [None, 0.0, 0.33, 0.5, 0.67, 1.0])
def test_pass_share_cells_are_readable(palette: QPalette, share: float | None) -> None:
    text = palette.color(QPalette.ColorRole.Text)
    assert theme.contrast_ratio(text, theme.pass_share_color(share, palette)) >= 4.5


@pytest.mark.parametrize("outcome", list(Outcome))
def test_outcome_badges_and_cards_are_readable(palette: QPalette, outcome: Outcome) -> None:
    text = palette.color(QPalette.ColorRole.Text)
    for strong in (True, False):
        background = theme.outcome_color(outcome, palette, strong=strong)
        assert theme.contrast_ratio(text, background) >= 4.5, (outcome, strong, background.name())


def test_pass_and_fail_are_told_apart(palette: QPalette) -> None:
    passed = theme.outcome_color(Outcome.PASSED, palette)
    failed = theme.outcome_color(Outcome.WRONG_RESULT, palette)
    assert passed.hslHue() != failed.hslHue()
    assert theme.outcome_hue(Outcome.INFRA_ERROR) is None  # infra errors are neutral, not red


def test_unknown_theme_keeps_the_system_look(qapp: QApplication) -> None:
    assert theme.apply_theme(qapp, "sepia") == ""
