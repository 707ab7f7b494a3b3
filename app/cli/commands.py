"""One function per sub-command. Results on stdout (tables or --json), progress on stderr."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli.output import ProgressPrinter, print_models, print_run_table, print_transcript, table
from app.core.cancel import CancelToken
from app.core.chat import GenerationSettings
from app.core.cloud_notice import cloud_attempts, cloud_notice, is_cloud
from app.core.config import AppSettings, HostConfig, load_settings, save_settings
from app.core.discovery import discover_all
from app.core.engine import Engine
from app.core.events import event_to_dict
from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings
from app.core.run_owner import interrupt_orphaned_runs
from app.core.runner import host_key
from app.core.tasks.loader import TaskLoadError, load_catalog
from app.core.unjudged import unjudged


class UserError(Exception):
    """Something the user can fix; printed as one line, exit status 2."""


def _settings(args: argparse.Namespace) -> AppSettings:
    settings = load_settings()
    extra = [HostConfig(kind="ollama", url=u) for u in getattr(args, "host", [])]
    extra += [HostConfig(kind="openai", url=u) for u in getattr(args, "openai", [])]
    if extra:
        settings = settings.model_copy(update={"hosts": settings.hosts + extra})
    return settings


def _engine(args: argparse.Namespace, *, pace: float | None = None) -> Engine:
    try:
        return Engine(
            db_path=args.db, settings=_settings(args), task_dirs=args.tasks_dir, simulated_pace=pace
        )
    except Exception as error:
        raise UserError(f"cannot open the database: {error}") from error


def _dump(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


# ---- models -------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        statuses = engine.discover(include_simulated=not args.no_sim)
    if args.json:
        _dump(
            [
                {
                    **{k: v for k, v in asdict(s).items() if k != "models"},
                    "models": [
                        {**asdict(m), "capabilities": sorted(m.capabilities), "ref": m.ref}
                        for m in s.models
                    ],
                }
                for s in statuses
            ]
        )
    else:
        print_models(statuses)
    return 0


# ---- tasks --------------------------------------------------------------------------


def cmd_tasks(args: argparse.Namespace) -> int:
    if args.tasks_command == "validate":
        return _validate(args.paths)
    if args.tasks_command == "schema":
        from app.core.tasks.json_schema import task_file_schema_text

        sys.stdout.write(task_file_schema_text())
        return 0
    with _engine(args) as engine:
        catalog = engine.catalog
        for error in catalog.errors:
            print(f"warning: {error}", file=sys.stderr)
        if args.suite and args.suite not in catalog.suites:
            raise UserError(f"no suite {args.suite!r}; suites: {', '.join(catalog.suites)}")
        tasks = catalog.tasks(args.suite, args.tier)
    if args.json:
        _dump(
            [
                {"id": t.id, "suite": t.suite, "tier": t.tier, "title": t.spec.title,
                 "dimension": t.spec.dimension, "hash": t.content_hash, "path": str(t.path)}
                for t in tasks
            ]
        )
        return 0
    rows = [[t.suite, t.tier, t.id, t.spec.title] for t in tasks]
    print(table(["suite", "tier", "task", "title"], rows))
    print(f"\n{len(tasks)} task(s) in {len({t.suite for t in tasks})} suite(s)")
    return 0


def _validate(paths: list[Path]) -> int:
    from app.core.tasks.json_schema import REFERENCE_FILE, SCHEMA_FILE
    from app.core.tasks.loader import SUITE_FILE, load_suite_spec, load_task

    problems: list[TaskLoadError] = []
    count = 0
    for path in paths:
        if path.is_dir():
            catalog = load_catalog([path])
            problems += catalog.errors
            count += len(catalog.tasks())
            if not catalog.suites and not catalog.errors:
                problems.append(TaskLoadError(path, [f"no {SUITE_FILE} here or in its sub-folders"]))
        else:
            suite_file = next((p / SUITE_FILE for p in path.resolve().parents if (p / SUITE_FILE).is_file()), None)
            if suite_file is None:
                problems.append(TaskLoadError(path, [f"not inside a suite folder (no {SUITE_FILE} above it)"]))
                continue
            try:
                load_task(path, load_suite_spec(suite_file.parent), suite_file.parent)
                count += 1
            except TaskLoadError as error:
                problems.append(error)
            except Exception as error:  # an unreadable file is a problem to report, not a crash
                problems.append(TaskLoadError(path, [f"could not be loaded: {type(error).__name__}: {error}"]))
    for error in problems:
        print(f"{error.path}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
    print(f"{count} task(s) valid, {len(problems)} file(s) with problems")
    if problems:
        print(
            f"The task format is described in {REFERENCE_FILE}; editors can check files against "
            f"the JSON Schema in {SCHEMA_FILE} (or the output of `agentgap tasks schema`).",
            file=sys.stderr,
        )
    return 1 if problems else 0


# ---- run ----------------------------------------------------------------------------


def _attempt_settings(args: argparse.Namespace, defaults: AppSettings) -> AttemptSettings:
    return AttemptSettings(
        tool_mode=ToolMode(args.mode) if args.mode else defaults.tool_mode,
        generation=GenerationSettings(
            temperature=args.temperature if args.temperature is not None else defaults.temperature,
            num_ctx=args.num_ctx,
            seed=args.seed,
            think=args.think if args.think is not None else defaults.think,
        ),
        max_turns=args.max_turns or defaults.budgets.max_turns,
        max_tokens=args.max_tokens or defaults.budgets.max_tokens,
        max_seconds=args.max_seconds or defaults.budgets.max_seconds,
        directive=args.directive,
    )


@contextmanager
def _cancel_on_interrupt(cancel: CancelToken) -> Iterator[None]:
    """First Ctrl-C cancels cleanly (finished attempts are kept); a second one exits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("\ncancelling… (Ctrl-C again to quit at once)", file=sys.stderr)
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_run(args: argparse.Namespace) -> int:
    pace = args.pace if args.pace is not None else 0.0
    with _engine(args, pace=pace) as engine:
        if args.resume:
            interrupt_orphaned_runs(engine.repository)
            plan = _resumable_plan(engine, args.resume)
            require_cloud_notice(engine, [m.provider for m in plan.models], None, args.accept_cloud)
            resume = True
        else:
            plan = _new_plan(engine, args)
            resume = False
        options = engine.runner_options()
        if args.concurrency:
            options = options.with_concurrency(args.concurrency)
        if args.co_resident:
            options = options.with_co_resident(host_key(m.provider, m.host) for m in plan.models)
        cancel = CancelToken()
        progress = ProgressPrinter(plan, stream=sys.stderr)
        unsubscribe = engine.bus.subscribe(progress.on_event)
        try:
            with _cancel_on_interrupt(cancel):
                finished = engine.execute(plan, cancel, options=options, resume=resume)
        except LookupError as error:
            raise UserError(str(error)) from error
        finally:
            unsubscribe()
        return _report_run(engine, plan.run_id, args.json, cancelled=finished.cancelled)


def _new_plan(engine: Engine, args: argparse.Namespace) -> Any:
    if not args.model:
        raise UserError("name at least one model with --model (see `agentgap models`)")
    try:
        models = [engine.parse_model(m) for m in args.model]
    except ValueError as error:
        raise UserError(str(error)) from error
    tasks = selected_tasks(engine, args)
    repeats = args.repeats or engine.settings.repeats
    if repeats < 1:
        raise UserError("-n must be at least 1")
    kinds = [m.provider for m in models]
    require_cloud_notice(engine, kinds, cloud_attempts(kinds, len(tasks) * repeats), args.accept_cloud)
    digests = _digests(engine, models)
    settings = _attempt_settings(args, engine.settings)
    return engine.plan(models, tasks, repeats=repeats, settings=[settings], name=args.name, digests=digests)


def selected_tasks(engine: Engine, args: argparse.Namespace) -> list[Any]:
    """The tasks named by --suite, --tier and --task; none is a clear error."""
    for error in engine.catalog.errors:
        print(f"warning: {error}", file=sys.stderr)
    try:
        tasks = engine.catalog.select(args.suite, args.tier, args.task)
    except KeyError as error:
        raise UserError(str(error.args[0])) from error
    if not tasks:
        raise UserError("no tasks match; see `agentgap tasks list`")
    return list(tasks)


def require_cloud_notice(engine: Engine, kinds: list[Any], attempts: int | None, accept: bool) -> None:
    """A plan with a cloud model runs only once the notice was accepted (``--accept-cloud``,
    remembered in the settings file)."""
    if not any(is_cloud(kind) for kind in kinds):
        return
    if accept and not engine.settings.cloud_notice_accepted:
        stored = load_settings()  # not engine.settings: --host/--openai hosts are for this run only
        save_settings(stored.model_copy(update={"cloud_notice_accepted": True}))
        engine.settings = engine.settings.model_copy(update={"cloud_notice_accepted": True})
    if engine.settings.cloud_notice_accepted:
        if attempts:
            print(f"note: {attempts} attempt(s) go to cloud models, billed per token", file=sys.stderr)
        return
    print(cloud_notice(kinds, attempts), file=sys.stderr)
    raise UserError(
        "this run sends data to a cloud provider and costs money; read the notice above, then "
        "run the same command with --accept-cloud to agree (asked only once)"
    )


def _digests(engine: Engine, models: list[Any]) -> dict[Any, str | None]:
    """Model digests from discovery, so results of a re-pulled model are never mixed."""
    digests: dict[Any, str | None] = {}
    hosts = {(m.provider, m.host) for m in models}
    # cloud models have no digest, and a run without them must not contact a cloud provider
    statuses = discover_all(
        engine.settings, engine.providers, include_simulated=any(m.simulated for m in models), include_cloud=False
    )
    for status in statuses:
        if (status.provider, status.host) not in hosts:
            continue
        for info in status.models:
            for model in models:
                if model.provider == info.provider and model.host == info.host and model.name == info.name:
                    digests[model] = info.digest
    return digests


def _resumable_plan(engine: Engine, run_id: str) -> Any:
    try:
        plan = engine.repository.load_plan(run_id)
    except KeyError:
        raise UserError(f"no run {run_id!r}; see `agentgap runs`") from None
    left = engine.repository.unfinished_attempts(run_id)
    if not left:
        raise UserError(f"run {run_id} has no unfinished attempts")
    print(f"resuming run {run_id}: {len(left)} of {len(plan.attempts)} attempts left", file=sys.stderr)
    return plan


def _report_run(engine: Engine, run_id: str, as_json: bool, *, cancelled: bool = False) -> int:
    repo = engine.repository
    if as_json:
        summary = repo.run_summary(run_id)
        _dump(
            {
                "run": asdict(summary),
                "attempts": [asdict(a) for a in repo.attempts(run_id)],
            }
        )
    else:
        print_run_table(repo.run_summary(run_id), repo.attempts(run_id))
    broken = unjudged(repo.attempts(run_id))
    if broken is not None:
        print(
            f"warning: {broken.headline} (AgentGap's fault, not the model's; not counted; "
            "see `agentgap doctor`)",
            file=sys.stderr,
        )
    if cancelled:
        print(
            f"\ncancelled: finished attempts are kept. Resume with: agentgap run --resume {run_id}",
            file=sys.stderr,
        )
        return 130
    return 1 if broken is not None else 0


# ---- history ------------------------------------------------------------------------


def cmd_runs(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        interrupt_orphaned_runs(engine.repository)
        runs = engine.repository.list_runs(limit=args.limit)
    if args.json:
        _dump([asdict(r) for r in runs])
        return 0
    if not runs:
        print("no runs yet: try `agentgap run -m sim:competent -m sim:text-caller -s readiness`")
        return 0
    rows = [
        [
            r.id,
            _when(r.created_at),
            r.status,
            r.name,
            f"{r.attempts_done}/{r.attempts_total}",
            "—" if r.pass_rate is None else f"{100 * r.pass_rate:.0f}%",
        ]
        for r in runs
    ]
    print(table(["run", "when", "status", "name", "done", "pass"], rows))
    return 0


def _when(timestamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def cmd_show(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        interrupt_orphaned_runs(engine.repository)
        try:
            engine.repository.run_summary(args.run)
        except KeyError:
            raise UserError(f"no run {args.run!r}; see `agentgap runs`") from None
        return _report_run(engine, args.run, args.json)


def cmd_transcript(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        events = engine.repository.transcript(args.attempt)
    if not events:
        raise UserError(f"no transcript for attempt {args.attempt!r}")
    if args.json:
        _dump([event_to_dict(e) for e in events])
    else:
        print_transcript(events)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from app.core.reports.data import build_report
    from app.core.reports.export import write_report

    with _engine(args) as engine:
        interrupt_orphaned_runs(engine.repository)
        for run_id in args.runs:
            try:
                engine.repository.run_summary(run_id)
            except KeyError:
                raise UserError(f"no run {run_id!r}; see `agentgap runs`") from None
        data = build_report(engine.repository, args.runs, with_attempts=args.format in ("csv", "json"))
    written = write_report(data, args.format, args.output)
    for path in written:
        print(path)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        try:
            engine.repository.delete_run(args.run)
        except KeyError:
            raise UserError(f"no run {args.run!r}") from None
    print(f"deleted run {args.run}")
    return 0
