"""A broken or hostile task file gets a clear message naming file and field; it never
hangs or crashes loading, and the other suites still load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.core.tasks.json_schema import SCHEMA_FILE, task_file_schema_text
from app.core.tasks.loader import load_catalog

REPO = Path(__file__).resolve().parents[3]

GOOD: dict[str, Any] = {
    "id": "mine.good", "title": "good", "tier": "basic", "prompt": "hi",
    "checks": [{"type": "answer", "contains": ["hi"]}], "reference": [{"answer": "hi"}],
}


def suite(root: Path, name: str = "mine") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump({"id": name, "title": name, "tiers": ["basic"]}))
    (folder / "good.yaml").write_text(yaml.safe_dump(dict(GOOD, id=f"{name}.good")))
    return folder


def problems_of(root: Path) -> list[str]:
    catalog = load_catalog([root])
    assert [t.id for t in catalog.tasks()] == ["mine.good"]  # the good file still loads
    [error] = catalog.errors
    assert error.path.name == "bad.yaml"
    return error.problems


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(("text", "expected"), [
    (ALIAS_BOMB, "aliases"),
    ("x: " + "[" * 5000 + "]" * 5000, "nest"),  # our limit, or the YAML parser's own
    ("x:\n" + "".join(" " * i + "- \n" for i in range(1, 900)), "nested more than"),
    ("x: " + "'" + "a" * 2_000_000 + "'", "bytes"),
    ("\tkey: [unclosed", "not valid YAML"),
    ("- a list\n- not a mapping", "mapping of fields"),
])
def test_hostile_yaml_is_refused_with_a_reason(tmp_path: Path, text: str, expected: str) -> None:
    (suite(tmp_path) / "bad.yaml").write_text(text)
    assert any(expected in p for p in problems_of(tmp_path))


@pytest.mark.parametrize(("change", "field"), [
    ({"workspace": "../../../etc"}, "workspace"),
    ({"workspace": "/etc"}, "workspace"),
    ({"checks": [{"type": "command", "argv": ["python", "-V"], "hidden": "../.."}]}, "checks.0.hidden"),
    ({"checks": [{"type": "command", "argv": ["bash", "-c", "true"]}]}, "checks.0.argv"),
    ({"checks": [{"type": "command", "argv": []}]}, "checks.0.command.argv"),
    ({"checks": [{"type": "command", "argv": ["pytest"], "timeout_s": -1}]}, "checks.0.command.timeout_s"),
    ({"checks": [{"type": "answer", "regex": "(unclosed"}]}, "checks.0.answer.regex"),
    ({"checks": [{"type": "file", "path": "a", "regex": "[z-a]"}]}, "checks.0.file.regex"),
    ({"tools": [{"name": "f", "description": "f",
                 "parameters": {"type": "object", "properties": {"x": {"type": "float"}}}}]},
     "tools.0"),
])
def test_bad_fields_are_named(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    (suite(tmp_path) / "bad.yaml").write_text(yaml.safe_dump(dict(GOOD, id="mine.bad", **change)))
    problems = problems_of(tmp_path)
    assert any(p.startswith(field) for p in problems), problems


def test_a_workspace_linked_outside_the_suite_is_refused(tmp_path: Path) -> None:
    folder = suite(tmp_path / "suites")
    (tmp_path / "secret").mkdir()
    (folder / "ws").symlink_to(tmp_path / "secret")
    (folder / "bad.yaml").write_text(yaml.safe_dump(dict(GOOD, id="mine.bad", workspace="ws")))
    assert any("outside the suite" in p for p in problems_of(tmp_path / "suites"))


def test_one_broken_suite_never_stops_the_others(tmp_path: Path) -> None:
    suite(tmp_path, "mine")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "suite.yaml").write_text(ALIAS_BOMB)
    catalog = load_catalog([REPO / "tasks", tmp_path])
    assert {"readiness", "api-chain", "mine"} <= set(catalog.suites)
    assert [e.path.parent.name for e in catalog.errors] == ["broken"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def test_validate_names_file_and_field_and_points_to_the_reference(tmp_path: Path) -> None:
    folder = suite(tmp_path)
    bad = dict(GOOD, id="mine.bad", tools=[{"name": "f", "description": "f",
               "parameters": {"type": "object", "properties": {"d": {"type": "dict"}}}}])
    (folder / "bad.yaml").write_text(yaml.safe_dump(bad))
    for target in (folder, folder / "bad.yaml"):
        done = run_cli("tasks", "validate", str(target))
        assert done.returncode == 1
        assert "bad.yaml" in done.stderr and "tools.0" in done.stderr
        assert "docs/tasks.md" in done.stderr and SCHEMA_FILE in done.stderr


def test_the_committed_json_schema_is_up_to_date() -> None:
    assert (REPO / SCHEMA_FILE).read_text() == task_file_schema_text(), (
        "regenerate with: python -m app tasks schema > docs/task-schema.json"
    )


def test_every_built_in_task_file_satisfies_the_json_schema() -> None:
    schema = json.loads((REPO / SCHEMA_FILE).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    files = [p for p in (REPO / "tasks").rglob("*.yaml")
             if p.name != "suite.yaml" and (p.parent.name != "workspace" and "hidden" not in p.parts)]
    checked = 0
    for path in files:
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "id" in data and "tier" in data:
            assert list(validator.iter_errors(data)) == [], path
            checked += 1
    assert checked >= 60
    broken = dict(GOOD, checks=[{"type": "answer", "contanis": ["x"]}])
    assert list(validator.iter_errors(broken))
