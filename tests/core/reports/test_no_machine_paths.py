"""What users read and share names no machine path: transcripts, outcome details and every
export show workspace paths relative and the interpreter as ``python``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.chat import ChatRequest
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.modelref import ModelRef
from app.core.providers.base import ProviderKind
from app.core.reports.data import build_report
from app.core.reports.export import write_report
from app.core.runner import RunnerOptions
from tests.fakes.scripted_provider import ScriptedProvider, Turn

PROBE = "import os, sys; print(os.getcwd(), sys.executable, os.path.expanduser('~')); print(open('stats.py').name)"


def _nosy(request: ChatRequest) -> Turn:
    """A model whose commands print its folder, its interpreter and the home folder, run the
    tests (tracebacks name files), and break a file so the hidden check fails."""
    turn = sum(1 for m in request.messages if m.role == "assistant")
    steps = [
        Turn(calls=[("run_command", {"command": f'python -c "{PROBE}"'})]),
        Turn(calls=[("run_command", {"command": "python -c \"import stats; stats.mean([])\""})]),
        Turn(calls=[("write_file", {"path": "stats.py", "content": "def mean(values):\n    raise RuntimeError(__file__)\n"})]),
        Turn(calls=[("run_command", {"command": "pytest -q"})]),
        Turn(text="Done."),
    ]
    return steps[min(turn, len(steps) - 1)]


def test_no_export_holds_the_scratch_root_or_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    scratch = tmp_path / "scratch"
    provider = ScriptedProvider(responder=_nosy, host="nosy")
    with Engine(db_path=tmp_path / "p.db", settings=AppSettings(hosts=[])) as engine:
        engine.providers.put(provider)
        model = ModelRef(ProviderKind.SIMULATED, "nosy", "nosy")
        tasks = [engine.catalog.task("coding.read-fix-write"), engine.catalog.task("oneshot.parse-json")]
        plan = engine.plan([model, engine.parse_model("sim:verifier")], tasks, repeats=1)
        engine.execute(plan, CancelToken(), options=RunnerOptions(scratch_root=scratch))
        attempts = engine.repository.attempts(plan.run_id)
        transcript = "\n".join(repr(e) for a in attempts for e in engine.repository.transcript(a.id))
        outputs = []
        for fmt in ("html", "md", "csv", "json"):
            for path in write_report(build_report(engine.repository, [plan.run_id]), fmt, tmp_path / "out" / f"r.{fmt}"):
                outputs.append((path.name, path.read_text(encoding="utf-8", errors="replace")))
    # the model really did print its folder, interpreter and home: they were rewritten
    assert "stats.py" in transcript and "Traceback" in transcript
    assert "python" in transcript and "~" in transcript
    nosy = next(a for a in attempts if a.model.endswith("nosy") and a.task_id == "coding.read-fix-write")
    assert nosy.detail.startswith("hidden tests: ")
    home = os.path.expanduser("~")
    forbidden = {str(scratch), str(scratch.resolve()), home + os.sep, sys.prefix + os.sep, sys.executable, "agentgap-ws-",
                 "agentgap-hidden-"}
    for name, text in [("transcript", transcript), *outputs]:
        for path in forbidden:
            assert path not in text, f"{name} shows {path}"
    assert len(outputs) >= 4
