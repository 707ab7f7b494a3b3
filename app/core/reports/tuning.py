"""The tuning part of a report: OFAT sweeps, budget ceilings, and raw vs harness per suite."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from app.core.metrics import Rate
from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings
from app.core.store.aggregates import CellStats, ContextLimits
from app.core.tuning.analysis import CellResult, SweepAnalysis, analyse_sweep
from app.core.tuning.ceilings import CeilingDiagnosis, TaskCell, diagnose_cells
from app.core.tuning.factors import Factor

RAW = ToolMode.NATIVE.value  # what the server's parser alone makes of the model
HARNESS = ToolMode.RECOVERY.value  # the same turns, with text tool calls recovered


@dataclass(frozen=True, slots=True)
class ModeDelta:
    """One model on one suite in each tool-calling mode; the delta is harness − raw."""

    model: str
    suite: str
    rates: dict[str, Rate]

    @property
    def delta(self) -> float | None:
        raw, harness = self.rates.get(RAW), self.rates.get(HARNESS)
        if raw is None or harness is None or raw.value is None or harness.value is None:
            return None
        return harness.value - raw.value


@dataclass(frozen=True, slots=True)
class TuningReport:
    sweeps: list[SweepAnalysis] = field(default_factory=list)
    ceilings: list[CeilingDiagnosis] = field(default_factory=list)
    modes: list[ModeDelta] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sweeps or self.ceilings or self.modes)


def build_tuning(
    stats: Sequence[CellStats],
    settings: Mapping[str, AttemptSettings],
    contexts: Sequence[ContextLimits] = (),
) -> TuningReport:
    """Everything tuning-shaped the cells hold; sections without data stay empty."""
    ceilings = diagnose_cells(_task_cells(stats, settings, contexts))
    diagnosed = {d.model for d in ceilings}
    sweeps = [
        s
        for s in analyse_sweep(_model_cells(stats, settings))
        if (s.factors or s.combinations) and not (s.model in diagnosed and _budgets_only(s))
    ]
    return TuningReport(sweeps=sweeps, ceilings=ceilings, modes=_mode_deltas(stats, settings))


def _budgets_only(sweep: SweepAnalysis) -> bool:
    """A ceiling run read as a sweep: shown as ceilings instead, not twice."""
    budgets = (Factor.TURN_BUDGET, Factor.TOKEN_BUDGET, Factor.CONTEXT)
    return not sweep.combinations and all(f.factor in budgets for f in sweep.factors)


def _model_cells(stats: Sequence[CellStats], settings: Mapping[str, AttemptSettings]) -> list[CellResult]:
    return [
        CellResult(model, cell, rate) for (model, _), cell, rate in _summed(stats, settings, lambda s: (s.model, ""))
    ]


def _task_cells(
    stats: Sequence[CellStats], settings: Mapping[str, AttemptSettings], contexts: Sequence[ContextLimits] = ()
) -> list[TaskCell]:
    limited: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in contexts:
        counts = limited[(c.model, c.task_id, c.settings_key)]
        counts[0] += c.count
        counts[1] = max(counts[1], c.needed or 0)
    cells = []
    for (model, task), cell, rate in _summed(stats, settings, lambda s: (s.model, s.task_id)):
        count, needed = limited.get((model, task, cell.key()), (0, 0))
        cells.append(TaskCell(model, task, cell, rate, count, needed or None))
    return cells


def _summed(
    stats: Sequence[CellStats],
    settings: Mapping[str, AttemptSettings],
    group: Callable[[CellStats], tuple[str, str]],
) -> list[tuple[tuple[str, str], AttemptSettings, Rate]]:
    """Passes summed per group and settings key, with the settings under the cell's label
    (one key may hold a plain run's attempts and a sweep's baseline: the label wins)."""
    sums: dict[tuple[tuple[str, str], str], list[int]] = defaultdict(lambda: [0, 0])
    labels: dict[str, str] = {}
    for s in stats:
        if s.settings_key in settings:
            counts = sums[(group(s), s.settings_key)]
            counts[0] += s.passed
            counts[1] += s.scored
            labels[s.settings_key] = max(labels.get(s.settings_key, ""), s.settings_label)
    return [
        (key, replace(settings[settings_key], label=labels[settings_key]), Rate(passed, scored))
        for (key, settings_key), (passed, scored) in sums.items()
    ]


def _mode_deltas(stats: Sequence[CellStats], settings: Mapping[str, AttemptSettings]) -> list[ModeDelta]:
    """Modes compared only between cells that differ in nothing else, per model and suite,
    and only over the tasks scored in every one of those modes."""
    groups: dict[tuple[str, str, str], dict[str, dict[str, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    for s in stats:
        if not s.scored:
            continue
        known = settings.get(s.settings_key, AttemptSettings())
        neutral = replace(known, tool_mode=ToolMode.RECOVERY, label="").key()
        counts = groups[(s.model, s.suite, neutral)][known.tool_mode.value][s.task_id]
        counts[0] += s.passed
        counts[1] += s.scored
    merged: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (model, suite, _), modes in groups.items():
        shared = set.intersection(*(set(tasks) for tasks in modes.values()))
        if len(modes) > 1 and shared:  # a single mode, or no common task, has nothing to compare
            for mode, tasks in modes.items():
                for task in shared:
                    merged[(model, suite)][mode][0] += tasks[task][0]
                    merged[(model, suite)][mode][1] += tasks[task][1]
    order = [m.value for m in ToolMode]
    return [
        ModeDelta(model, suite, {m: Rate(*modes[m]) for m in sorted(modes, key=order.index)})
        for (model, suite), modes in sorted(merged.items())
    ]
