"""The fixed agent loop: send, stream, take calls, validate, execute, repeat, stop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.core.agent.prompts import prompted_tool_result
from app.core.agent.trace import AttemptTrace, RejectedCall, StopReason
from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
    CallSource,
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    TextChunk,
    ToolCall,
    ToolChoice,
    TurnDone,
    UnreadableCall,
    Usage,
)
from app.core.events import (
    AssistantTurn,
    Event,
    TextDelta,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
    TurnStarted,
)
from app.core.outcomes import Outcome, ToolMode
from app.core.providers.base import Provider, ProviderError
from app.core.tasks.environment import TaskEnvironment
from app.core.toolcalls import recover_tool_calls

Emit = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class LoopLimits:
    max_turns: int
    max_tokens: int
    max_seconds: float
    loop_repeats: int = 3  # identical call + identical result this many turns in a row


@dataclass(slots=True)
class LoopMeters:
    """Running totals of one attempt, for its stats."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    load_s: float | None = None
    rate_sum: float = 0.0
    rate_n: int = 0
    model_wait_s: float = 0.0
    tool_s: float = 0.0
    calls_recovered: int = 0
    text_calls_ignored: int = 0  # call-like text that native mode did not read

    @property
    def tokens_per_s(self) -> float | None:
        return self.rate_sum / self.rate_n if self.rate_n else None


class TokenBudgetExceeded(Exception):
    pass


class AgentLoop:
    """Runs one attempt's conversation. Provider failures surface as ``ProviderError``."""

    def __init__(
        self,
        provider: Provider,
        env: TaskEnvironment,
        emit: Emit,
        cancel: CancelToken,
        *,
        run_id: str,
        attempt_id: str,
        model: str,
        tool_mode: ToolMode,
        tool_choice: ToolChoice,
        generation: GenerationSettings,
        limits: LoopLimits,
        reference_key: str = "",
    ) -> None:
        self.provider = provider
        self.env = env
        self.emit = emit
        self.cancel = cancel
        self.run_id = run_id
        self.attempt_id = attempt_id
        self.model = model
        self.mode = tool_mode
        self.tool_choice = tool_choice
        self.generation = generation
        self.limits = limits
        self.reference_key = reference_key
        self.trace = AttemptTrace()
        self.meters = LoopMeters()
        self._tool_names = frozenset(t.name for t in env.tools)

    # ---- the loop ---------------------------------------------------------------

    def run(
        self,
        messages: list[Message],
        *,
        deadline: float | None = None,
        user_message: str | None = None,
    ) -> AttemptTrace:
        """Run model turns until the model answers without a call or a budget ends it.

        Called once per user message of a conversation, with one shared ``deadline``;
        ``user_message`` (already in ``messages``) is announced with the first turn.
        """
        if deadline is None:
            deadline = time.monotonic() + self.limits.max_seconds
        repeats, last_signature = 0, ""
        try:
            while True:
                if self.trace.turns >= self.limits.max_turns:
                    self._stop(StopReason.TURN_BUDGET, f"used all {self.limits.max_turns} turns")
                    break
                self.trace.turns += 1
                turn = self.trace.turns
                self.emit(
                    TurnStarted(
                        run_id=self.run_id,
                        attempt_id=self.attempt_id,
                        turn=turn,
                        user_message=user_message,
                    )
                )
                user_message = None
                content, calls, rejected = self._one_turn(messages, turn, deadline)
                if not calls and not rejected:
                    self.trace.final_answer = content
                    self.trace.stop = StopReason.ANSWERED
                    break
                signature = self._act(messages, turn, content, calls, rejected)
                repeats = repeats + 1 if signature == last_signature else 1
                last_signature = signature
                if repeats >= self.limits.loop_repeats:
                    self._stop(StopReason.LOOP, f"same call and result {repeats} turns in a row")
                    break
        except Cancelled:
            self._stop(StopReason.CANCELLED, "cancelled by the user")
        except TimeoutError:
            self._stop(StopReason.TIME_BUDGET, f"over {self.limits.max_seconds:g} s of wall time")
        except TokenBudgetExceeded:
            self._stop(StopReason.TOKEN_BUDGET, f"over {self.limits.max_tokens} completion tokens")
        return self.trace

    def _stop(self, reason: StopReason, detail: str) -> None:
        self.trace.stop = reason
        self.trace.stop_detail = detail

    def _turn_tool_choice(self) -> ToolChoice:
        """``required`` holds until the first valid call is made; after that the model must
        be free to answer, or it could never finish."""
        if self.tool_choice == "required" and self.trace.calls:
            return "auto"
        return self.tool_choice

    # ---- one model turn ---------------------------------------------------------

    def _one_turn(
        self, messages: list[Message], turn: int, deadline: float
    ) -> tuple[str, list[ToolCall], list[RejectedCall]]:
        remaining = self.limits.max_tokens - self.meters.completion_tokens
        if remaining <= 0:
            raise TokenBudgetExceeded()
        cap = self.generation.max_tokens
        request = ChatRequest(
            model=self.model,
            messages=tuple(messages),
            tools=() if self.mode is ToolMode.PROMPTED else self.env.tools,
            tool_choice=self._turn_tool_choice(),
            settings=replace(self.generation, max_tokens=min(cap, remaining) if cap else remaining),
            attempt_id=self.attempt_id,
            attempt_key=self.reference_key,
        )
        text_parts: list[str] = []
        thinking_parts: list[str] = []
        native: list[ToolCall] = []
        unreadable: list[UnreadableCall] = []
        usage = Usage()
        streamed_chars = 0
        chunk_count = 0
        started = time.perf_counter()
        waited = 0.0
        mark = started
        for chunk in self.provider.stream_turn(request, self.cancel, deadline):
            now = time.perf_counter()
            waited += now - mark
            if isinstance(chunk, TextChunk):
                if self.meters.first_token_s is None and turn == 1:
                    self.meters.first_token_s = now - started
                (thinking_parts if chunk.thinking else text_parts).append(chunk.text)
                streamed_chars += len(chunk.text)
                chunk_count += 1
                self.emit(
                    TextDelta(
                        run_id=self.run_id,
                        attempt_id=self.attempt_id,
                        turn=turn,
                        text=chunk.text,
                        thinking=chunk.thinking,
                    )
                )
                if max(chunk_count, streamed_chars // 4) > remaining * 1.1 + 8:
                    # The server would not stop: cut the stream, and measure speed here.
                    self.meters.model_wait_s += waited
                    elapsed = now - started
                    rate = chunk_count / elapsed if elapsed > 0 else None
                    self._account(Usage(tokens_per_s=rate), chunk_count, streamed_chars)
                    raise TokenBudgetExceeded()
            elif isinstance(chunk, NativeCallsChunk):
                native.extend(chunk.calls)
                unreadable.extend(chunk.unreadable)
            elif isinstance(chunk, TurnDone):
                usage = chunk.usage
            mark = time.perf_counter()
        self.meters.model_wait_s += waited
        self._account(usage, chunk_count, streamed_chars)
        content = "".join(text_parts)
        thinking = "".join(thinking_parts) or None
        self.emit(
            AssistantTurn(
                run_id=self.run_id,
                attempt_id=self.attempt_id,
                turn=turn,
                content=content,
                thinking=thinking,
                native_calls=len(native),
                usage=usage,
            )
        )
        calls, rejected = self._read_calls(content, native, turn)
        rejected += [self._reject_unreadable(turn, u) for u in unreadable]
        out_of_tokens = self.meters.completion_tokens >= self.limits.max_tokens
        if not calls and not rejected and usage.done_reason == "length" and out_of_tokens:
            raise TokenBudgetExceeded()
        return content, calls, rejected

    def _account(self, usage: Usage, chunks: int, chars: int) -> None:
        m = self.meters
        m.prompt_tokens += usage.prompt_tokens
        m.completion_tokens += usage.completion_tokens or max(chunks, chars // 4)
        if usage.tokens_per_s:
            m.rate_sum += usage.tokens_per_s
            m.rate_n += 1
        if usage.load_s and m.load_s is None:
            m.load_s = usage.load_s
        if usage.time_to_first_token_s is not None and self.trace.turns == 1:
            m.first_token_s = usage.time_to_first_token_s

    # ---- reading and validating calls ------------------------------------------

    def _read_calls(
        self, content: str, native: list[ToolCall], turn: int
    ) -> tuple[list[ToolCall], list[RejectedCall]]:
        candidates: list[ToolCall] = list(native)
        rejected: list[RejectedCall] = []
        if not native and content:
            recovery = recover_tool_calls(
                content, self._tool_names, prompted=self.mode is ToolMode.PROMPTED
            )
            if self.mode is ToolMode.NATIVE:
                self.meters.text_calls_ignored += len(recovery.calls) + len(recovery.malformed)
            else:
                candidates.extend(recovery.calls)
                self.meters.calls_recovered += len(recovery.calls)
                for bad in recovery.malformed:
                    rejected.append(
                        self._reject(
                            turn, Outcome.MALFORMED_CALL, None, bad.raw, bad.source, bad.reason
                        )
                    )
        valid: list[ToolCall] = []
        for call in candidates:
            problem = self.env.validation_error(call)
            if problem is None:
                valid.append(call)
                self.emit(
                    ToolCallParsed(run_id=self.run_id, attempt_id=self.attempt_id, turn=turn, call=call)
                )
                continue
            failure = Outcome.UNKNOWN_TOOL if call.name not in self._tool_names else Outcome.BAD_ARGUMENTS
            raw = call.raw or f"{call.name}({call.arguments})"
            rejected.append(self._reject(turn, failure, call.name, raw, call.source, problem, call))
        return valid, rejected

    def _reject_unreadable(self, turn: int, call: UnreadableCall) -> RejectedCall:
        """A native call the server could not give as an object: malformed, in every mode."""
        reason = "the tool call's arguments are not a JSON object" + (f" (tool {call.name})" if call.name else "")
        return self._reject(turn, Outcome.MALFORMED_CALL, call.name or None, call.raw, CallSource.NATIVE, reason)

    def _reject(
        self,
        turn: int,
        failure: Outcome,
        name: str | None,
        raw: str,
        source: CallSource,
        reason: str,
        call: ToolCall | None = None,
    ) -> RejectedCall:
        self.emit(
            ToolCallRejected(
                run_id=self.run_id,
                attempt_id=self.attempt_id,
                turn=turn,
                failure=failure,
                reason=reason,
                name=name,
                raw=raw,
                source=source,
            )
        )
        rejected = RejectedCall(failure=failure, name=name, raw=raw, reason=reason, call=call)
        self.trace.rejected.append(rejected)
        return rejected

    # ---- executing calls --------------------------------------------------------

    def _act(
        self,
        messages: list[Message],
        turn: int,
        content: str,
        calls: list[ToolCall],
        rejected: list[RejectedCall],
    ) -> str:
        """Execute valid calls, answer rejected ones with an error; return the turn's signature."""
        prompted = self.mode is ToolMode.PROMPTED
        answered = calls + [r.call for r in rejected if r.call is not None]
        if prompted:
            messages.append(Message(role="assistant", content=content))
        else:
            messages.append(Message(role="assistant", content=content, tool_calls=tuple(answered)))
        signature: list[str] = []
        for call in calls:
            started = time.perf_counter()
            output = self.env.execute(call)
            self.meters.tool_s += time.perf_counter() - started
            self.trace.calls.append(call)
            self.trace.call_turns.append(turn)
            self.trace.results.append(output.content)
            signature.append(call.signature() + "→" + output.content)
            self._tool_message(messages, turn, call, output.content, output.is_error, prompted)
        for bad in rejected:
            message = f"error: {bad.reason}. The call was not executed."
            if bad.call is not None:
                self._tool_message(messages, turn, bad.call, message, True, prompted)
            else:
                messages.append(Message(role="user", content=f"Your tool call could not be read: {bad.reason}."))
            signature.append("rejected:" + bad.raw)
        return "\n".join(signature)

    def _tool_message(
        self,
        messages: list[Message],
        turn: int,
        call: ToolCall,
        content: str,
        is_error: bool,
        prompted: bool,
    ) -> None:
        self.emit(
            ToolResult(
                run_id=self.run_id,
                attempt_id=self.attempt_id,
                turn=turn,
                call_id=call.id,
                name=call.name,
                content=content,
                is_error=is_error,
            )
        )
        if prompted:
            messages.append(prompted_tool_result(call, content))
        else:
            messages.append(
                Message(role="tool", content=content, tool_call_id=call.id, tool_name=call.name)
            )


__all__ = ["AgentLoop", "LoopLimits", "LoopMeters", "ProviderError"]


def can_force_a_call(mode: ToolMode, provider: Provider) -> bool:
    """Whether ``tool_choice: required`` reaches the server: never without a tools API
    (prompted mode), nor on a server that has no such setting (Ollama)."""
    if mode is ToolMode.PROMPTED:
        return False
    return bool(getattr(provider, "forces_tool_choice", True))
