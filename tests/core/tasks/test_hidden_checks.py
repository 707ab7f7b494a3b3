"""Hidden test checks: run apart from the workspace, immune to configuration the model
writes there, and leaving nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.loader import Task, load_task
from app.core.tasks.schema import CommandCheck, SuiteSpec
from app.core.tasks.workspace_checks import command_check

HIDDEN_TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
BROKEN = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
# A plugin that turns every failed test into a pass.
RIG = (
    "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\n"
    "def pytest_runtest_makereport(item, call):\n"
    "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
)


@pytest.fixture
def task(tmp_path: Path) -> Task:
    base = tmp_path / "task"
    (base / "workspace").mkdir(parents=True)
    (base / "workspace" / "calc.py").write_text(BROKEN)
    (base / "hidden").mkdir()
    (base / "hidden" / "test_calc_hidden.py").write_text(HIDDEN_TEST)
    (base / "task.yaml").write_text(
        "id: t\ntitle: t\ntier: a\nprompt: fix calc.add\nworkspace: workspace\n"
        "tools: [{builtin: write_file}]\n"
        "checks: [{type: command, argv: [pytest, -q, test_calc_hidden.py], hidden: hidden}]\n"
        "reference: [{answer: done}]\n"
    )
    return load_task(base / "task.yaml", SuiteSpec(id="s", title="s", tiers=["a"]))


def _check(task: Task) -> CommandCheck:
    check = task.spec.checks[0]
    assert isinstance(check, CommandCheck)
    return check


RIGGED_WORKSPACES: dict[str, dict[str, str]] = {
    "conftest hook": {"conftest.py": RIG},
    "conftest deselecting the test": {
        "conftest.py": "def pytest_collection_modifyitems(config, items):\n"
        "    config.hook.pytest_deselected(items=list(items))\n    items[:] = []\n"
        "\n\ndef pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 0\n",
    },
    "pytest.ini plugin": {"pytest.ini": "[pytest]\naddopts = -p rig\n", "rig.py": RIG},
    "pyproject.toml plugin": {"pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p rig"\n', "rig.py": RIG},
    "setup.cfg plugin": {"setup.cfg": "[tool:pytest]\naddopts = -p rig\n", "rig.py": RIG},
    "tox.ini plugin": {"tox.ini": "[pytest]\naddopts = -p rig\n", "rig.py": RIG},
    "sitecustomize": {"sitecustomize.py": "import os\nos._exit(0)\n"},
    "usercustomize": {"usercustomize.py": "import os\nos._exit(0)\n"},
    "pth file": {"rig.pth": "import os; os._exit(0)\n"},
}


@pytest.mark.parametrize("files", RIGGED_WORKSPACES.values(), ids=RIGGED_WORKSPACES.keys())
def test_configuration_in_the_workspace_cannot_rig_the_hidden_tests(
    task: Task, tmp_path: Path, files: dict[str, str]
) -> None:
    with TaskEnvironment(task, scratch_root=tmp_path / "scratch") as env:
        assert env.sandbox is not None
        for name, text in files.items():
            (env.sandbox.root / name).write_text(text)
        passed, detail = command_check(_check(task), env)
    assert not passed, detail
    assert "1 failed" in detail


def test_code_that_ends_the_test_run_early_does_not_pass(task: Task, tmp_path: Path) -> None:
    with TaskEnvironment(task, scratch_root=tmp_path / "scratch") as env:
        assert env.sandbox is not None
        (env.sandbox.root / "calc.py").write_text("import os\nos._exit(0)\n")
        passed, detail = command_check(_check(task), env)
    assert not passed and "no passed tests" in detail


def test_a_real_fix_passes_and_a_helpful_conftest_is_not_needed(task: Task, tmp_path: Path) -> None:
    with TaskEnvironment(task, scratch_root=tmp_path / "scratch") as env:
        assert env.sandbox is not None
        (env.sandbox.root / "calc.py").write_text(FIXED)
        (env.sandbox.root / "conftest.py").write_text("raise SystemExit('never loaded')\n")
        assert command_check(_check(task), env) == (True, "1 passed")


def test_hidden_files_never_enter_the_workspace_and_nothing_is_left(task: Task, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    with TaskEnvironment(task, scratch_root=scratch) as env:
        assert env.sandbox is not None
        before = sorted(p.relative_to(env.sandbox.root) for p in env.sandbox.root.rglob("*"))
        for _ in range(2):
            command_check(_check(task), env)
            after = sorted(p.relative_to(env.sandbox.root) for p in env.sandbox.root.rglob("*"))
            assert after == before
            assert [p.name for p in scratch.iterdir()] == [env.sandbox.root.name]
    assert list(scratch.iterdir()) == []
