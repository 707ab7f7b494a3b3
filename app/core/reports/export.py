"""Write a report as self-contained HTML, Markdown, CSV (one row per attempt) or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.core.events import event_to_dict
from app.core.metrics import Rate
from app.core.outcomes import ToolMode
from app.core.reports import svg
from app.core.reports.data import SCHEMA_VERSION, ReportData
from app.core.reports.tuning import TuningReport

FORMATS = ("html", "md", "csv", "json")
TEMPLATES = Path(__file__).resolve().parent / "templates"

CSV_FIELDS = (
    "id", "run_id", "model", "suite", "tier", "task_id", "repeat", "settings_label", "settings_key",
    "status", "outcome", "score", "turns", "calls_valid", "calls_recovered", "calls_malformed",
    "prompt_tokens", "completion_tokens", "tokens_per_s", "ttft_s", "wall_s", "harness_s",
    "context_window", "infra_retries", "detail",
)


def suggested_file_name(run_names: Sequence[str], when: float, fmt: str) -> str:
    """A report file name people can read: the run name (or "N-runs") and the date."""
    stem = "-".join(filter(None, _slug(run_names[0]).split("-")))[:60] if len(run_names) == 1 else f"{len(run_names)}-runs"
    day = datetime.fromtimestamp(when).strftime("%Y-%m-%d")
    return f"agentgap-{stem or 'report'}-{day}.{fmt}"


def write_report(data: ReportData, fmt: str, path: Path) -> list[Path]:
    """Write ``data`` as ``fmt`` to ``path``; returns every file written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(to_json(data), encoding="utf-8")
    elif fmt == "csv":
        path.write_text(to_csv(data), encoding="utf-8", newline="")
    elif fmt == "md":
        return _write_markdown(data, path)
    elif fmt == "html":
        path.write_text(to_html(data), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return [path]


def to_json(data: ReportData) -> str:
    payload: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": data.generated_at,
        "app_version": data.app_version,
        "runs": [asdict(r) for r in data.runs],
        "models": [_model_json(m) for m in data.models],
        "table": [
            {"suite": s, "tier": t, "task_id": task, "cells": {
                m.model: {"passed": data.cells[(task, m.model)].passed, "scored": data.cells[(task, m.model)].scored}
                for m in data.models if (task, m.model) in data.cells
            }}
            for s, t, task in data.tasks
        ],
        "attempts": [_attempt_json(a) for a in data.attempts],
        "method": data.method,
        "tuning": tuning_to_dict(data.tuning),
    }
    return json.dumps(payload, indent=2, default=str)


def tuning_to_dict(tuning: TuningReport) -> dict[str, Any]:
    """Sweeps (winners only where intervals separate), ceilings, raw vs harness per suite."""
    return {
        "sweeps": [
            {
                "model": s.model,
                "baseline": _rate_json(s.baseline.rate),
                "factors": [
                    {
                        "factor": f.factor.value,
                        "points": [
                            {"value": p.value, "label": p.label, "verdict": p.verdict.value, **_rate_json(p.rate)}
                            for p in f.points
                        ],
                        "winner": None if f.winner is None else f.winner.label,
                    }
                    for f in s.factors
                ],
                "combinations": [
                    {"label": c.settings.label, "verdict": v.value, **_rate_json(c.rate)} for c, v in s.combinations
                ],
                "all_winners_pending": s.all_winners_settings() is not None,
            }
            for s in tuning.sweeps
        ],
        "ceilings": [
            {
                "model": d.model,
                "task_id": d.task_id,
                "ceiling": d.ceiling.value,
                "turns": {f"{k:g}": _rate_json(r) for k, r in d.turns},
                "tokens": {f"{k:g}": _rate_json(r) for k, r in d.tokens},
            }
            for d in tuning.ceilings
        ],
        "raw_vs_harness": [
            {"model": d.model, "suite": d.suite, "modes": {m: _rate_json(r) for m, r in d.rates.items()}, "delta": d.delta}
            for d in tuning.modes
        ],
    }


def _model_json(m: Any) -> dict[str, Any]:
    return {
        "model": m.model,
        "simulated": m.simulated,
        "agent": _rate_json(m.agent),
        "code": _rate_json(m.code),
        "by_tier": {tier: _rate_json(rate) for tier, rate in m.by_tier.items()},
        "by_tool_mode": {mode: _rate_json(rate) for mode, rate in m.by_mode.items()},
        "failures": {o.value: n for o, n in m.failures.items()},
        "infra_errors": m.infra_errors,
        "pass_hat_k": m.pass_hat_k,
        "k": m.k,
        "mean_turns_on_pass": m.mean_turns_on_pass,
        "tokens_per_s": m.tokens_per_s,
        "mean_wall_s": m.mean_wall_s,
        "malformed_calls": m.malformed_calls,
        "budget_exceeded": m.budget_exceeded,
    }


def _rate_json(rate: Any) -> dict[str, Any]:
    low, high = rate.interval
    return {"passed": rate.passed, "scored": rate.scored, "rate": rate.value, "ci95": [low, high]}


def _attempt_json(a: Any) -> dict[str, Any]:
    data = asdict(a)
    data["outcome"] = a.outcome.value if a.outcome else None
    return data


def to_csv(data: ReportData) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for attempt in data.attempts:
        writer.writerow(_attempt_json(attempt))
    return buffer.getvalue()


def charts(data: ReportData) -> dict[str, str]:
    """The report's charts as standalone SVG documents."""
    tiers = sorted({tier for m in data.models for tier in m.by_tier})
    result = {
        "pass-rate-by-tier": svg.rate_bars(
            "Pass rate by tier (95% interval)",
            tiers,
            [(m.model, [m.by_tier.get(t) or _empty() for t in tiers]) for m in data.models],
        ),
        "failure-modes": svg.failure_bars(
            "How failed attempts ended", [m.model for m in data.models], [m.failures for m in data.models]
        ),
    }
    deltas = data.tuning.modes  # only models run in several modes, over the tasks run in each
    if deltas:
        modes = [mode.value for mode in ToolMode if any(mode.value in d.rates for d in deltas)]
        result["raw-vs-harness"] = svg.rate_bars(
            "Agent score by tool-calling mode, same tasks in every mode: raw (native) vs harness",
            modes,
            [(f"{d.model} · {d.suite}", [d.rates.get(mode) or _empty() for mode in modes]) for d in deltas],
        )
    for sweep in data.tuning.sweeps:
        groups = ["baseline"] + [f"{f.factor.caption} {p.label}" + (" ★" if p is f.winner else "")
                                 for f in sweep.factors for p in f.points if p.verdict.value != "baseline"]
        rates = [sweep.baseline.rate] + [p.rate for f in sweep.factors for p in f.points if p.verdict.value != "baseline"]
        groups += [c.settings.label for c, _ in sweep.combinations]
        rates += [c.rate for c, _ in sweep.combinations]
        result[f"sweep-{_slug(sweep.model)}"] = svg.rate_bars(
            f"Sweep of {sweep.model}: each factor against the baseline (★ interval clear of it)",
            groups,
            [(sweep.model, rates)],
        )
    if data.tuning.ceilings:
        cells = ceiling_cells(data.tuning)
        models = sorted({d.model for d in data.tuning.ceilings})
        result["budget-ceilings"] = svg.rate_bars(
            "Failing tasks by budget: does more help?",
            [label for label, _ in cells],
            [(m, [by_model.get(m) or _empty() for _, by_model in cells]) for m in models],
        )
    gap = [(m.model, m.code.value, m.agent.value) for m in data.models if m.code.scored and m.agent.scored]
    if gap:
        result["agent-vs-code"] = svg.gap_scatter("Agent score vs code score", [(n, c or 0.0, a or 0.0) for n, c, a in gap])
    return result


def ceiling_cells(tuning: TuningReport) -> list[tuple[str, dict[str, Rate]]]:
    """Pass counts over each model's swept tasks, per budget cell: ×1, turns ×k, tokens ×k."""
    sums: dict[str, dict[str, list[int]]] = {}
    for d in tuning.ceilings:
        points = [("×1", d.baseline)] + [(f"turns ×{k:g}", r) for k, r in d.turns if k != 1] + [
            (f"tokens ×{k:g}", r) for k, r in d.tokens if k != 1
        ]
        for label, rate in points:
            counts = sums.setdefault(label, {}).setdefault(d.model, [0, 0])
            counts[0] += rate.passed
            counts[1] += rate.scored
    return [(label, {m: Rate(p, n) for m, (p, n) in by_model.items()}) for label, by_model in sums.items()]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _empty() -> Any:
    from app.core.metrics import Rate

    return Rate(0, 0)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.0f}%"
    env.filters["num"] = lambda v, d=1: "—" if v is None else f"{v:.{d}f}"
    env.filters["when"] = lambda t: datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")
    return env


def to_html(data: ReportData) -> str:
    return _environment().get_template("report.html.j2").render(
        data=data, charts=charts(data), transcripts=[[event_to_dict(e) for e in f.transcript] for f in data.failures]
    )


def to_markdown(data: ReportData, chart_files: dict[str, str] | None = None) -> str:
    return _environment().get_template("report.md.j2").render(data=data, chart_files=chart_files or {})


def _write_markdown(data: ReportData, path: Path) -> list[Path]:
    folder = path.with_suffix("")
    folder = folder.parent / f"{folder.name}-charts"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    files: dict[str, str] = {}
    for name, document in charts(data).items():
        chart = folder / f"{name}.svg"
        chart.write_text(document, encoding="utf-8")
        files[name] = f"{folder.name}/{chart.name}"
        written.append(chart)
    path.write_text(to_markdown(data, files), encoding="utf-8")
    return [path, *written]
