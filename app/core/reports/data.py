"""Everything a report shows, gathered once from the store (aggregates in SQL)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from app import __version__
from app.core.events import Event
from app.core.metrics import Rate, pass_hat_k
from app.core.outcomes import Outcome
from app.core.reports.configurations import (
    SettingDifference,
    configuration_labels,
    setting_differences,
)
from app.core.reports.tuning import TuningReport, build_tuning
from app.core.store.aggregates import (
    CellStats,
    ConfiguredOutcomeCount,
    cell_stats,
    outcome_counts_by_settings,
    task_titles,
)
from app.core.store.records import AttemptRecord
from app.core.store.repository import Repository, RunSummary
from app.core.unjudged import Unjudged

SCHEMA_VERSION = 1
CODE_SUITE = "oneshot"


@dataclass(frozen=True, slots=True)
class ModelReport:
    """One model run one way: ``model`` names the model and, when settings differ, its configuration."""

    model: str
    agent: Rate  # every suite but the one-shot code control
    code: Rate  # the one-shot suite
    by_tier: dict[str, Rate]
    by_mode: dict[str, Rate]  # tool-calling mode -> agent score: raw (native) vs harness
    failures: dict[Outcome, int]
    infra_errors: int
    pass_hat_k: float | None
    k: int
    mean_turns_on_pass: float | None
    tokens_per_s: float | None
    mean_wall_s: float | None
    malformed_calls: int
    budget_exceeded: int
    simulated: bool
    model_label: str = ""  # the model alone, as attempts record it
    configuration: str = ""  # what sets this configuration apart, "" when all were run alike
    settings_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureExample:
    attempt: AttemptRecord
    transcript: list[Event]


@dataclass(frozen=True, slots=True)
class ReportData:
    runs: list[RunSummary]
    generated_at: float
    app_version: str
    models: list[ModelReport]
    tasks: list[tuple[str, str, str]]  # (suite, tier, task id)
    cells: dict[tuple[str, str], Rate]  # (task id, model) -> rate
    attempts: list[AttemptRecord]
    failures: list[FailureExample] = field(default_factory=list)
    method: dict[str, str] = field(default_factory=dict)
    tuning: TuningReport = field(default_factory=TuningReport)
    unjudged: Unjudged | None = None  # attempts that ended as harness_error
    differences: list[SettingDifference] = field(default_factory=list)
    task_titles: dict[str, str] = field(default_factory=dict)

    def title(self, task_id: str) -> str:
        return self.task_titles.get(task_id) or task_id


UNJUDGED_LISTED = 200  # harness errors are rare; past this many the measurement is broken anyway


def build_report(
    repo: Repository,
    run_ids: Sequence[str],
    *,
    failure_examples: int = 12,
    with_attempts: bool = True,
) -> ReportData:
    """Aggregates come from SQL; per-attempt rows only when the format lists them (CSV, JSON)."""
    runs = repo.run_summaries(run_ids)
    db = repo.database
    stats = cell_stats(db, run_ids)
    counts = outcome_counts_by_settings(db, run_ids)
    attempts = [a for run_id in run_ids for a in repo.attempts(run_id)] if with_attempts else []
    broken = repo.unjudged_attempts(run_ids, limit=UNJUDGED_LISTED)
    settings_by_key = repo.settings_by_key(run_ids)
    labels = configuration_labels(settings_by_key)
    series: dict[tuple[str, str], list[CellStats]] = defaultdict(list)
    for s in stats:
        series[(s.model, labels.get(s.settings_key, ""))].append(s)
    tasks = sorted({(s.suite, s.tier, s.task_id) for s in stats})
    modes = {key: settings.tool_mode.value for key, settings in settings_by_key.items()}
    reports = [
        _model_report(model, configuration, group, counts, modes)
        for (model, configuration), group in sorted(series.items())
    ]
    cells: dict[tuple[str, str], Rate] = {}
    for report in reports:
        for s in series[(report.model_label, report.configuration)]:
            old = cells.get((s.task_id, report.model), Rate(0, 0))
            cells[(s.task_id, report.model)] = Rate(old.passed + s.passed, old.scored + s.scored)
    failures = [FailureExample(a, repo.transcript(a.id)) for a in _examples(repo, run_ids, counts, failure_examples)]
    return ReportData(
        runs=runs,
        generated_at=time.time(),
        app_version=__version__,
        models=reports,
        tasks=tasks,
        cells=cells,
        attempts=attempts,
        failures=failures,
        method=_with_unjudged(repo.method_notes(run_ids), broken),
        tuning=build_tuning(stats, settings_by_key, repo.context_limits(run_ids)),
        unjudged=broken,
        differences=setting_differences(settings_by_key),
        task_titles=task_titles(db, [task for _, _, task in tasks]),
    )


def series_name(model: str, configuration: str) -> str:
    """How a model run one way is named in charts and tables."""
    return f"{model} [{configuration}]" if configuration else model


UNJUDGED_HEADING = "attempts that could not be judged"


def _with_unjudged(method: dict[str, str], broken: Unjudged | None) -> dict[str, str]:
    """The method notes, plus every ``harness_error`` attempt: the measurement broke there."""
    if broken is None:
        return method
    lines = [
        f"{broken.count} attempt(s) ended as harness_error: AgentGap could not judge them "
        "(a check that could not run, or a crash on our side). They are not counted for or "
        "against any model.",
        *(f"- {a.line}" for a in broken.attempts),
    ]
    if broken.count > len(broken.attempts):
        lines.append(f"- … and {broken.count - len(broken.attempts)} more")
    return {**method, UNJUDGED_HEADING: "\n".join(lines)}


def _model_report(
    model: str,
    configuration: str,
    stats: list[CellStats],
    counts: Sequence[ConfiguredOutcomeCount],
    modes: dict[str, str],
) -> ModelReport:
    agent = [s for s in stats if s.suite != CODE_SUITE]
    code = [s for s in stats if s.suite == CODE_SUITE]
    by_tier: dict[str, list[CellStats]] = defaultdict(list)
    by_mode: dict[str, list[CellStats]] = defaultdict(list)
    for s in agent:
        by_tier[f"{s.suite}/{s.tier}"].append(s)
        by_mode[modes.get(s.settings_key, "recovery")].append(s)
    failures: Counter[Outcome] = Counter()
    infra = 0
    keys = {s.settings_key for s in stats}
    for c in counts:
        if c.model != model or c.settings_key not in keys:
            continue
        outcome, n = c.outcome, c.count
        if outcome is Outcome.INFRA_ERROR:
            infra += n
        elif outcome.counts_in_score and not outcome.is_pass:
            failures[outcome] += n
    per_task: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in stats:
        per_task[s.task_id][0] += s.passed
        per_task[s.task_id][1] += s.scored
    k = min((n for _, n in per_task.values() if n), default=0)
    runs = [[True] * c + [False] * (n - c) for c, n in per_task.values() if n]
    passes = [s for s in stats if s.mean_turns_on_pass is not None]
    rates = [s.mean_tokens_per_s for s in stats if s.mean_tokens_per_s]
    walls = [s.mean_wall_s for s in stats if s.mean_wall_s]
    return ModelReport(
        model=series_name(model, configuration),
        agent=_rate(agent),
        code=_rate(code),
        by_tier={tier: _rate(group) for tier, group in sorted(by_tier.items())},
        by_mode={mode: _rate(group) for mode, group in sorted(by_mode.items())},
        failures=dict(failures.most_common()),
        infra_errors=infra,
        pass_hat_k=pass_hat_k(runs, k) if k >= 2 else None,
        k=k,
        mean_turns_on_pass=_weighted([(s.mean_turns_on_pass, s.passed) for s in passes]),
        tokens_per_s=sum(rates) / len(rates) if rates else None,
        mean_wall_s=sum(walls) / len(walls) if walls else None,
        malformed_calls=sum(s.malformed_calls for s in stats),
        budget_exceeded=sum(s.budget_exceeded for s in stats),
        simulated=model.startswith("sim:"),
        model_label=model,
        configuration=configuration,
        settings_keys=tuple(sorted(keys)),
    )


def _rate(stats: Sequence[CellStats]) -> Rate:
    return Rate(sum(s.passed for s in stats), sum(s.scored for s in stats))


def _weighted(pairs: Sequence[tuple[float | None, int]]) -> float | None:
    total = sum(n for v, n in pairs if v is not None)
    return sum((v or 0) * n for v, n in pairs) / total if total else None


def _examples(
    repo: Repository, run_ids: Sequence[str], counts: Sequence[ConfiguredOutcomeCount], limit: int
) -> list[AttemptRecord]:
    """At least one failed attempt per model and failure mode (when ``limit`` > 0), then
    the newest others up to ``limit``."""
    if limit <= 0:
        return []
    kinds = sorted({(c.model, c.outcome) for c in counts if c.count and c.outcome.counts_in_score and not c.outcome.is_pass},
                   key=lambda k: (k[0], k[1].value))
    first: list[AttemptRecord] = []
    for model, outcome in kinds:
        example = repo.example_attempt(list(run_ids), model, outcome)
        if example is not None:
            first.append(example)
    seen = {a.id for a in first}
    rest = [a for a in _spread(repo.failed_attempts(run_ids, limit=limit * 20), limit) if a.id not in seen]
    return first + rest[: max(0, limit - len(first))]


def _spread(failed: list[AttemptRecord], limit: int) -> list[AttemptRecord]:
    """Up to ``limit`` failures, one per (model, failure mode) first, so every kind shows."""
    seen: set[tuple[str, Outcome | None]] = set()
    first: list[AttemptRecord] = []
    rest: list[AttemptRecord] = []
    for attempt in failed:
        key = (attempt.model, attempt.outcome)
        (rest if key in seen else first).append(attempt)
        seen.add(key)
    return (first + rest)[:limit]
