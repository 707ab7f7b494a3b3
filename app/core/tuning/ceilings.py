"""Budget ceilings: sweep the turn and the token budget (×1, ×2, ×4) on what fails, and
tell a turn ceiling from a token ceiling from a capability ceiling.

A context ceiling comes first: when the server's context window cut the replies
(``context_limit``), more turns or tokens cannot help, only a larger ``num_ctx`` can. The
sweep then also runs the smallest context that would have held the cut replies, and the
advice names it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.metrics import Rate
from app.core.plan import AttemptSettings
from app.core.tuning.factors import Factor, differing_factors
from app.core.tuning.sweep import MIN_REPEATS, SweepSpec

DEFAULT_SCALES = (1.0, 2.0, 4.0)
MIN_GAIN = 0.33  # a rise of at least a third of the attempts: one more pass in three


class Ceiling(StrEnum):
    CONTEXT = "context ceiling"
    TURN = "turn ceiling"
    TOKEN = "token ceiling"
    TURN_AND_TOKEN = "turn and token ceiling"
    CAPABILITY = "capability ceiling"
    NONE = "passes at baseline"
    UNKNOWN = "not enough data"

    @property
    def advice(self) -> str:
        return _ADVICE[self]


_ADVICE = {
    Ceiling.CONTEXT: "the server's context window filled before our budgets: raise num_ctx",
    Ceiling.TURN: "more turns fix it: raise the turn budget",
    Ceiling.TOKEN: "more tokens fix it: raise the token budget",
    Ceiling.TURN_AND_TOKEN: "both budgets help: raise the one that helped most, then the other",
    Ceiling.CAPABILITY: "flat across both budgets: configuration will not fix it",
    Ceiling.NONE: "nothing to fix at these budgets",
    Ceiling.UNKNOWN: "run the budget sweep to find out",
}


def ceiling_sweep(
    baseline: AttemptSettings,
    scales: Sequence[float] = DEFAULT_SCALES,
    repeats: int = MIN_REPEATS,
    contexts: Sequence[int] = (),
) -> SweepSpec:
    """The turn budget and the token budget, each scaled alone from the baseline; and
    ``num_ctx`` at each of ``contexts`` (the ones that would have held context-limited replies)."""
    values = [float(s) for s in scales]
    factors: dict[Factor, list[float | int]] = {Factor.TURN_BUDGET: list(values), Factor.TOKEN_BUDGET: list(values)}
    if contexts:
        factors[Factor.CONTEXT] = sorted({int(c) for c in contexts})
    return SweepSpec(baseline, dict(factors), repeats)


@dataclass(frozen=True, slots=True)
class TaskCell:
    """One model on one task under one settings cell."""

    model: str
    task_id: str
    settings: AttemptSettings
    rate: Rate
    context_limited: int = 0  # attempts the server's context cut (outcome context_limit)
    context_needed: int | None = None  # the smallest context that would have held them all


@dataclass(frozen=True, slots=True)
class CeilingDiagnosis:
    model: str
    task_id: str
    ceiling: Ceiling
    baseline: Rate
    turns: tuple[tuple[float, Rate], ...]  # (scale, rate), ×1 included, ascending
    tokens: tuple[tuple[float, Rate], ...]
    contexts: tuple[tuple[int, Rate], ...] = field(default=())  # (num_ctx, rate) swept
    context_limited: int = 0  # of the baseline's attempts
    context_needed: int | None = None

    @property
    def evidence(self) -> str:
        def line(name: str, points: tuple[tuple[float, Rate], ...]) -> str:
            return f"{name} " + ", ".join(f"×{s:g} {r.passed}/{r.scored}" for s, r in points)

        text = f"{line('turns', self.turns)}; {line('tokens', self.tokens)}"
        if self.context_limited:
            text += f"; {self.context_limited}/{self.baseline.scored} cut by the context"
        if self.contexts:
            text += "; num_ctx " + ", ".join(f"{c} {r.passed}/{r.scored}" for c, r in self.contexts)
        return text

    @property
    def advice(self) -> str:
        """What to change: for a context ceiling, the smallest ``num_ctx`` that holds it."""
        if self.ceiling is not Ceiling.CONTEXT:
            return self.ceiling.advice
        base = self.baseline.value or 0.0
        risen = [c for c, r in self.contexts if r.value is not None and r.value - base >= MIN_GAIN]
        size = min(risen) if risen else self.context_needed
        if size is None:
            return self.ceiling.advice
        held = "passes rose" if risen else "it would have held the cut replies"
        return f"the server's context window filled before our budgets: raise num_ctx to {size} ({held})"


def diagnose(
    baseline: Rate,
    turns: Sequence[tuple[float, Rate]],
    tokens: Sequence[tuple[float, Rate]],
    *,
    min_gain: float = MIN_GAIN,
    context_limited: int = 0,
) -> Ceiling:
    """Which budget, if any, lifts the pass rate above the baseline's; a context ceiling
    when at least a third of the baseline's attempts were cut by the server's context."""
    if baseline.value is None:
        return Ceiling.UNKNOWN
    if baseline.passed == baseline.scored:
        return Ceiling.NONE
    if context_limited and context_limited >= min_gain * baseline.scored:
        return Ceiling.CONTEXT  # more turns or tokens only fill the context sooner
    turn_gain = _gain(baseline, turns)
    token_gain = _gain(baseline, tokens)
    if turn_gain is None and token_gain is None:
        return Ceiling.UNKNOWN
    rises_turns = turn_gain is not None and turn_gain >= min_gain
    rises_tokens = token_gain is not None and token_gain >= min_gain
    if rises_turns and rises_tokens:
        return Ceiling.TURN_AND_TOKEN
    if rises_turns:
        return Ceiling.TURN
    if rises_tokens:
        return Ceiling.TOKEN
    if turn_gain is None or token_gain is None:
        return Ceiling.UNKNOWN  # flat on one budget, the other never swept
    return Ceiling.CAPABILITY


def _gain(baseline: Rate, points: Sequence[tuple[float, Rate]]) -> float | None:
    raised = [r.value for scale, r in points if scale > 1 and r.value is not None]
    return max(raised) - (baseline.value or 0.0) if raised else None


def diagnose_cells(cells: Sequence[TaskCell], *, min_gain: float = MIN_GAIN) -> list[CeilingDiagnosis]:
    """A diagnosis per model × task that has a baseline cell and budget-scaled cells."""
    groups: dict[tuple[str, str], list[TaskCell]] = {}
    for cell in cells:
        groups.setdefault((cell.model, cell.task_id), []).append(cell)
    diagnoses = []
    for (model, task_id), group in sorted(groups.items()):
        base = [c for c in group if c.settings.label == "baseline"]
        if not base:
            continue
        baseline = base[0]
        turns: dict[float, Rate] = {1.0: baseline.rate}
        tokens: dict[float, Rate] = {1.0: baseline.rate}
        contexts: dict[int, Rate] = {}
        for cell in group:
            differs = differing_factors(baseline.settings, cell.settings)
            if differs == [Factor.TURN_BUDGET]:
                turns[cell.settings.turn_scale / baseline.settings.turn_scale] = cell.rate
            elif differs == [Factor.TOKEN_BUDGET]:
                tokens[cell.settings.token_scale / baseline.settings.token_scale] = cell.rate
            elif differs == [Factor.CONTEXT] and cell.settings.generation.num_ctx:
                contexts[cell.settings.generation.num_ctx] = cell.rate
        if len(turns) == 1 and len(tokens) == 1 and not contexts and not baseline.context_limited:
            continue
        turn_points = tuple(sorted(turns.items()))
        token_points = tuple(sorted(tokens.items()))
        ceiling = diagnose(
            baseline.rate, turn_points, token_points, min_gain=min_gain, context_limited=baseline.context_limited
        )
        if _context_rise(baseline.rate, contexts, min_gain) and ceiling is not Ceiling.NONE:
            ceiling = Ceiling.CONTEXT
        diagnoses.append(
            CeilingDiagnosis(
                model,
                task_id,
                ceiling,
                baseline.rate,
                turn_points,
                token_points,
                tuple(sorted(contexts.items())),
                baseline.context_limited,
                baseline.context_needed,
            )
        )
    return diagnoses


def _context_rise(baseline: Rate, contexts: dict[int, Rate], min_gain: float) -> bool:
    """Whether a larger ``num_ctx`` lifted the pass rate by at least ``min_gain``."""
    base = baseline.value or 0.0
    return any(r.value is not None and r.value - base >= min_gain for r in contexts.values())
