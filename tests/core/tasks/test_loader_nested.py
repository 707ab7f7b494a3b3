"""Finding ``task.yaml`` files: a task's own folder is not searched for more tasks."""

from __future__ import annotations

from pathlib import Path

from app.core.tasks.loader import load_catalog


def _task_yaml(task_id: str, *, workspace: bool = False) -> str:
    return (
        f"id: {task_id}\ntitle: t\ntier: a\nprompt: p\n"
        + ("workspace: workspace\n" if workspace else "")
        + "checks: [{type: answer, contains: [x]}]\nreference: [{answer: x}]\n"
    )


def test_a_task_yaml_inside_a_tasks_workspace_or_hidden_folder_is_not_a_task(tmp_path: Path) -> None:
    suite = tmp_path / "mine"
    suite.mkdir()
    (suite / "suite.yaml").write_text("id: mine\ntitle: Mine\ntiers: [a]\n")
    task = suite / "parser"
    (task / "workspace" / "fixtures").mkdir(parents=True)
    (task / "hidden").mkdir()
    (task / "task.yaml").write_text(_task_yaml("mine.parser", workspace=True))
    # fixtures the model works on: one valid-looking, one broken
    (task / "workspace" / "fixtures" / "task.yaml").write_text(_task_yaml("mine.fixture"))
    (task / "hidden" / "task.yaml").write_text("id: [not, a, task]\n")
    deeper = suite / "group" / "nested"
    deeper.mkdir(parents=True)
    (deeper / "task.yaml").write_text(_task_yaml("mine.nested"))

    catalog = load_catalog([suite])

    assert catalog.errors == []
    assert [t.id for t in catalog.tasks()] == ["mine.nested", "mine.parser"]


def test_a_code_answer_check_has_no_unused_partial_min(tmp_path: Path) -> None:
    """Partial credit comes from several weighted checks; a per-check threshold is refused
    rather than silently ignored."""
    suite = tmp_path / "mine"
    suite.mkdir()
    (suite / "suite.yaml").write_text("id: mine\ntitle: Mine\ntiers: [a]\nkind: oneshot\n")
    (suite / "code.yaml").write_text(
        "id: mine.code\ntitle: t\ntier: a\nprompt: p\nexpect: answer\npartial_credit: true\n"
        "checks: [{type: code_answer, test: 'def test_x(): pass', partial_min: 0.5}]\n"
        "reference: [{answer: x}]\n"
    )
    catalog = load_catalog([suite])
    assert catalog.tasks() == []
    assert [p for e in catalog.errors for p in e.problems if "partial_min" in p]
