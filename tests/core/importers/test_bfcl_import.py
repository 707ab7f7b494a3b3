"""``agentgap import bfcl``: BFCL-shaped cases (written here, not BFCL's) become tasks whose
reference passes and whose null model fails, with BFCL's possible answers as matchers;
the installed bfcl-eval data, when present, converts category by category."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import util
from pathlib import Path
from typing import Any

import pytest

from app.core.importers.bfcl_data import CATEGORIES, locate
from app.core.importers.bfcl_suite import import_bfcl
from app.core.outcomes import Outcome, ToolMode
from app.core.tasks.loader import Task, load_catalog
from tests.core.importers.bfcl_proof import prove
from tests.core.tasks.test_format_v2 import attempt
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]


def fn(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "description": f"{name} does one thing.",
            "parameters": {"type": "dict", "properties": properties, "required": required}}


def case(case_id: str, question: str, functions: list[dict[str, Any]], system: str | None = None) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
    return {"id": case_id, "question": [messages], "function": functions}


AREA = fn("geometry.area", {"base": {"type": "integer"}, "height": {"type": "float"},
                             "unit": {"type": "string", "description": "defaults to 'units'"}},
          ["base", "height"])
PLAY = fn("music.play", {"artist": {"type": "string"}, "minutes": {"type": "integer"}}, ["artist", "minutes"])
BMI = fn("bmi", {"weight": {"type": "float"}, "height": {"type": "float"}}, ["weight", "height"])
SEARCH = fn("search", {"query": {"type": "string"},
                       "filters": {"type": "dict", "properties": {"city": {"type": "string"},
                                                                  "school": {"type": "string"}}},
                       "limit": {"type": "integer", "default": None}}, ["query"])
DATA = {
    "simple_python": [
        (case("simple_python_0", "Area of a triangle, base 10 and height 5?", [AREA]),
         [{"geometry.area": {"base": [10], "height": [5.0], "unit": ["units", ""]}}]),
    ],
    "parallel": [
        (case("parallel_0", "Play Taylor Swift for 20 minutes and Maroon 5 for 15.", [PLAY]),
         [{"music.play": {"artist": ["Taylor Swift"], "minutes": [20]}},
          {"music.play": {"artist": ["Maroon 5", "Maroon Five"], "minutes": [15]}}]),
    ],
    "irrelevance": [(case("irrelevance_0", "What is the capital of Peru?", [BMI]), None)],
    "live_simple": [
        (case("live_simple_0-0-0", "Find schools in Oslo named Bluebird.", [SEARCH], system="Be brief."),
         [{"search": {"query": ["bluebird school", "Bluebird"], "limit": [None, ""],
                      "filters": [{"city": ["Oslo"], "school": ["Bluebird High School", "Bluebird HS"]}]}}]),
    ],
}


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bfcl-data"
    (folder / "possible_answer").mkdir(parents=True)
    for category, rows in DATA.items():
        (folder / f"BFCL_v4_{category}.json").write_text("".join(json.dumps(c) + "\n" for c, _ in rows))
        answers = [{"id": c["id"], "ground_truth": a} for c, a in rows if a is not None]
        if answers:
            (folder / "possible_answer" / f"BFCL_v4_{category}.json").write_text(
                "".join(json.dumps(a) + "\n" for a in answers))
    return folder


@pytest.fixture
def suite(data_folder: Path, tmp_path: Path) -> dict[str, Task]:
    import_bfcl(locate(data_folder), tmp_path / "out", categories=list(DATA))
    catalog = load_catalog([tmp_path / "out"])
    assert catalog.errors == []
    return {t.id: t for t in catalog.tasks()}


def test_every_case_converts_validates_passes_its_reference_and_fails_the_null_model(
    suite: dict[str, Task],
) -> None:
    assert set(suite) == {"bfcl.simple_python_0", "bfcl.parallel_0", "bfcl.irrelevance_0",
                          "bfcl.live_simple_0-0-0"}
    proof = prove(list(suite.values()))
    assert proof.failures == []
    assert sum(proof.reference_passed.values()) == sum(proof.null_failed.values()) == 4


def test_the_schema_dialect_becomes_json_schema(suite: dict[str, Task]) -> None:
    [tool] = suite["bfcl.simple_python_0"].spec.tools
    assert tool.name == "geometry_area"  # type: ignore[union-attr]
    params = tool.parameters  # type: ignore[union-attr]
    assert params["type"] == "object" and params["properties"]["height"] == {"type": "number"}
    assert suite["bfcl.live_simple_0-0-0"].spec.system == "Be brief."


def calls(*made: tuple[str, dict[str, Any]]) -> ScriptedProvider:
    return ScriptedProvider([Turn(calls=list(made)), Turn(text="Done.")])


@pytest.mark.parametrize(("arguments", "passes"), [
    ({"base": 10, "height": 5.0, "unit": "units"}, True),
    ({"base": 10, "height": 5}, True),                      # a number may be an integer
    ({"base": 10, "height": 5.0, "unit": "UNITS "}, True),  # strings ignore case and spaces
    ({"base": 10.0, "height": 5.0}, False),                 # an integer must be an integer
    ({"base": 11, "height": 5.0}, False),
    ({"base": 10, "height": 5.0, "unit": "cm"}, False),
])
def test_possible_answers_are_matchers_with_bfcl_type_rules(
    suite: dict[str, Task], arguments: dict[str, Any], passes: bool
) -> None:
    finished = attempt(suite["bfcl.simple_python_0"], calls(("geometry_area", arguments)))
    assert (finished.outcome is Outcome.PASSED) is passes, finished.detail


def test_nested_possible_answers_and_none_defaults(suite: dict[str, Task]) -> None:
    task = suite["bfcl.live_simple_0-0-0"]
    good = {"query": "Bluebird", "filters": {"city": "oslo", "school": "Bluebird HS"}}
    assert attempt(task, calls(("search", good))).outcome is Outcome.PASSED
    wrong = {"query": "Bluebird", "filters": {"city": "Oslo", "school": "Greenfield"}}
    assert attempt(task, calls(("search", wrong))).outcome is Outcome.BAD_ARGUMENTS


def test_parallel_calls_must_come_in_one_reply_in_any_order(suite: dict[str, Task]) -> None:
    task = suite["bfcl.parallel_0"]
    together = calls(("music_play", {"artist": "Maroon Five", "minutes": 15}),
                     ("music_play", {"artist": "Taylor Swift", "minutes": 20}))
    assert attempt(task, together).outcome is Outcome.PASSED
    apart = ScriptedProvider([Turn(calls=[("music_play", {"artist": "Taylor Swift", "minutes": 20})]),
                              Turn(calls=[("music_play", {"artist": "Maroon 5", "minutes": 15})]),
                              Turn(text="Done.")])
    assert attempt(task, apart).outcome is not Outcome.PASSED
    extra = calls(("music_play", {"artist": "Taylor Swift", "minutes": 20}),
                  ("music_play", {"artist": "Maroon 5", "minutes": 15}),
                  ("music_play", {"artist": "Adele", "minutes": 5}))
    assert attempt(task, extra).outcome is Outcome.UNWANTED_CALL


def test_irrelevance_accepts_shown_code_in_prompted_mode(suite: dict[str, Task]) -> None:
    task = suite["bfcl.irrelevance_0"]
    shown = ScriptedProvider([Turn(text="None fits. For reference:\n```python\nbmi(weight=70, height=1.8)\n```")])
    assert attempt(task, shown, mode=ToolMode.PROMPTED).outcome is Outcome.PASSED


def test_a_sample_is_reproducible(data_folder: Path, tmp_path: Path) -> None:
    rows = [(case(f"parallel_{i}", "Play.", [PLAY]), [{"music.play": {"artist": ["A"], "minutes": [i]}}])
            for i in range(30)]
    (data_folder / "BFCL_v4_parallel.json").write_text("".join(json.dumps(c) + "\n" for c, _ in rows))
    (data_folder / "possible_answer" / "BFCL_v4_parallel.json").write_text(
        "".join(json.dumps({"id": c["id"], "ground_truth": a}) + "\n" for c, a in rows))

    def picked(seed: int, name: str) -> list[str]:
        import_bfcl(locate(data_folder), tmp_path / name, categories=["parallel"], sample=5, seed=seed)
        return sorted(p.stem for p in (tmp_path / name / "bfcl").glob("bfcl.*.yaml"))

    first = picked(0, "a")
    assert len(first) == 5 and first == picked(0, "b") and first != picked(1, "c")


def test_the_command_reports_counts_and_names_the_version(data_folder: Path, tmp_path: Path) -> None:
    (data_folder / "VERSION").write_text("4.0-test\n")
    done = subprocess.run([sys.executable, "-m", "app", "import", "bfcl", "--data", str(data_folder),
                           "--out", str(tmp_path / "out"), "--json"], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["version"] == "4.0-test"
    assert {k: v["valid"] for k, v in report["categories"].items() if v["read"]} == {
        "simple_python": 1, "parallel": 1, "irrelevance": 1, "live_simple": 1}
    suite_yaml = (tmp_path / "out" / "bfcl" / "suite.yaml").read_text()
    assert "bfcl-eval 4.0-test" in suite_yaml and "stricter" in suite_yaml
    missing = subprocess.run([sys.executable, "-m", "app", "import", "bfcl", "--data", str(tmp_path)],
                             capture_output=True, text=True, timeout=300, cwd=REPO)
    assert missing.returncode == 2 and "BFCL_v" in missing.stderr


INSTALLED = util.find_spec("bfcl_eval") is not None
FULL = os.environ.get("AGENTGAP_BFCL_FULL") == "1"


@pytest.mark.skipif(not INSTALLED, reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval)")
def test_the_installed_bfcl_data_converts_in_every_category(tmp_path: Path) -> None:
    """A reproducible sample per category (every case with AGENTGAP_BFCL_FULL=1, as CI runs it)."""
    report = import_bfcl(locate(), tmp_path, sample=None if FULL else 4, seed=0)
    catalog = load_catalog([report.folder])
    assert catalog.errors == []
    assert {t.tier for t in catalog.tasks()} == set(CATEGORIES)
    proof = prove(catalog.tasks())
    assert proof.failures == []
    for category, count in report.categories.items():
        print(f"{category}: {count.read} cases, {count.written} written, {proof.tasks[category]} valid, "
              f"{proof.reference_passed[category]} reference-pass, {proof.null_failed[category]} null-fail, "
              f"{len(count.skipped)} not expressible")


def test_a_report_of_a_bfcl_run_names_the_version_and_the_rule_differences(
    data_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import AppSettings, HostConfig
    from app.core.engine import Engine
    from app.core.events import AttemptFinished, AttemptStats
    from app.core.paths import user_tasks_dir
    from app.core.reports.data import build_report
    from app.core.reports.export import to_markdown

    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    (data_folder / "VERSION").write_text("4.0-test\n")
    import_bfcl(locate(data_folder), user_tasks_dir(), categories=["simple_python"])
    engine = Engine(db_path=tmp_path / "r.db",
                    settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), simulated_pace=0)
    try:
        plan = engine.plan([engine.parse_model("sim:competent")], [engine.catalog.task("bfcl.simple_python_0")],
                           repeats=1)
        [spec] = plan.attempts
        engine.writer.submit(AttemptFinished(run_id=plan.run_id, attempt_id=spec.attempt_id,
                                             outcome=Outcome.PASSED, score=1.0, detail="", checks=(),
                                             stats=AttemptStats(turns=2, wall_s=1.0)))
        engine.writer.flush()
        data = build_report(engine.repository, [plan.run_id])
        assert "bfcl-eval 4.0-test" in data.method["BFCL"] and "stricter" in data.method["BFCL"]
        assert "bfcl-eval 4.0-test" in to_markdown(data)
    finally:
        engine.close()
