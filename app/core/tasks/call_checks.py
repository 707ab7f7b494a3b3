"""Tool-call expectations: match the calls a model made against a ``tool_calls`` check,
and name the failure when they fall short."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.agent.trace import AttemptTrace
from app.core.chat import ToolCall
from app.core.outcomes import Outcome
from app.core.tasks.matching import args_mismatch
from app.core.tasks.schema import Check, ExpectedCall, ToolCallsCheck


@dataclass(frozen=True, slots=True)
class CallShortfall:
    """Why the calls made fall short of a ``tool_calls`` check, and which failure that is."""

    outcome: Outcome
    detail: str


@dataclass(frozen=True, slots=True)
class MadeCalls:
    """The calls an attempt made, the model turn of each, and the result each returned."""

    calls: Sequence[ToolCall]
    turns: Sequence[int]
    results: Sequence[str]

    @classmethod
    def of(cls, made: Sequence[ToolCall] | AttemptTrace) -> MadeCalls:
        if isinstance(made, AttemptTrace):
            return cls(made.calls, made.call_turns, made.results)
        return cls(made, [0] * len(made), [""] * len(made))

    def turn(self, index: int) -> int:
        return self.turns[index] if index < len(self.turns) else 0

    def seen_before(self, index: int) -> str:
        """Every tool result the model had read before it made call ``index``."""
        turn = self.turn(index)
        return "\n".join(
            self.results[i] for i in range(min(index, len(self.results))) if self.turn(i) < turn
        )


def call_shortfall(
    check: ToolCallsCheck, made: Sequence[ToolCall] | AttemptTrace
) -> CallShortfall | None:
    """Match expected calls to the calls made, by position (equal calls stay distinct).

    In ``sequence`` order each expected call must come after the one matched before it;
    with ``same_turn`` the matched calls must all come from one model turn.
    """
    calls = MadeCalls.of(made)
    everywhere = range(len(calls.calls))
    if check.same_turn:
        for turn in sorted(set(calls.turns)):
            one_turn = [i for i in everywhere if calls.turn(i) == turn]
            if _shortfall_within(check, calls, one_turn) is None:
                return _count_shortfall(check, calls.calls)
        shortfall = _shortfall_within(check, calls, list(everywhere))
        if shortfall is not None:
            return shortfall
        names = [c.name for c in check.calls]
        return CallShortfall(Outcome.WRONG_RESULT, f"calls {names} were not made together in one turn")
    shortfall = _shortfall_within(check, calls, list(everywhere))
    return shortfall if shortfall is not None else _count_shortfall(check, calls.calls)


def _shortfall_within(
    check: ToolCallsCheck, made: MadeCalls, allowed: list[int]
) -> CallShortfall | None:
    """Why the calls at the ``allowed`` positions fall short of the expected calls."""
    if check.order != "sequence":
        matched, missing = _match_any_order(check.calls, made, allowed)
        if missing is not None:
            return _why_missing(check.calls[missing], made, allowed, set(matched))
        return None
    used: set[int] = set()
    after = 0
    for expected in check.calls:
        window = [i for i in allowed if i >= after]
        index = _find(expected, made, window, used)
        if index is None:
            return _why_missing(expected, made, window, used)
        used.add(index)
        after = index + 1  # in a sequence the earliest match leaves the most room after it
    return None


def _count_shortfall(check: ToolCallsCheck, calls: Sequence[ToolCall]) -> CallShortfall | None:
    if not check.allow_extra and len(calls) != len(check.calls):
        return CallShortfall(
            Outcome.UNWANTED_CALL, f"expected {len(check.calls)} call(s), made {len(calls)}"
        )
    return None


def _match_any_order(
    expected: Sequence[ExpectedCall], made: MadeCalls, allowed: list[int]
) -> tuple[dict[int, int], int | None]:
    """A matching of expected calls to distinct calls (augmenting paths, so a loose
    expectation never takes the only call a strict one could use); returns call index →
    expected index, and the first expected call left unmatched, if any."""
    owner: dict[int, int] = {}

    def place(wanted: int, seen: set[int]) -> bool:
        for index in allowed:
            if index in seen or not _matches(expected[wanted], made, index):
                continue
            seen.add(index)
            if index not in owner or place(owner[index], seen):
                owner[index] = wanted
                return True
        return False

    for wanted in range(len(expected)):
        if not place(wanted, set()):
            return owner, wanted
    return owner, None


def _find(
    expected: ExpectedCall, made: MadeCalls, window: list[int], used: set[int]
) -> int | None:
    for index in window:
        if index not in used and _matches(expected, made, index):
            return index
    return None


def _matches(expected: ExpectedCall, made: MadeCalls, index: int) -> bool:
    return _mismatch(expected, made, index) is None


def _mismatch(expected: ExpectedCall, made: MadeCalls, index: int) -> str | None:
    """Why call ``index`` is not the expected call, or None when it is."""
    call = made.calls[index]
    if call.name != expected.name:
        return f"{call.name} is not {expected.name}"
    reason = args_mismatch(expected.args, call.arguments, exact=expected.exact_args)
    if reason is not None:
        return reason
    sources = [key for key, m in expected.args.items() if m.from_result and key in call.arguments]
    if sources:
        seen = made.seen_before(index)
        for key in sources:
            if not _appears_in(call.arguments[key], seen):
                return f"argument {key!r} = {call.arguments[key]!r} did not come from an earlier tool result"
    return None


def _appears_in(value: object, text: str) -> bool:
    """Whether a value was read in ``text`` (as written, or as JSON writes it)."""
    written = value if isinstance(value, str) else json.dumps(value)
    return bool(written) and (written in text or json.dumps(value) in text)


def _why_missing(
    expected: ExpectedCall, made: MadeCalls, window: list[int], used: set[int]
) -> CallShortfall:
    """Name the failure by what the calls left over show, never by the tool name alone
    (every call of an api-chain task goes to the same ``http_request`` tool)."""
    calls = made.calls
    free = [i for i in range(len(calls)) if i not in used]
    same_name = [i for i in free if calls[i].name == expected.name]
    in_window = [i for i in same_name if i in window]
    if not in_window and any(_matches(expected, made, i) for i in same_name):
        return CallShortfall(
            Outcome.WRONG_RESULT, f"{expected.name} was called before the call it should follow"
        )
    if same_name:
        reason = _mismatch(expected, made, (in_window or same_name)[-1])
        return CallShortfall(Outcome.BAD_ARGUMENTS, f"{expected.name}: {reason}")
    if free:
        names = [calls[i].name for i in free]
        return CallShortfall(
            Outcome.WRONG_TOOL, f"expected a call to {expected.name}, got {names}"
        )
    if calls:
        return CallShortfall(
            Outcome.NO_TOOL_CALL,
            f"expected a call to {expected.name}, but it answered without making it",
        )
    return CallShortfall(Outcome.NO_TOOL_CALL, f"expected a call to {expected.name}, got none")


def failing_call_mode(check: Check, trace: AttemptTrace) -> Outcome | None:
    """For a failed ``tool_calls`` check: a missing call, the wrong tool, the right tool
    misused, or a call too many.

    A needed call that is missing because the model's attempt at it was refused is named
    by the refusal (malformed, unknown tool, bad arguments); so is a wrong tool that was
    in fact an invented one.
    """
    if not isinstance(check, ToolCallsCheck):
        return None
    try:
        shortfall = call_shortfall(check, trace)
    except Exception:  # the check itself reported why it could not run
        return None
    if shortfall is None:
        return None
    refused = {r.failure for r in trace.rejected}
    if shortfall.outcome is Outcome.WRONG_TOOL and Outcome.UNKNOWN_TOOL in refused:
        return Outcome.UNKNOWN_TOOL
    if shortfall.outcome is Outcome.NO_TOOL_CALL:
        for failure in (Outcome.MALFORMED_CALL, Outcome.UNKNOWN_TOOL, Outcome.BAD_ARGUMENTS):
            if failure in refused:
                return failure
    return shortfall.outcome
