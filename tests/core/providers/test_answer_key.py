"""The answer key stays with the judge: servers never see a task's reference solution,
while the simulated models, in the same run, still replay it through their own channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.outcomes import Outcome
from app.core.providers.scripts import SCRIPTS
from tests.fakes import fake_ollama, fake_openai

TASKS = ("coding.config-read", "oneshot.parse-json", "readiness.single-tool.weather")


def _reference_texts(engine: Engine) -> list[str]:
    """Distinctive pieces of each task's reference: its final answer and its call arguments."""
    texts: list[str] = []
    for task_id in TASKS:
        for step in engine.catalog.task(task_id).spec.reference:
            if step.answer and len(step.answer) > 12:
                texts.append(step.answer.strip())
            texts += [json.dumps(c.arguments) for c in step.calls if len(json.dumps(c.arguments)) > 20]
    assert len(texts) >= 3
    return texts


def test_servers_never_receive_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    with fake_ollama.FakeOllama([fake_ollama.FakeModel("llama3.2:3b")]) as ollama, fake_openai.FakeOpenAI(("smollm2",)) as openai:
        ollama.responder = lambda body: fake_ollama.FakeReply(content="I am not sure.")
        openai.respond("smollm2", lambda body: fake_openai.FakeReply(content="I am not sure."))
        hosts = [HostConfig(kind="ollama", url=ollama.url), HostConfig(kind="openai", url=openai.url)]
        with Engine(db_path=tmp_path / "k.db", settings=AppSettings(hosts=hosts)) as engine:
            models = [
                engine.parse_model(f"{ollama.url}/llama3.2:3b"),
                engine.parse_model(f"{openai.url}/smollm2"),
                engine.parse_model("sim:reference"),  # in the same run, replaying the key
            ]
            tasks = [engine.catalog.task(t) for t in TASKS]
            plan = engine.plan(models, tasks, repeats=1)
            engine.execute(plan, CancelToken())
            attempts = engine.repository.attempts(plan.run_id)
            secrets = _reference_texts(engine)
        bodies = [json.dumps(b) for b in ollama.requests + openai.requests]
    assert len(ollama.requests) >= 3 and len(openai.requests) >= 3
    for body in bodies:
        for secret in secrets:
            assert secret not in body
    simulated = [a for a in attempts if a.model == "sim:reference"]
    assert [a.outcome for a in simulated] == [Outcome.PASSED] * len(TASKS)  # it had its script
    served = [a for a in attempts if a.model != "sim:reference"]
    assert served and all(a.outcome is not Outcome.PASSED for a in served)
    assert SCRIPTS.script(simulated[0].id) == ()  # the loan ended with the attempt


def test_no_request_carries_the_reference(tmp_path: Path) -> None:
    """Whatever a provider does with a request, the key is not in it to leak."""
    from app.core.providers.base import ProviderKind
    from app.core.tasks.loader import load_catalog
    from tests.core.agent.test_loop import _attempt
    from tests.fakes.scripted_provider import ScriptedProvider, Turn

    catalog = load_catalog([Path(__file__).resolve().parents[3] / "tasks"])
    task = catalog.task("oneshot.parse-json")
    for kind in (ProviderKind.OLLAMA, ProviderKind.SIMULATED):
        provider = ScriptedProvider(turns=[Turn(text="no idea")], kind=kind)
        _attempt(task, provider)
        assert provider.requests
        reference = task.spec.reference[-1].answer or ""
        assert all("isinstance(item, dict)" not in repr(r) for r in provider.requests)
        assert "isinstance(item, dict)" in reference  # the secret the assertion looks for
