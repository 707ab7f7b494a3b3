"""Our side's faults end as ``harness_error``: never scored, never retried, never the model's."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.events import AttemptFinished, InfraError
from app.core.outcomes import Outcome
from app.core.tasks import builtin_tools
from app.core.tasks.interpreter import OVERRIDE_ENV
from app.core.tasks.loader import Catalog, load_catalog
from app.core.tasks.schema import MockTool
from tests.core.agent.test_loop import _attempt
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
PARSE_JSON_ANSWER = "```python\nimport json\n\ndef get_names(t):\n    return [o['name'] for o in json.loads(t) if 'name' in o]\n```"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([REPO / "tasks"])


def _assert_unjudged(finished: AttemptFinished, events: list[object], words: str) -> None:
    assert finished.outcome is Outcome.HARNESS_ERROR, finished.detail
    assert not finished.outcome.counts_in_score
    assert finished.infra_retries == 0 and not any(isinstance(e, InfraError) for e in events)
    assert words in finished.detail


def test_a_crashing_tool_is_our_fault(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(sandbox: object, arguments: object) -> object:
        raise KeyError("internal state")

    monkeypatch.setitem(builtin_tools._HANDLERS, "list_files", crash)
    provider = ScriptedProvider(turns=[Turn(calls=[("list_files", {})]), Turn(text="done")])
    finished, events = _attempt(catalog.task("coding.config-read"), provider)
    _assert_unjudged(finished, events, "the list_files tool crashed: KeyError")


def test_a_tool_schema_that_cannot_be_used_is_our_fault(catalog: Catalog) -> None:
    task = catalog.task("readiness.single-tool.weather")
    tool = task.spec.tools[0]
    assert isinstance(tool, MockTool)
    broken = tool.model_copy(update={"parameters": {"type": "object", "properties": {"city": {"type": 12}}}})
    task = dataclasses.replace(task, spec=task.spec.model_copy(update={"tools": [broken]}))
    provider = ScriptedProvider(turns=[Turn(calls=[(tool.name, {"city": "Paris"})]), Turn(text="14 °C")])
    finished, events = _attempt(task, provider)
    _assert_unjudged(finished, events, f"schema for the {tool.name} tool cannot be used")


def test_a_crashing_check_is_our_fault(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.tasks import workspace_checks

    def crash(*args: object) -> tuple[bool, str]:
        raise RuntimeError("checker bug")

    monkeypatch.setattr(workspace_checks, "code_answer_check", crash)
    monkeypatch.setattr(workspace_checks, "probe_check", crash)
    finished, events = _attempt(catalog.task("oneshot.parse-json"), ScriptedProvider(turns=[Turn(text=PARSE_JSON_ANSWER)]))
    _assert_unjudged(finished, events, "check could not run: RuntimeError: checker bug")


@pytest.fixture(scope="module")
def python_without_pytest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    assert subprocess.run([str(python), "-c", "import pytest"], capture_output=True).returncode != 0
    return python


def test_a_check_whose_interpreter_lacks_pytest_is_our_fault(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, python_without_pytest: Path
) -> None:
    monkeypatch.setenv(OVERRIDE_ENV, str(python_without_pytest))
    finished, events = _attempt(catalog.task("coding.tdd"), ScriptedProvider(turns=[Turn(text="Done.")]))
    _assert_unjudged(finished, events, "pytest is not installed in the Python that runs checks")


def test_the_same_answer_passes_with_the_installed_interpreter(catalog: Catalog) -> None:
    finished, _ = _attempt(catalog.task("oneshot.parse-json"), ScriptedProvider(turns=[Turn(text=PARSE_JSON_ANSWER)]))
    assert finished.outcome is Outcome.PASSED, finished.detail


def test_model_code_that_stops_pytest_like_a_usage_error_is_the_models_failure(catalog: Catalog) -> None:
    """A module that exits with pytest's usage-error status at import must not turn its
    failed hidden tests into an unscored harness_error: a control run without the model's
    code tells the two apart."""
    rigged = "import os\nos._exit(4)\n"
    provider = ScriptedProvider(turns=[
        Turn(calls=[("write_file", {"path": "roman.py", "content": rigged})]),
        Turn(text="Done."),
    ])
    finished, _ = _attempt(catalog.task("coding.tdd"), provider)
    assert finished.outcome is not Outcome.HARNESS_ERROR, finished.detail
    assert finished.outcome.counts_in_score and not finished.outcome.is_pass
