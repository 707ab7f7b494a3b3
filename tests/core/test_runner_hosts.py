"""Scheduling across hosts, through the real engine and ollama client against two fake
Ollama servers: each model loads once per host, hosts run in parallel, each host keeps its
own number of parallel attempts, and co-resident pairs interleave."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.bus import EventBus
from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.events import AttemptEvent, AttemptFinished, AttemptStarted, Event
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome
from app.core.plan import AttemptSpec
from app.core.providers.base import ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.runner import HostQueue, Runner, RunnerOptions, host_batches, host_key, plan_run
from app.core.tasks.loader import Catalog, Task, load_catalog
from tests.fakes.fake_ollama import ChatSpan, FakeModel, FakeOllama, FakeReply
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[2]
WEATHER = "readiness.single-tool.weather"  # two turns: a tool call, then the answer
TURN_S = 0.02  # each reply takes this long on the fake servers
EPS = 0.005  # spans closer than this are not counted as overlapping (thread hand-over)


def _weather_model(body: dict[str, Any]) -> FakeReply:
    if any(m["role"] == "tool" for m in body["messages"]):
        return FakeReply(content="It is 14 °C with light rain in Paris.", chunk_size=1000, delay_s=TURN_S)
    return FakeReply(tool_calls=[("get_weather", {"city": "Paris"})], delay_s=TURN_S)


def _server(*names: str, max_loaded: int = 1) -> FakeOllama:
    fake = FakeOllama([FakeModel(n) for n in names], max_loaded=max_loaded)
    fake.responder = _weather_model
    return fake


@pytest.fixture
def servers() -> Iterator[tuple[FakeOllama, FakeOllama]]:
    with _server("llama3.2:3b", "qwen2.5:3b") as a, _server("gemma3:4b", "mistral:7b") as b:
        yield a, b


EngineFactory = Callable[..., Engine]


@pytest.fixture
def open_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineFactory]:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    engines: list[Engine] = []

    def open_(*hosts: HostConfig) -> Engine:
        engine = Engine(db_path=tmp_path / f"e{len(engines)}.db", settings=AppSettings(hosts=list(hosts)))
        engines.append(engine)
        return engine

    yield open_
    for engine in engines:
        engine.close()


def _run(engine: Engine, *servers: FakeOllama, repeats: int = 3) -> list[Outcome]:
    models = [engine.parse_model(f"{s.url}/{name}") for s in servers for name in s.models]
    plan = engine.plan(models, [engine.catalog.task(WEATHER)], repeats=repeats)
    engine.execute(plan, CancelToken())
    return [a.outcome for a in engine.repository.attempts(plan.run_id)]


def _overlap(a: ChatSpan, b: ChatSpan) -> float:
    return min(a.end, b.end) - max(a.start, b.start)


def _most_at_once(spans: list[ChatSpan]) -> int:
    """The largest number of chats being answered at the same moment."""
    edges = sorted([(s.start + EPS / 2, 1) for s in spans] + [(s.end - EPS / 2, -1) for s in spans])
    return max(itertools.accumulate(step for _, step in edges))


def _model_runs(spans: list[ChatSpan]) -> list[str]:
    """The models in the order their chats started, consecutive repeats collapsed."""
    ordered = [s.model for s in sorted(spans, key=lambda s: s.start)]
    return [model for model, _ in itertools.groupby(ordered)]


# ---- through the engine, against two fake servers ------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 2])
def test_each_model_loads_once_per_host(
    servers: tuple[FakeOllama, FakeOllama], open_engine: EngineFactory, concurrency: int
) -> None:
    a, b = servers
    engine = open_engine(
        HostConfig(url=a.url, concurrency=concurrency), HostConfig(url=b.url, concurrency=concurrency)
    )
    assert _run(engine, a, b) == [Outcome.PASSED] * 12
    # room for one model per server: any interleaving at a model boundary would reload
    assert a.loads == {"llama3.2:3b": 1, "qwen2.5:3b": 1}
    assert b.loads == {"gemma3:4b": 1, "mistral:7b": 1}
    assert len(a.spans) == len(b.spans) == 12  # 6 attempts × 2 turns each
    assert _model_runs(a.spans) == ["llama3.2:3b", "qwen2.5:3b"]
    assert _model_runs(b.spans) == ["gemma3:4b", "mistral:7b"]


def test_hosts_run_in_parallel_and_one_host_runs_one_chat_at_a_time(
    servers: tuple[FakeOllama, FakeOllama], open_engine: EngineFactory
) -> None:
    a, b = servers
    engine = open_engine(HostConfig(url=a.url), HostConfig(url=b.url))
    assert _run(engine, a, b) == [Outcome.PASSED] * 12
    assert max(_overlap(x, y) for x in a.spans for y in b.spans) > TURN_S / 2
    assert _most_at_once(a.spans) == _most_at_once(b.spans) == 1


def test_each_host_has_its_own_concurrency(
    servers: tuple[FakeOllama, FakeOllama], open_engine: EngineFactory
) -> None:
    a, b = servers
    engine = open_engine(HostConfig(url=a.url, concurrency=2), HostConfig(url=b.url, concurrency=1))
    options = engine.runner_options()
    assert options.workers_for(host_key(ProviderKind.OLLAMA, a.url)) == 2
    assert options.workers_for(host_key(ProviderKind.OLLAMA, b.url)) == 1
    assert _run(engine, a, b) == [Outcome.PASSED] * 12
    assert _most_at_once(a.spans) == 2
    assert _most_at_once(b.spans) == 1


def test_the_command_line_concurrency_overrides_every_host(
    servers: tuple[FakeOllama, FakeOllama], open_engine: EngineFactory
) -> None:
    a, b = servers
    engine = open_engine(HostConfig(url=a.url, concurrency=1), HostConfig(url=b.url, concurrency=3))
    options = engine.runner_options().with_concurrency(2)
    assert options.workers_for(host_key(ProviderKind.OLLAMA, a.url)) == 2
    assert options.workers_for(host_key(ProviderKind.OLLAMA, b.url)) == 2
    assert options.workers_for("ollama:http://elsewhere:11434") == 2


def test_a_co_resident_pair_interleaves_and_loads_once_when_both_fit(
    open_engine: EngineFactory,
) -> None:
    with _server("llama3.2:3b", "qwen2.5:3b", max_loaded=2) as fake:
        engine = open_engine(HostConfig(url=fake.url, concurrency=2, co_resident=True))
        assert engine.runner_options().co_resident_hosts == {host_key(ProviderKind.OLLAMA, fake.url)}
        assert _run(engine, fake) == [Outcome.PASSED] * 6
    assert fake.loads == {"llama3.2:3b": 1, "qwen2.5:3b": 1}
    llama = [s for s in fake.spans if s.model == "llama3.2:3b"]
    qwen = [s for s in fake.spans if s.model == "qwen2.5:3b"]
    assert max(_overlap(x, y) for x in llama for y in qwen) > TURN_S / 2  # side by side


def test_co_resident_one_at_a_time_alternates_models(open_engine: EngineFactory) -> None:
    with _server("llama3.2:3b", "qwen2.5:3b", max_loaded=2) as fake:
        engine = open_engine(HostConfig(url=fake.url, co_resident=True))
        assert _run(engine, fake) == [Outcome.PASSED] * 6
    assert _model_runs(fake.spans) == ["llama3.2:3b", "qwen2.5:3b"] * 3  # A, B, A, B, A, B
    assert fake.total_loads == 2


def test_co_resident_on_a_server_with_room_for_one_reloads_on_every_switch(
    open_engine: EngineFactory,
) -> None:
    with _server("llama3.2:3b", "qwen2.5:3b", max_loaded=1) as fake:
        engine = open_engine(HostConfig(url=fake.url, co_resident=True))
        assert _run(engine, fake) == [Outcome.PASSED] * 6
    assert _model_runs(fake.spans) == ["llama3.2:3b", "qwen2.5:3b"] * 3
    assert fake.total_loads == 6  # what co-resident is for: showing that the pair does not fit


def test_the_fake_evicts_the_least_recently_used_model() -> None:
    with _server("a", "b", "c", max_loaded=2) as fake:
        for name in ("a", "b", "a", "c", "a", "b"):
            fake.load(fake.models[name], {})
        assert {m.name for m in fake.models.values() if m.loaded} == {"a", "b"}
        assert fake.loads == {"a": 1, "b": 2, "c": 1}  # c evicted b; then b evicted c, not a


# ---- scheduling order, on scripted models ---------------------------------------------------


@pytest.fixture(scope="module")
def task() -> Task:
    catalog: Catalog = load_catalog([REPO / "tasks"])
    return catalog.task(WEATHER)


def _answer(turn_s: float) -> Callable[[Any], Turn]:
    def respond(request: Any) -> Turn:
        if any(m.role == "tool" for m in request.messages):
            return Turn(text="It is 14 °C with light rain in Paris.", delay_s=turn_s)
        return Turn(calls=[("get_weather", {"city": "Paris"})], delay_s=turn_s)

    return respond


def _scripted_run(
    task: Task, models: list[ModelRef], options: RunnerOptions, *, repeats: int = 3
) -> list[Event]:
    pool = ProviderPool()
    pool.register(ProviderKind.OPENAI, lambda host: ScriptedProvider(responder=_answer(0.005), kind=ProviderKind.OPENAI, host=host))
    bus = EventBus()
    events: list[Event] = []
    lock = threading.Lock()

    def keep(event: Event) -> None:
        if isinstance(event, AttemptStarted | AttemptFinished):
            with lock:
                events.append(event)

    bus.subscribe(keep)
    plan = plan_run(models, [task], repeats=repeats)
    Runner([task], pool, bus, options=options).run(plan, CancelToken())
    return events


def test_a_second_model_starts_only_after_the_first_one_finished(task: Task) -> None:
    models = [ModelRef(ProviderKind.OPENAI, "scripted", name) for name in ("a", "b", "c")]
    events = _scripted_run(task, models, RunnerOptions(concurrency=2), repeats=3)
    model = {e.attempt_id: e.model for e in events if isinstance(e, AttemptStarted)}
    timeline = [(type(e).__name__, model[e.attempt_id]) for e in events if isinstance(e, AttemptEvent)]
    for earlier, later in itertools.pairwise(m.label for m in models):
        last_finish = max(i for i, (kind, m) in enumerate(timeline) if kind == "AttemptFinished" and m == earlier)
        first_start = min(i for i, (kind, m) in enumerate(timeline) if kind == "AttemptStarted" and m == later)
        assert last_finish < first_start
    starts = [m for kind, m in timeline if kind == "AttemptStarted"]
    assert starts == [m.label for m in models for _ in range(3)]


def test_co_resident_pairs_alternate_and_an_odd_model_runs_alone(task: Task) -> None:
    models = [ModelRef(ProviderKind.OPENAI, "scripted", name) for name in ("a", "b", "c")]
    key = host_key(ProviderKind.OPENAI, "scripted")
    events = _scripted_run(task, models, RunnerOptions(co_resident_hosts=frozenset({key})), repeats=2)
    starts = [e.model for e in events if isinstance(e, AttemptStarted)]
    a, b, c = (m.label for m in models)
    assert starts == [a, b, a, b, c, c]


def test_host_batches_group_models_and_pair_them_when_co_resident(task: Task) -> None:
    models = [ModelRef(ProviderKind.OLLAMA, "http://h:11434", n) for n in ("a", "b", "c")]
    plan = plan_run(models, [task], repeats=3)
    shuffled = sorted(plan.attempts, key=lambda s: (s.repeat, s.model.name))  # as a resume might list them
    grouped = host_batches(shuffled, co_resident=False)
    assert [[s.model.name for s in batch] for batch in grouped] == [["a"] * 3, ["b"] * 3, ["c"] * 3]
    assert all([s.seq for s in batch] == sorted(s.seq for s in batch) for batch in grouped)
    paired = host_batches(shuffled, co_resident=True)
    assert [[s.model.name for s in batch] for batch in paired] == [["a", "b"] * 3, ["c"] * 3]


def test_a_host_queue_holds_the_next_model_until_the_last_attempt_finished(task: Task) -> None:
    models = [ModelRef(ProviderKind.OLLAMA, "http://h:11434", n) for n in ("a", "b")]
    plan = plan_run(models, [task], repeats=2)
    queue = HostQueue(host_batches(plan.attempts, co_resident=False))
    cancel = CancelToken()
    first, second = queue.take(cancel), queue.take(cancel)
    assert first is not None and second is not None and first.model.name == second.model.name == "a"
    taken: list[AttemptSpec | None] = []
    waiter = threading.Thread(target=lambda: taken.append(queue.take(cancel)))
    waiter.start()
    waiter.join(0.15)
    assert waiter.is_alive() and not taken  # a's queue is empty but one of a's attempts is running
    queue.done()
    waiter.join(0.15)
    assert waiter.is_alive()
    queue.done()
    waiter.join(2)
    assert [s.model.name if s else None for s in taken] == ["b"]


def test_cancel_releases_a_worker_waiting_at_a_model_boundary(task: Task) -> None:
    models = [ModelRef(ProviderKind.OLLAMA, "http://h:11434", n) for n in ("a", "b")]
    queue = HostQueue(host_batches(plan_run(models, [task], repeats=1).attempts, co_resident=False))
    cancel = CancelToken()
    assert queue.take(cancel) is not None
    results: list[object] = []
    waiter = threading.Thread(target=lambda: results.append(queue.take(cancel)))
    waiter.start()
    cancel.cancel()
    waiter.join(1)
    assert not waiter.is_alive() and results == [None]


def test_the_command_line_co_resident_option_alternates_models(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    with _server("llama3.2:3b", "qwen2.5:3b", max_loaded=2) as fake:
        env = {**os.environ, "AGENTGAP_HOME": str(tmp_path / "home"), "AGENTGAP_CONFIG": str(tmp_path / "s.json"),
               "OLLAMA_HOST": fake.url}
        models = [arg for name in fake.models for arg in ("-m", f"{fake.url}/{name}")]
        result = subprocess.run(
            [sys.executable, "-m", "app", "--db", str(tmp_path / "r.db"), "run", *models,
             "--task", WEATHER, "-n", "3", "--co-resident"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert _model_runs(fake.spans) == ["llama3.2:3b", "qwen2.5:3b"] * 3
    assert fake.total_loads == 2
