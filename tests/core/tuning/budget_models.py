"""Scripted models whose pass rates depend on settings in known ways, on the weather task."""

from __future__ import annotations

from app.core.chat import ChatRequest
from app.core.modelref import ModelRef
from app.core.providers.base import ProviderKind
from tests.fakes.scripted_provider import ScriptedProvider, Turn

TASK = "readiness.single-tool.weather"  # 10 turns, 16,000 completion tokens by default
HOST = "tuning-lab"
DETOURS = [f"Town {i}" for i in range(14)]  # distinct calls, so no loop is detected
ANSWER = "It is 14 °C in Paris with light rain."
PARIS = ("get_weather", {"city": "Paris"})


def ref(name: str) -> ModelRef:
    return ModelRef(ProviderKind.SIMULATED, HOST, name)


def respond(request: ChatRequest) -> Turn:
    turn = sum(1 for m in request.messages if m.role == "assistant")
    model = request.model
    settings = request.settings
    if model == "turn-hungry":  # 16 turns of work: fails at ×1 (10), passes at ×2
        if turn < len(DETOURS):
            return Turn(calls=[("get_weather", {"city": DETOURS[turn]})])
        return Turn(calls=[PARIS]) if turn == len(DETOURS) else Turn(text=ANSWER)
    if model == "token-hungry":  # 20,000 tokens of thought: fails at ×1 (16,000), passes at ×2
        return Turn(calls=[PARIS], completion_tokens=20_000) if turn == 0 else Turn(text=ANSWER)
    if model == "cold-thinker":  # needs a low temperature and thinking on
        good = _temperature(request) <= 0.3 and settings.think is True
        return Turn(calls=[PARIS]) if turn == 0 else Turn(text=ANSWER if good else "No idea, sorry.")
    if model == "cold-only":  # needs a low temperature
        good = _temperature(request) <= 0.3
        return Turn(calls=[PARIS]) if turn == 0 else Turn(text=ANSWER if good else "No idea, sorry.")
    if model == "nudgeable":  # a low temperature or the completeness directive: either one is enough
        directed = any(m.role == "system" and "item by item" in m.content for m in request.messages)
        good = _temperature(request) <= 0.3 or directed
        return Turn(calls=[PARIS]) if turn == 0 else Turn(text=ANSWER if good else "No idea, sorry.")
    if model == "context-bound":  # its first reply fills any context below 16,000 tokens
        context = settings.num_ctx or 4096
        if context < 16_000 and turn == 0:
            return Turn(text="Let me think about the weather in Paris first.", completion_tokens=context - 300,
                        done_reason="length")
        return Turn(calls=[PARIS]) if turn == 0 else Turn(text=ANSWER)
    return Turn(text="I cannot help with that.")  # "incapable": no budget helps


def _temperature(request: ChatRequest) -> float:
    value = request.settings.temperature
    return 1.0 if value is None else value


def lab() -> ScriptedProvider:
    return ScriptedProvider(responder=respond, host=HOST)
