"""Built-in demo models with distinct, deterministic agent behaviours.

They read the task's reference solution from their own channel (``scripts.py``: the
attempt lends it there; no request carries it) and then behave as a type of local
model does. Always labelled *simulated*.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from app.core.chat import (
    CallSource,
    ChatRequest,
    NativeCallsChunk,
    ScriptStep,
    StreamChunk,
    TextChunk,
    ToolCall,
    TurnDone,
    Usage,
)
from app.core.providers.base import HostStatus, ModelInfo, Provider, ProviderKind
from app.core.providers.scripts import SCRIPTS, ScriptBook
from app.core.toolcalls import render_call

SIM_HOST = "sim"


@dataclass(frozen=True, slots=True)
class SimProfile:
    name: str
    description: str
    tokens_per_s: float
    slip_rate: float = 0.0  # chance per attempt to stop one step early
    parameter_size: str = "3B"


PROFILES: dict[str, SimProfile] = {
    p.name: p
    for p in (
        SimProfile("competent", "calls tools natively and finishes the job", 42.0, 0.08, "8B"),
        SimProfile(
            "text-caller",
            "writes its tool calls as <tool_call> text: fails raw, passes with recovery",
            65.0,
            0.05,
            "3B",
        ),
        SimProfile("looper", "repeats its first call forever", 110.0, 0.0, "1.5B"),
        SimProfile("prose-only", "answers in prose and never calls a tool", 150.0, 0.0, "0.5B"),
        SimProfile(
            "verifier",
            "starts well, then keeps checking instead of finishing until the turns run out",
            55.0,
            0.0,
            "7B",
        ),
        SimProfile(
            "overthinker",
            "reasons at length before every step and runs out of tokens: "
            "a bigger token budget, or thinking off, fixes it",
            90.0,
            0.0,
            "14B",
        ),
    )
}
OVERTHINK_TOKENS = 9_000  # per turn: two turns overrun a 16,000-token budget, not a 32,000 one
OVERTHINK_SLEEP_CAP_S = 0.8  # keep the demo moving at realistic pace

# Not listed as demo models: used by the task fairness tests and benchmarks.
HIDDEN_PROFILES: dict[str, SimProfile] = {
    "reference": SimProfile("reference", "replays the task's reference solution exactly", 1000.0),
    "idle": SimProfile("idle", "answers 'OK.' and does nothing", 1000.0),
}


class SimulatedProvider(Provider):
    """Scripted demo models. ``pace`` 1.0 streams at each profile's tokens/s, 0 is instant."""

    kind = ProviderKind.SIMULATED

    def __init__(
        self, host: str = SIM_HOST, *, pace: float = 0.0, seed: int = 0, scripts: ScriptBook = SCRIPTS
    ) -> None:
        super().__init__(host)
        self.scripts = scripts
        self.pace = pace
        self.seed = seed
        self.blocking_io = pace > 0

    def discover(self) -> HostStatus:
        models = tuple(
            ModelInfo(
                name=p.name,
                provider=ProviderKind.SIMULATED,
                host=SIM_HOST,
                family="simulated",
                parameter_size=p.parameter_size,
                quantization="—",
                context_length=32768,
                capabilities=frozenset({"tools"}),
                loaded=True,
                digest=f"sim-v1-{p.name}",
                simulated=True,
                description=p.description,
            )
            for p in PROFILES.values()
        )
        return HostStatus(ProviderKind.SIMULATED, SIM_HOST, True, "built-in", models)

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        profile = PROFILES.get(request.model) or HIDDEN_PROFILES.get(request.model)
        if profile is None:
            from app.core.providers.base import ProviderError

            raise ProviderError(
                f"no simulated model named {request.model!r} (try: {', '.join(PROFILES)})",
                retryable=False,
                status=404,
            )
        turn = sum(1 for m in request.messages if m.role == "assistant")
        rng = random.Random(_seed(self.seed, request.attempt_key, request.settings.seed))
        step = _behaviour(profile, request, self.scripts.script(request.attempt_id), turn, rng)
        yield from self._emit(profile, request, step, turn)

    def _emit(
        self, profile: SimProfile, request: ChatRequest, step: ScriptStep, turn: int
    ) -> Iterator[StreamChunk]:
        delay = self.pace / profile.tokens_per_s if self.pace else 0.0
        tokens = 0
        hidden = False
        started = time.perf_counter()
        if request.settings.think:
            for piece in _pieces("Let me work out which tool this needs."):
                tokens += 1
                self._sleep(delay)
                yield TextChunk(piece, thinking=True)
        elif profile.name == "overthinker" and request.settings.think is not False:
            # long hidden reasoning: counted in full, streamed as a short summary
            cap = request.settings.max_tokens
            self._sleep(min(delay * OVERTHINK_TOKENS, OVERTHINK_SLEEP_CAP_S))
            yield TextChunk("Considering every possibility at length before acting…", thinking=True)
            if cap is not None and cap <= OVERTHINK_TOKENS:  # cut off, as a server stops at its cap
                yield TurnDone(Usage(completion_tokens=cap, tokens_per_s=profile.tokens_per_s, done_reason="length"))
                return
            tokens += OVERTHINK_TOKENS
            hidden = True
        if profile.name == "text-caller" and step.calls:
            text = "\n".join(render_call(n, a, CallSource.TOOL_CALL_TAG) for n, a in step.calls)
        else:
            text = step.answer or ""
        for piece in _pieces(text):
            tokens += 1
            self._sleep(delay)
            yield TextChunk(piece)
        if step.calls and profile.name != "text-caller":
            calls = tuple(
                ToolCall(id=f"call_{turn}_{i}", name=n, arguments=dict(a))
                for i, (n, a) in enumerate(step.calls)
            )
            tokens += 12 * len(calls)
            self._sleep(delay * 12 * len(calls))
            yield NativeCallsChunk(calls)
        elapsed = max(time.perf_counter() - started, 1e-9)
        prompt_tokens = sum(len(m.content) for m in request.messages) // 4
        yield TurnDone(
            Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=tokens,
                # measured when paced, except over hidden reasoning whose wait is shortened
                tokens_per_s=tokens / elapsed if self.pace and not hidden else profile.tokens_per_s,
                load_s=0.0,
                done_reason="stop",
            )
        )

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def _seed(base: int, attempt_key: str, request_seed: int | None) -> int:
    blob = f"{base}:{attempt_key}:{request_seed}".encode()
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "big")


def _pieces(text: str, size: int = 4) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _behaviour(
    profile: SimProfile,
    request: ChatRequest,
    script: tuple[ScriptStep, ...],
    turn: int,
    rng: random.Random,
) -> ScriptStep:
    """What this profile does on this turn of this task."""
    reference = script or (ScriptStep(answer="I am not sure what to do here."),)
    offered = [t.name for t in request.tools]
    if profile.name == "idle":
        return ScriptStep(answer="OK.")
    if profile.name == "reference":
        return reference[min(turn, len(reference) - 1)]
    if profile.name == "prose-only":
        first_call = next((s.calls[0] for s in reference if s.calls), None)
        if first_call is None:
            return reference[-1]
        name, _ = first_call
        return ScriptStep(
            answer=f"To do this I would use {name}. Based on typical results, "
            "everything looks fine and the task is complete."
        )
    if profile.name == "looper":
        first_call = next((s.calls[0] for s in reference if s.calls), None)
        if first_call is None and offered:
            first_call = (offered[0], {})
        if first_call is None:
            return reference[-1]
        return ScriptStep(calls=(first_call,))
    if profile.name == "verifier":
        calls = [c for s in reference for c in s.calls]
        if not calls:
            return reference[-1]
        if turn < len(reference) - 2:
            return reference[turn]
        checks = [calls[0], calls[-1]] if len(calls) > 1 else [calls[0]]
        return ScriptStep(calls=(checks[turn % len(checks)],))
    slip = rng.random() < profile.slip_rate and len(reference) > 1
    last = len(reference) - 1
    if slip and turn == last - 1:
        return ScriptStep(answer="I believe that is done now.")
    return reference[min(turn, last)]
