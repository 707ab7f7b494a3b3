"""In a frozen build ``sys.executable`` is the app: ``AgentGap -m module`` and ``-c code``
must run Python code, not start the GUI or the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from app.__main__ import main

TINY = """\
import json, sys
with open(sys.argv[1], "w") as out:
    json.dump({"argv": sys.argv[1:], "name": __name__}, out)
if len(sys.argv) > 2 and sys.argv[2] == "fail":
    sys.exit(3)
"""


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "argv", ["AgentGap"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "agentgap_tiny_module.py").write_text(TINY)
    return tmp_path


def test_dash_m_runs_the_module_as_main(frozen: Path) -> None:
    out = frozen / "out.json"
    assert main(["-m", "agentgap_tiny_module", str(out), "x"]) == 0
    assert json.loads(out.read_text()) == {"argv": [str(out), "x"], "name": "__main__"}


def test_dash_m_passes_the_modules_exit_status_on(frozen: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["-m", "agentgap_tiny_module", str(frozen / "out.json"), "fail"])
    assert exit_.value.code == 3


def test_dash_c_runs_the_code(frozen: Path) -> None:
    out = frozen / "c.txt"
    code = "import sys; open(sys.argv[1], 'w').write(__name__ + ' ' + sys.argv[0])"
    assert main(["-c", code, str(out)]) == 0
    assert out.read_text() == "__main__ -c"


def test_dash_m_without_a_module_is_a_usage_error(frozen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-m"]) == 2
    assert "-m" in capsys.readouterr().err


def test_a_script_path_runs_as_main(frozen: Path) -> None:
    script = frozen / "script.py"
    script.write_text(TINY)
    out = frozen / "s.json"
    assert main([str(script), str(out)]) == 0
    assert json.loads(out.read_text()) == {"argv": [str(out)], "name": "__main__"}


def test_as_python_marker_makes_every_argument_list_python(
    frozen: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTGAP_AS_PYTHON", "1")
    assert main(["--version"]) == 0  # Python's version, not AgentGap's
    assert capsys.readouterr().out.startswith("Python 3.")
    out = frozen / "u.txt"
    assert main(["-u", "-B", "-c", "import sys; open(sys.argv[1], 'w').write('ok')", str(out)]) == 0
    assert out.read_text() == "ok"


def test_an_uncaught_exception_prints_a_traceback_and_exits_1(frozen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", "raise ValueError('boom')"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: boom" in err
