"""PySide6 looks into every module imported after it for its ``__feature__`` switches; the app
makes that look read the file's bytes, so the sources of its libraries do not stay in memory."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import pytest

from app.ui.main import keep_module_sources_out_of_memory


def test_modules_imported_after_pyside_leave_no_source_in_linecache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature = sys.modules["shibokensupport.feature"]
    (tmp_path / "uses_qt_here.py").write_text("import PySide6.QtCore\nVALUE = 1\n")
    (tmp_path / "plain_here.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    keep_module_sources_out_of_memory()
    keep_module_sources_out_of_memory()  # a second call changes nothing
    try:
        import plain_here as plain  # an import statement: PySide hooks ``__import__``
        import uses_qt_here as uses_qt
        assert uses_qt.VALUE == 1 and plain.VALUE == 2
        cached = set(linecache.cache)
        assert str(tmp_path / "uses_qt_here.py") not in cached
        assert str(tmp_path / "plain_here.py") not in cached
        # the answer PySide keeps is the one it would have found in the source
        assert feature.pyside_feature_dict["uses_qt_here"] == 0
        assert feature.pyside_feature_dict["plain_here"] == -1
    finally:
        for name in ("uses_qt_here", "plain_here"):
            sys.modules.pop(name, None)
            feature.pyside_feature_dict.pop(name, None)
