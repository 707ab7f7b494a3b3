"""End to end against a real model: llama.cpp's server with SmolLM2-135M (see
tools/realmodel.py). Opt-in, because it needs the server built (~12 minutes once):

    .venv/bin/python tools/realmodel.py setup
    AGENTGAP_REAL_MODEL=1 .venv/bin/python -m pytest -m real_model -s
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import ChatRequest, GenerationSettings, Message
from app.core.providers.openai_compat import OpenAICompatProvider

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("realmodel", REPO / "tools" / "realmodel.py")
assert _spec and _spec.loader
realmodel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(realmodel)

pytestmark = [
    pytest.mark.real_model,
    pytest.mark.skipif(os.environ.get("AGENTGAP_REAL_MODEL") != "1", reason="opt-in: set AGENTGAP_REAL_MODEL=1"),
    pytest.mark.skipif(realmodel.server_binary() is None, reason="llama-server not installed: python tools/realmodel.py setup"),
]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    started_here = realmodel.running_url() is None
    assert realmodel.start() == 0
    url = realmodel.running_url()
    assert url
    yield url
    if started_here:
        realmodel.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("realmodel")


def agentgap(home: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
    env.update(AGENTGAP_HOME=str(home / "home"), AGENTGAP_CONFIG=str(home / "settings.json"), OLLAMA_HOST="127.0.0.1:9")
    return subprocess.run([sys.executable, "-m", "app", "--db", str(home / "real.db"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def test_discovery_lists_the_served_model(base_url: str, home: Path) -> None:
    result = agentgap(home, "models", "--openai", base_url, "--no-sim", "--json")
    assert result.returncode == 0, result.stderr
    host = next(h for h in json.loads(result.stdout) if h["provider"] == "openai")
    assert host["reachable"] and [m["name"] for m in host["models"]] == ["smollm2"]


OUTCOMES: dict[str, list[dict[str, Any]]] = {}


@pytest.mark.parametrize("mode", ["native", "recovery", "prompted"])
def test_readiness_run_in_each_mode_is_scored_and_stored(base_url: str, home: Path, mode: str) -> None:
    result = agentgap(home, "run", "-m", f"{base_url}/smollm2", "-s", "readiness", "-t", "basic", "-n", "1",
                      "--mode", mode, "--temperature", "0", "--seed", "1", "--max-tokens", "600", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    attempts = json.loads(result.stdout)["attempts"]
    assert attempts and all(a["status"] == "done" and a["outcome"] for a in attempts)
    assert not any(a["outcome"] == "infra_error" for a in attempts), [a["detail"] for a in attempts]
    assert all(a["tokens_per_s"] and a["tokens_per_s"] > 1 for a in attempts)
    OUTCOMES[mode] = attempts
    # the model answers in invented prose: that is a failure mode, never a pass or a crash
    single = [a for a in attempts if a["task_id"].startswith("readiness.single-tool")]
    assert all(a["outcome"] != "passed" for a in single)
    if mode == "native":
        assert {a["outcome"] for a in single} <= {"no_tool_call", "token_budget", "loop", "turn_budget"}
    transcript = agentgap(home, "transcript", attempts[0]["id"], "--json")
    kinds = [e["kind"] for e in json.loads(transcript.stdout)]
    assert kinds[0] == "attempt_started" and kinds[-1] == "attempt_finished" and "assistant_turn" in kinds


def test_endless_answer_is_cut_by_our_budget_or_as_repeated_text(base_url: str, home: Path, tmp_path: Path) -> None:
    suite = tmp_path / "degenerate"
    suite.mkdir()
    (suite / "suite.yaml").write_text("id: degenerate\ntitle: Degenerate output\ntiers: [basic]\n")
    (suite / "repeat.yaml").write_text(
        "id: degenerate.repeat\ntitle: Repeat forever\ntier: basic\nexpect: answer\n"
        "prompt: Write the word banana over and over again, forever, never stop.\n"
        "budgets: {max_tokens: 96}\n"
        "checks: [{type: answer, regex: '^.{0,40}$'}]\nreference: [{answer: 'Banana.'}]\n"
    )
    result = agentgap(home, "--tasks-dir", str(suite), "run", "-m", f"{base_url}/smollm2", "--task", "degenerate.repeat",
                      "-n", "1", "--temperature", "0", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    (attempt,) = json.loads(result.stdout)["attempts"]
    assert attempt["outcome"] in ("token_budget", "loop"), attempt["detail"]
    if attempt["outcome"] == "loop":
        assert "repeated text" in attempt["detail"]


def test_a_prompt_larger_than_the_context_is_context_limit(base_url: str, home: Path, tmp_path: Path) -> None:
    """The server runs with ``-c 4096``: a 6,000-word prompt cannot fit, whatever the model does."""
    suite = tmp_path / "oversized"
    suite.mkdir()
    (suite / "suite.yaml").write_text("id: oversized\ntitle: Oversized prompt\ntiers: [basic]\n")
    words = " ".join(f"item{n}" for n in range(6000))
    (suite / "long.yaml").write_text(
        "id: oversized.long\ntitle: Count the items\ntier: basic\nexpect: answer\n"
        f"prompt: 'How many items are in this list? {words}'\n"
        "budgets: {max_tokens: 16000}\n"
        "checks: [{type: answer, regex: '6000'}]\nreference: [{answer: '6000'}]\n"
    )
    result = agentgap(home, "--tasks-dir", str(suite), "run", "-m", f"{base_url}/smollm2", "--task", "oversized.long",
                      "-n", "1", "--temperature", "0", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    (attempt,) = json.loads(result.stdout)["attempts"]
    assert attempt["outcome"] == "context_limit", attempt["detail"]
    assert attempt["infra_retries"] == 0  # deterministic: never retried
    assert "4096" in attempt["detail"] and "raise num_ctx" in attempt["detail"]
    assert attempt["context_window"] == 4096


def test_cancelling_a_real_stream_takes_under_a_second(base_url: str) -> None:
    provider = OpenAICompatProvider(base_url)
    request = ChatRequest(model="smollm2", messages=(Message(role="user", content="Write a very long story about a lighthouse keeper."),),
                          settings=GenerationSettings(max_tokens=2000, temperature=0.7))
    cancel = CancelToken()
    at: list[float] = []
    threading.Timer(0.5, lambda: (at.append(time.monotonic()), cancel.cancel())).start()
    pieces = 0
    with pytest.raises(Cancelled):
        for _ in provider.stream_turn(request, cancel):
            pieces += 1
    assert pieces > 0 and time.monotonic() - at[0] < 1.0
    provider.close()


def test_print_outcome_table() -> None:
    if not OUTCOMES:
        pytest.skip("no runs recorded")
    for mode, attempts in OUTCOMES.items():
        for a in attempts:
            print(f"{a['task_id']:42s} {mode:9s} {a['outcome']:14s} {a['turns']} turns "
                  f"{a['tokens_per_s'] or 0:6.1f} tok/s wall {a['wall_s']:.2f}s harness {a['harness_s'] or 0:.4f}s")
