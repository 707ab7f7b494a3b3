"""The Qt binding keeps Python's reference counts: a binding that loses a reference to
``None`` on every call aborts the app after a few thousand calls on Python 3.11."""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from Python 3.12")
def test_void_calls_keep_the_references_to_none_and_true(qapp: QApplication) -> None:
    label, palette = QLabel(), QPalette()
    gc.collect()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        label.setText("x")
        label.setEnabled(True)
        palette.setColor(QPalette.ColorRole.Window, QColor("#123456"))
    gc.collect()
    assert sys.getrefcount(None) - none_before > -100
    assert sys.getrefcount(True) - true_before > -100
