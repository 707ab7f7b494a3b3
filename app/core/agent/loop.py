"""The fixed agent loop: send, stream, take calls, validate, execute, repeat, stop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from app.core.agent.context import ContextCut, context_needed
from app.core.agent.meters import LoopLimits, LoopMeters, TurnMeter, prompt_estimate
from app.core.agent.prompts import prompted_tool_result
from app.core.agent.repetition import RepetitionWatch
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
from app.core.providers.base import ContextLimitError, Provider, ProviderError
from app.core.secrets import redact
from app.core.tasks.environment import TaskEnvironment
from app.core.toolcalls import recover_tool_calls
from app.core.toolcalls.limits import arguments_problem

Emit = Callable[[Event], None]


class TokenBudgetExceeded(Exception):
    pass


class StopEarly(Exception):
    """The loop ends the attempt for a reason it can name (a full context, repeated text)."""

    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


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
        self._context_asked = False

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
        self.env.set_deadline(deadline)
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
        except ContextLimitError as error:
            self._stop(StopReason.CONTEXT_LIMIT, self._context_error_detail(error, messages))
        except StopEarly as stop:
            self._stop(stop.reason, stop.detail)
        return self.trace

    def context_window(self) -> int | None:
        """The context the server runs this model with: asked once, after the first turn
        (when the model is loaded); None when the server does not say."""
        if not self._context_asked:
            self._context_asked = True
            try:
                self.meters.context_window = self.provider.context_window(self.model, self.generation)
            except Exception:  # a lookup that fails leaves it unknown, never ends the attempt
                self.meters.context_window = None
        return self.meters.context_window

    def _context_error_detail(self, error: ContextLimitError, messages: list[Message]) -> str:
        if error.context:  # the server said which context it ran with: no need to ask
            self._context_asked = True
            self.meters.context_window = error.context
        context = self.context_window()
        allowed = self._allowed_tokens()
        cut = ContextCut(context, error.prompt_tokens, None, allowed, prompt_estimate(messages))
        self.meters.context_needed = context_needed(cut)
        return f"{error.message}; {cut.describe()}"

    def _allowed_tokens(self) -> int:
        remaining = self.limits.max_tokens - self.meters.completion_tokens
        cap = self.generation.max_tokens
        return max(0, min(cap, remaining) if cap else remaining)

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
        usage: Usage | None = None
        finished = False
        meter = TurnMeter(time.perf_counter())
        watch = RepetitionWatch()
        stream = self.provider.stream_turn(request, self.cancel, deadline)
        try:
            for chunk in stream:
                now = meter.arrived()
                if isinstance(chunk, TextChunk):
                    if self.meters.first_token_s is None and turn == 1:
                        self.meters.first_token_s = now - meter.started
                    (thinking_parts if chunk.thinking else text_parts).append(chunk.text)
                    meter.text(chunk.text, now)
                    self.emit(
                        TextDelta(
                            run_id=self.run_id,
                            attempt_id=self.attempt_id,
                            turn=turn,
                            text=chunk.text,
                            thinking=chunk.thinking,
                        )
                    )
                    if meter.tokens > remaining * 1.1 + 8:
                        raise TokenBudgetExceeded()  # the server would not stop: cut the stream
                    found = watch.feed(chunk.text)
                    if found is not None:
                        raise StopEarly(StopReason.LOOP, found.detail)
                elif isinstance(chunk, NativeCallsChunk):
                    native.extend(chunk.calls)
                    unreadable.extend(chunk.unreadable)
                elif isinstance(chunk, TurnDone):
                    usage = chunk.usage
                meter.waiting()
            finished = True
        finally:
            # Every way out (an answer, a budget, a cancel, a server error) keeps its meters,
            # and the text streamed before a cut stays in the transcript.
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            self.meters.model_wait_s += meter.stop_waiting()
            usage = usage or Usage(tokens_per_s=meter.rate())
            self._account(usage, meter)
            if not finished and (text_parts or thinking_parts or native):
                self._emit_turn(turn, text_parts, thinking_parts, native, replace(usage, completion_tokens=meter.tokens))
        content = self._emit_turn(turn, text_parts, thinking_parts, native, usage)
        self._check_context(usage, meter, request.settings.max_tokens or remaining, messages)
        calls, rejected = self._read_calls(content, native, turn)
        rejected += [self._reject_unreadable(turn, u) for u in unreadable]
        out_of_tokens = self.meters.completion_tokens >= self.limits.max_tokens
        if not calls and not rejected and usage.done_reason == "length" and out_of_tokens:
            raise TokenBudgetExceeded()
        return content, calls, rejected

    def _emit_turn(
        self, turn: int, text: list[str], thinking: list[str], native: list[ToolCall], usage: Usage
    ) -> str:
        """Put the turn's assistant message in the transcript; returns its text."""
        content = "".join(text)
        self.emit(
            AssistantTurn(
                run_id=self.run_id,
                attempt_id=self.attempt_id,
                turn=turn,
                content=content,
                thinking="".join(thinking) or None,
                native_calls=len(native),
                usage=usage,
            )
        )
        return content

    def _check_context(self, usage: Usage, meter: TurnMeter, allowed: int, messages: list[Message]) -> None:
        """Stop at once when the server's context, not our budget, ended the turn: a reply
        cut for length below what it was allowed, or a prompt that filled the context
        (Ollama cuts such a prompt to fit, silently)."""
        produced = usage.completion_tokens or meter.tokens
        length_cut = usage.done_reason == "length" and produced < allowed
        context = self.context_window()
        truncated = context is not None and usage.prompt_tokens >= context
        if not (length_cut or truncated):
            return
        cut = ContextCut(context, usage.prompt_tokens or None, produced, allowed, prompt_estimate(messages))
        self.meters.context_needed = context_needed(cut)
        if truncated:
            head = f"the prompt filled the server's {context}-token context and was cut to fit"
        else:
            head = f"the server stopped the reply for length after {produced} tokens, though {allowed} were allowed"
        raise StopEarly(StopReason.CONTEXT_LIMIT, f"{head}: {cut.describe()}")

    def _account(self, usage: Usage, meter: TurnMeter) -> None:
        m = self.meters
        m.prompt_tokens += usage.prompt_tokens
        m.completion_tokens += usage.completion_tokens or meter.tokens
        rate = usage.tokens_per_s or meter.rate()
        if rate:
            m.rate_sum += rate
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
            too_big = arguments_problem(call.arguments)
            if too_big is not None:
                raw = (call.raw or call.name)[:2000]
                rejected.append(self._reject(turn, Outcome.MALFORMED_CALL, call.name, raw, call.source, too_big))
                continue
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
            content = redact(output.content, self.provider.secret)  # a key the command read
            self.meters.tool_s += time.perf_counter() - started
            self.trace.calls.append(call)
            self.trace.call_turns.append(turn)
            self.trace.results.append(content)
            signature.append(call.signature() + "→" + content)
            self._tool_message(messages, turn, call, content, output.is_error, prompted)
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
