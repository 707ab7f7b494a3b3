"""Plain-text rendering for the terminal: tables, live progress, transcripts."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, TextIO

from app.core.cloud_notice import is_cloud
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    Event,
    InfraError,
    RunStarted,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
)
from app.core.metrics import rate_of
from app.core.outcomes import Outcome
from app.core.plan import RunPlan
from app.core.providers.base import HostStatus


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _size(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def print_models(statuses: Sequence[HostStatus]) -> None:
    rows: list[list[str]] = []
    for status in statuses:
        if not status.reachable:
            print(f"! {status.error or f'{status.host} is not reachable'}")
            continue
        for m in status.models:
            caps = ",".join(sorted(m.capabilities)) or "—"
            rows.append(
                [
                    m.ref + ("  (simulated)" if m.simulated else "  (cloud)" if is_cloud(m.provider) else ""),
                    m.family or "—",
                    m.parameter_size or "—",
                    m.quantization or "—",
                    _size(m.size_bytes),
                    str(m.context_length or "—"),
                    caps,
                    "loaded" if m.loaded and not m.simulated else "",
                ]
            )
    if rows:
        print(table(["model", "family", "params", "quant", "size", "context", "capabilities", ""], rows))
    reachable = [s for s in statuses if s.reachable and s.provider.value != "sim" and not is_cloud(s.provider)]
    if not reachable:
        print("\nNo model server found. The simulated models above show how the app works;")
        print("install Ollama (https://ollama.com) and `ollama pull qwen2.5:3b` to test real ones.")


class ProgressPrinter:
    """Subscriber that prints one line per finished attempt with an ETA (stderr)."""

    def __init__(self, plan: RunPlan, stream: TextIO) -> None:
        self._stream = stream
        self._total = len(plan.attempts)
        self._pending = self._total
        self._done = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._labels = {a.attempt_id: (a.model.label, a.task_id, a.repeat) for a in plan.attempts}

    def on_event(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._pending = event.pending_attempts
            self._started = time.monotonic()
            self._write(f"running {event.pending_attempts} attempt(s) of {event.total_attempts}")
        elif isinstance(event, InfraError):
            self._write(f"  server problem, retrying: {event.message}")
        elif isinstance(event, AttemptFinished):
            with self._lock:
                self._done += 1
                done = self._done
            model, task, repeat = self._labels.get(event.attempt_id, ("?", "?", 0))
            elapsed = time.monotonic() - self._started
            eta = elapsed / done * (self._pending - done) if done else 0.0
            self._write(
                f"[{done}/{self._pending}] {model} {task} #{repeat + 1}: {event.outcome.value}"
                f" ({event.stats.turns} turns, {event.stats.wall_s:.1f}s) eta {eta:.0f}s"
            )

    def _write(self, line: str) -> None:
        with self._lock:
            print(line, file=self._stream, flush=True)


def print_run_table(summary: Any, attempts: Sequence[Any]) -> None:
    """Tasks as rows, models as columns, "k/N" cells, then totals and failure modes."""
    print(f"run {summary.id}  {summary.name}  [{summary.status}]")
    models = list(dict.fromkeys(a.model for a in attempts))
    tasks = list(dict.fromkeys(a.task_id for a in attempts))
    cells: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for a in attempts:
        if a.outcome is not None:
            cells[(a.task_id, a.model)].append(a.outcome)
    rows = []
    for task in tasks:
        row = [task]
        for model in models:
            rate = rate_of(cells[(task, model)])
            row.append(f"{rate.passed}/{rate.scored}" if rate.scored else "—")
        rows.append(row)
    totals = ["total"]
    for model in models:
        rate = rate_of(o for (t, m), outs in cells.items() if m == model for o in outs)
        totals.append(f"{rate.passed}/{rate.scored}")
    rows.append(totals)
    print(table(["task", *models], rows))
    print()
    for model in models:
        outcomes = [o for (t, m), outs in cells.items() if m == model for o in outs]
        rate = rate_of(outcomes)
        failures = Counter(o.value for o in outcomes if not o.is_pass)
        infra = failures.pop(Outcome.INFRA_ERROR.value, 0)
        harness = failures.pop(Outcome.HARNESS_ERROR.value, 0)
        modes = ", ".join(f"{k} {v}" for k, v in failures.most_common()) or "none"
        extra = f"; {infra} infra error(s) not counted" if infra else ""
        extra += f"; {harness} could not be judged (harness_error), not counted" if harness else ""
        print(f"{model}: {rate}\n  failures: {modes}{extra}")
    unfinished = sum(1 for a in attempts if a.outcome is None)
    if unfinished:
        print(f"\n{unfinished} attempt(s) not run yet (resume with: agentgap run --resume {summary.id})")


def print_transcript(events: Sequence[Event]) -> None:
    for event in events:
        if isinstance(event, AttemptStarted):
            print(f"== {event.model} on {event.task_id} (#{event.repeat + 1}, {event.tool_mode} mode)")
            for message in event.messages:
                print(f"[{message.role}] {message.content}")
        elif isinstance(event, AssistantTurn):
            if event.thinking:
                print(f"[thinking] {event.thinking}")
            print(f"[assistant, turn {event.turn}] {event.content}")
        elif isinstance(event, ToolCallParsed):
            badge = "native" if not event.call.source.recovered else f"recovered from {event.call.source.value}"
            print(f"  → {event.call.name}({event.call.arguments})  [{badge}]")
        elif isinstance(event, ToolCallRejected):
            print(f"  ✗ {event.failure.value}: {event.reason}\n    {event.raw}")
        elif isinstance(event, ToolResult):
            text = event.content if len(event.content) < 600 else event.content[:600] + " …"
            print(f"  ← {event.name}{' (error)' if event.is_error else ''}: {text}")
        elif isinstance(event, AttemptFinished):
            print(f"== {event.outcome.value}: {event.detail}")
            print(f"   {attempt_meters(event)}")


def attempt_meters(event: AttemptFinished) -> str:
    """One line of an attempt's measurements, the context in force among them."""
    s = event.stats
    facts = [f"{s.turns} turn(s)", f"{s.prompt_tokens:,} prompt + {s.completion_tokens:,} completion tokens"]
    if s.tokens_per_s:
        facts.append(f"{s.tokens_per_s:.0f} tok/s")
    facts.append(f"wall {s.wall_s:.1f} s (harness {s.harness_s:.2f} s)")
    facts.append(f"context {s.context_window:,} tokens" if s.context_window else "context not reported")
    return " · ".join(facts)
