"""Real providers against the fake servers: context limits, repeated text, and the meters
of attempts cut by a budget, a cancel or a server error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.chat import GenerationSettings
from app.core.events import AssistantTurn, AttemptFinished, Event
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings
from app.core.providers.base import Provider, ProviderKind
from app.core.providers.ollama import OllamaProvider
from app.core.providers.openai_compat import OpenAICompatProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Catalog, load_catalog
from tests.fakes.fake_ollama import FakeModel, FakeOllama
from tests.fakes.fake_ollama import FakeReply as OllamaReply
from tests.fakes.fake_openai import FakeOpenAI, FakeReply

REPO = Path(__file__).resolve().parents[3]
WEATHER = "readiness.single-tool.weather"
ROOMY = AttemptSettings(max_tokens=16_000)  # our own budget is never what stops these replies


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([REPO / "tasks"])


@pytest.fixture
def llamacpp() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(("smollm2",), n_ctx=4096) as server:
        yield server


@pytest.fixture
def openai(llamacpp: FakeOpenAI) -> Iterator[OpenAICompatProvider]:
    provider = OpenAICompatProvider(llamacpp.url)
    yield provider
    provider.close()


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama(models=[FakeModel("smollm2:135m")]) as server:
        yield server


@pytest.fixture
def ollama(ollama_server: FakeOllama) -> Iterator[OllamaProvider]:
    provider = OllamaProvider(ollama_server.url)
    yield provider
    provider.close()


def _attempt(
    catalog: Catalog,
    provider: Provider,
    model: str,
    settings: AttemptSettings = ROOMY,
    cancel: CancelToken | None = None,
) -> tuple[AttemptFinished, list[Event]]:
    task = catalog.task(WEATHER)
    ref = ModelRef(provider.kind, provider.host, model)
    plan = plan_run([ref], [task], repeats=1, settings=[settings])
    events: list[Event] = []
    finished = run_attempt(plan.attempts[0], task, provider, events.append, cancel or CancelToken(), sleep=lambda s: False)
    return finished, events


# ---- context limits -------------------------------------------------------------------


def test_a_reply_cut_by_the_context_is_context_limit(catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider) -> None:
    llamacpp.fail_next("context_full")
    finished, _ = _attempt(catalog, openai, "smollm2")
    assert finished.outcome is Outcome.CONTEXT_LIMIT
    assert "length" in finished.detail and "context 4096 tokens" in finished.detail
    assert "raise num_ctx" in finished.detail
    assert finished.stats.context_window == 4096
    assert finished.stats.context_needed is not None and finished.stats.context_needed > 16_000
    assert finished.stats.completion_tokens > 3000  # the tokens it streamed are counted
    assert len(llamacpp.requests) == 1 and finished.infra_retries == 0


@pytest.mark.parametrize("fault", ["context_overflow", "context_exceeded", "context_exceeded_mid_stream"])
def test_llamacpp_context_errors_are_context_limit_never_retried(
    catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider, fault: str
) -> None:
    llamacpp.fail_next(fault, times=3)
    finished, _ = _attempt(catalog, openai, "smollm2")
    assert finished.outcome is Outcome.CONTEXT_LIMIT
    assert len(llamacpp.requests) == 1 and finished.infra_retries == 0
    assert "context" in finished.detail.lower() and "raise num_ctx" in finished.detail
    if fault == "context_overflow":
        assert "4097-token prompt" in finished.detail and "4096-token context" in finished.detail


def test_a_prompt_too_large_for_llamacpp_is_refused_with_its_sizes(catalog: Catalog) -> None:
    with FakeOpenAI(("smollm2",), n_ctx=64) as server:
        provider = OpenAICompatProvider(server.url)
        finished, _ = _attempt(catalog, provider, "smollm2")
        provider.close()
    assert finished.outcome is Outcome.CONTEXT_LIMIT
    assert "64-token context" in finished.detail
    assert finished.stats.context_window == 64


def test_a_server_with_an_api_key_still_reports_its_context_limit(catalog: Catalog) -> None:
    """Masking the key in an error keeps what kind of error it is: a context limit on a
    keyed server is not a server fault to retry."""
    key = "sk-local-0123456789abcdef"
    with FakeOpenAI(("smollm2",), n_ctx=64, api_key=key) as server:
        provider = OpenAICompatProvider(server.url, api_key=key)
        finished, _ = _attempt(catalog, provider, "smollm2")
        provider.close()
    assert finished.outcome is Outcome.CONTEXT_LIMIT, finished.detail
    assert finished.infra_retries == 0 and "64-token context" in finished.detail


def test_ollama_prompt_cut_to_fit_num_ctx_is_context_limit(
    catalog: Catalog, ollama_server: FakeOllama, ollama: OllamaProvider
) -> None:
    settings = AttemptSettings(max_tokens=16_000, generation=GenerationSettings(num_ctx=64))
    finished, events = _attempt(catalog, ollama, "smollm2:135m", settings)
    assert finished.outcome is Outcome.CONTEXT_LIMIT
    assert "64-token context and was cut to fit" in finished.detail
    assert finished.stats.context_window == 64
    turns = [e for e in events if isinstance(e, AssistantTurn)]
    assert turns[0].usage.prompt_tokens == 64  # what the server counted: the truncated prompt


def test_ollama_reply_filling_the_default_context_is_context_limit(
    catalog: Catalog, ollama_server: FakeOllama, ollama: OllamaProvider
) -> None:
    ollama_server.fail_next("context_full")
    finished, _ = _attempt(catalog, ollama, "smollm2:135m")
    assert finished.outcome is Outcome.CONTEXT_LIMIT
    assert finished.stats.context_window == 4096  # no num_ctx sent: read from /api/ps
    assert "context 4096 tokens" in finished.detail


def test_ollama_records_the_num_ctx_it_sent(catalog: Catalog, ollama_server: FakeOllama, ollama: OllamaProvider) -> None:
    ollama_server.script("smollm2:135m", OllamaReply(content="It is sunny in Paris."))
    settings = AttemptSettings(generation=GenerationSettings(num_ctx=8192))
    finished, _ = _attempt(catalog, ollama, "smollm2:135m", settings)
    assert finished.stats.context_window == 8192


# ---- endless repeated text ---------------------------------------------------------------


def test_a_small_model_repeating_itself_is_cut_as_a_loop(
    catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider
) -> None:
    llamacpp.fail_next("context_full_repeating")
    finished, _ = _attempt(catalog, openai, "smollm2")
    assert finished.outcome is Outcome.LOOP
    assert "repeated text" in finished.detail
    assert 0 < finished.stats.completion_tokens < 400  # seconds, not the 4,000 tokens to the context's end


def test_ollama_repeating_stream_is_cut_as_a_loop(catalog: Catalog, ollama_server: FakeOllama, ollama: OllamaProvider) -> None:
    ollama_server.fail_next("endless")
    finished, _ = _attempt(catalog, ollama, "smollm2:135m")
    assert finished.outcome is Outcome.LOOP and "repeated text" in finished.detail


# ---- meters on every cut ----------------------------------------------------------------

SLOW_TEXT = " ".join(f"step {n} of the plan is to look up the forecast" for n in range(400))


def test_a_time_budget_cut_keeps_the_model_wait_and_the_tokens(
    catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider
) -> None:
    llamacpp.script("smollm2", FakeReply(content=SLOW_TEXT, chunk_size=8, delay_s=0.05))
    finished, events = _attempt(catalog, openai, "smollm2", AttemptSettings(max_tokens=16_000, max_seconds=4))
    assert finished.outcome is Outcome.TIME_BUDGET
    assert finished.stats.harness_s < 0.5, finished.stats
    assert finished.stats.wall_s >= 4
    assert finished.stats.completion_tokens > 20 and finished.stats.tokens_per_s is not None
    partial = [e for e in events if isinstance(e, AssistantTurn)]
    assert partial and partial[0].content.startswith("step 0")  # what streamed stays in the transcript


def test_a_cancel_keeps_the_meters(catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider) -> None:
    llamacpp.script("smollm2", FakeReply(content=SLOW_TEXT, chunk_size=8, delay_s=0.05))
    cancel = CancelToken()
    threading.Timer(1.0, cancel.cancel).start()
    finished, _ = _attempt(catalog, openai, "smollm2", cancel=cancel)
    assert finished.outcome is Outcome.CANCELLED
    assert finished.stats.harness_s < 0.5 and finished.stats.completion_tokens > 5


def test_a_server_error_mid_stream_keeps_the_tokens(catalog: Catalog, llamacpp: FakeOpenAI, openai: OpenAICompatProvider) -> None:
    llamacpp.script("smollm2", *[FakeReply(content=SLOW_TEXT, chunk_size=8, delay_s=0.02)] * 3)
    llamacpp.fail_next("error_mid_stream", times=3)
    task = catalog.task(WEATHER)
    plan = plan_run([ModelRef(ProviderKind.OPENAI, openai.host, "smollm2")], [task], repeats=1, settings=[ROOMY])
    finished = run_attempt(plan.attempts[0], task, openai, lambda e: None, CancelToken(), infra_retries=0)
    assert finished.outcome is Outcome.INFRA_ERROR
    assert finished.stats.completion_tokens > 0 and finished.stats.harness_s < 0.5
