"""Tuning from the command line: OFAT sweeps, budget-ceiling runs, and reading them back."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.output import ProgressPrinter, table
from app.core.cancel import CancelToken
from app.core.cloud_notice import cloud_attempts
from app.core.engine import Engine
from app.core.plan import RunPlan
from app.core.reports.data import build_report
from app.core.reports.tuning import TuningReport
from app.core.tuning.ceilings import DEFAULT_SCALES
from app.core.tuning.factors import Factor
from app.core.tuning.sweep import MIN_REPEATS, SweepError, SweepSpec, parse_factor_option

COMMANDS = ("sweep", "ceiling", "tune")


def add_tuning_commands(sub: Any) -> None:
    from app.cli import add_accept_cloud_option, add_settings_options

    factors = ", ".join(f"{f.value} ({f.hint})" for f in Factor)
    sweep = sub.add_parser(
        "sweep",
        help="vary one factor at a time against a baseline, N ≥ 3 per cell",
        description=f"Factors: {factors}.",
    )
    sweep.add_argument("--model", "-m", required=True, help="the model to tune")
    sweep.add_argument("--suite", "-s", action="append", default=[])
    sweep.add_argument("--tier", "-t", action="append", default=[])
    sweep.add_argument("--task", action="append", default=[], help="task id (repeatable)")
    sweep.add_argument(
        "--vary", action="append", default=[], metavar="FACTOR=V1,V2", help="a factor and the values to try"
    )
    sweep.add_argument("-n", "--repeats", type=int, default=MIN_REPEATS, help=f"runs per cell (at least {MIN_REPEATS})")
    sweep.add_argument("--name", default="")
    sweep.add_argument("--dry-run", action="store_true", help="print the cells and the attempt count, run nothing")
    sweep.add_argument("--pace", type=float, help="simulated models' speed: 1 realistic, 0 instant")
    sweep.add_argument("--json", action="store_true")
    add_accept_cloud_option(sweep)
    add_settings_options(sweep)

    ceiling = sub.add_parser(
        "ceiling", help="sweep turn and token budgets on what failed in RUN: turn, token or capability ceiling"
    )
    ceiling.add_argument("runs", nargs="+", metavar="RUN")
    ceiling.add_argument("--scales", default=",".join(f"{s:g}" for s in DEFAULT_SCALES), help="budget multiples")
    ceiling.add_argument("-n", "--repeats", type=int, default=MIN_REPEATS)
    ceiling.add_argument("--model", "-m", action="append", default=[], help="only this model (label)")
    ceiling.add_argument("--pace", type=float)
    ceiling.add_argument("--json", action="store_true")

    tune = sub.add_parser("tune", help="read sweeps, ceilings and raw-vs-harness deltas back from runs")
    tune.add_argument("runs", nargs="+", metavar="RUN")
    tune.add_argument(
        "--queue-winners", action="store_true", help="then run the all-winners combination of each sweep"
    )
    tune.add_argument("--pace", type=float)
    tune.add_argument("--json", action="store_true")


def cmd_sweep(args: argparse.Namespace) -> int:
    from app.cli.commands import (
        UserError,
        _attempt_settings,
        _digests,
        _engine,
        require_cloud_notice,
        selected_tasks,
    )

    try:
        factors = dict(parse_factor_option(v) for v in args.vary)
    except SweepError as error:
        raise UserError(str(error)) from None
    if not factors:
        raise UserError("name at least one factor with --vary FACTOR=V1,V2 (see `agentgap sweep --help`)")
    with _engine(args, pace=_pace(args)) as engine:
        model = _model(engine, args.model)
        tasks = selected_tasks(engine, args)
        spec = SweepSpec(_attempt_settings(args, engine.settings), factors, args.repeats)
        try:
            cells = spec.cells()
        except SweepError as error:
            raise UserError(str(error)) from None
        print(
            f"{len(cells)} cells × {len(tasks)} tasks × {args.repeats} = "
            f"{len(cells) * len(tasks) * args.repeats} attempts: " + ", ".join(c.label for c in cells),
            file=sys.stderr,
        )
        if args.dry_run:
            return 0
        attempts = len(cells) * len(tasks) * args.repeats
        require_cloud_notice(engine, [model.provider], cloud_attempts([model.provider], attempts), args.accept_cloud)
        plan = engine.plan_sweep(model, tasks, spec, name=args.name, digests=_digests(engine, [model]))
        return _execute_and_show(engine, [plan], args.json)


def cmd_ceiling(args: argparse.Namespace) -> int:
    from app.cli.commands import UserError, _engine

    try:
        scales = [float(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--scales: {args.scales!r} is not a list of numbers such as 1,2,4") from None
    if args.repeats < MIN_REPEATS:
        raise UserError(f"-n {args.repeats}: a ceiling sweep needs at least {MIN_REPEATS} runs per cell")
    with _engine(args, pace=_pace(args)) as engine:
        try:
            plan = engine.plan_ceiling(args.runs, scales=scales, repeats=args.repeats, models=args.model)
        except (SweepError, LookupError, KeyError) as error:
            raise UserError(str(error).strip("'\"")) from None
        return _execute_and_show(engine, [plan], args.json)


def cmd_tune(args: argparse.Namespace) -> int:
    from app.cli.commands import UserError, _engine

    with _engine(args, pace=_pace(args)) as engine:
        try:
            engine.repository.run_summaries(args.runs)
        except KeyError as error:
            raise UserError(f"no run {error.args[0]}; see `agentgap runs`") from None
        tuning = build_report(engine.repository, args.runs, failure_examples=0, with_attempts=False).tuning
        if not args.queue_winners:
            _show(tuning, args.json)
            return 0
        plans = []
        for sweep in tuning.sweeps:
            combined = sweep.all_winners_settings()
            if combined is None:
                print(f"{sweep.model}: no combination to queue (fewer than two winners, or it already ran)", file=sys.stderr)
                continue
            plans.append(engine.plan_follow_up(args.runs, sweep.model, [combined], name=f"all winners · {sweep.model}"))
        if not plans:
            _show(tuning, args.json)
            return 0
        return _execute_and_show(engine, plans, args.json, together_with=args.runs)


def _pace(args: argparse.Namespace) -> float:
    return float(args.pace) if args.pace is not None else 0.0


def _model(engine: Engine, text: str) -> Any:
    from app.cli.commands import UserError

    try:
        return engine.parse_model(text)
    except ValueError as error:
        raise UserError(str(error)) from error


def _execute_and_show(
    engine: Engine, plans: list[RunPlan], as_json: bool, *, together_with: list[str] | None = None
) -> int:
    from app.cli.commands import _cancel_on_interrupt

    cancel = CancelToken()
    for plan in plans:
        progress = ProgressPrinter(plan, stream=sys.stderr)
        unsubscribe = engine.bus.subscribe(progress.on_event)
        try:
            with _cancel_on_interrupt(cancel):
                finished = engine.execute(plan, cancel)
        finally:
            unsubscribe()
        print(f"run {plan.run_id}: {plan.name}", file=sys.stderr)
        if finished.cancelled:
            print(f"cancelled: resume with agentgap run --resume {plan.run_id}", file=sys.stderr)
            return 130
    run_ids = [*(together_with or []), *(p.run_id for p in plans)]
    _show(build_report(engine.repository, run_ids, failure_examples=0, with_attempts=False).tuning, as_json)
    return 0


def _show(tuning: TuningReport, as_json: bool) -> None:
    if as_json:
        from app.core.reports.export import tuning_to_dict

        json.dump(tuning_to_dict(tuning), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if tuning.empty:
        print("no sweeps, ceiling runs or tool-mode comparisons in these runs")
        return
    for sweep in tuning.sweeps:
        print(f"sweep · {sweep.model} · baseline {_rate(sweep.baseline.rate)}")
        rows = [
            [f.factor.caption, p.label, _rate(p.rate), p.verdict.value, "winner" if p is f.winner else ""]
            for f in sweep.factors
            for p in f.points
        ]
        rows += [["combination", c.settings.label, _rate(c.rate), v.value, ""] for c, v in sweep.combinations]
        print(table(["factor", "value", "pass", "vs baseline (95% CI)", ""], rows))
        combined = sweep.all_winners_settings()
        if combined is not None:
            print("all winners not run yet: agentgap tune RUN --queue-winners")
        print()
    if tuning.ceilings:
        print("budget ceilings")
        rows = [[d.model, d.task_id, d.ceiling.value, d.evidence, d.advice] for d in tuning.ceilings]
        print(table(["model", "task", "diagnosis", "passes by budget", "advice"], rows))
        print()
    if tuning.modes:
        print("raw (native) vs harness (recovery), per suite")
        modes = sorted({m for d in tuning.modes for m in d.rates}, key=["native", "recovery", "prompted"].index)
        rows = [
            [d.model, d.suite, *(_rate(d.rates[m]) if m in d.rates else "—" for m in modes), _delta(d.delta)]
            for d in tuning.modes
        ]
        print(table(["model", "suite", *modes, "harness − raw"], rows))


def _rate(rate: Any) -> str:
    if not rate.scored:
        return "—"
    low, high = rate.interval
    return f"{rate.passed}/{rate.scored} {100 * rate.value:.0f}% [{100 * low:.0f}–{100 * high:.0f}]"


def _delta(delta: float | None) -> str:
    return "—" if delta is None else f"{100 * delta:+.0f} pts"
