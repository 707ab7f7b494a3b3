"""Write BFCL's cases as an AgentGap suite folder: one task file per case, one tier per
BFCL category, a reproducible sample if asked, and a count of what could not be written."""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.core.importers.bfcl import Converted, NotExpressible, convert
from app.core.importers.bfcl_data import CATEGORIES, MULTI_TURN, BfclData

SUITE_ID = "bfcl"

VERDICT_DIFFERENCES = """\
Where AgentGap's verdict differs from BFCL's own checker:
- The whole attempt is judged, not only the first reply: after a call the tool returns
  {"status": "ok"} and the model answers; any further call beyond the expected ones fails.
- Strings compare ignoring case and runs of whitespace; BFCL also ignores punctuation
  (, . / - _ * ^) and quote style, so AgentGap is stricter there.
- Integers and booleans are strictly typed (as in BFCL); numbers accept integers (as in BFCL).
- Arguments are validated against the function's JSON Schema before they count: a value
  outside an enum or of the wrong type is bad_arguments even where BFCL would compare values.
- Parallel calls must come in one reply, in any order (as in BFCL).
- Function names with dots are offered with underscores (as BFCL's function-calling handlers do).
- Irrelevance: a call of any kind, even malformed, fails; BFCL counts only decodable calls.
- Live relevance: only cases with a single offered function are imported (any call passes).
- Multi-turn: each turn's expected calls (in any order, extra calls allowed) are checked
  instead of BFCL's comparison of the APIs' final state and results."""


@dataclass(slots=True)
class CategoryCount:
    """How one BFCL category went: cases read, sampled, written, and not expressible."""

    read: int = 0
    written: int = 0
    skipped: list[NotExpressible] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    version: str
    folder: Path
    categories: dict[str, CategoryCount] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return sum(c.written for c in self.categories.values())


def method_note(version: str) -> str:
    return f"Imported from the Berkeley Function Calling Leaderboard data, bfcl-eval {version}.\n" + VERDICT_DIFFERENCES


def import_bfcl(
    data: BfclData,
    out_root: Path,
    *,
    categories: Sequence[str] = CATEGORIES,
    sample: int | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Write the suite folder ``out_root/bfcl`` (replacing an earlier import)."""
    started = time.perf_counter()
    folder = out_root / SUITE_ID
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    report = ImportReport(data.version, folder)
    written_tiers: list[str] = []
    for category in categories:
        count = report.categories.setdefault(category, CategoryCount())
        cases = list(data.cases(category))
        count.read = len(cases)
        chosen = _sample(cases, sample, f"{seed}:{category}")
        if category in MULTI_TURN:
            from app.core.importers.bfcl_multi_turn import convert_multi_turn

            results: list[Converted | NotExpressible] = [
                convert_multi_turn(data, category, case, answer)
                for case, answer in _with_answers(data, category, chosen)
            ]
        else:
            results = [convert(category, case, answer) for case, answer in _with_answers(data, category, chosen)]
        for result in results:
            if isinstance(result, NotExpressible):
                count.skipped.append(result)
                continue
            _write_task(folder, result, data.version)
            count.written += 1
        if count.written:
            written_tiers.append(category)
        if progress is not None:
            progress(f"{category}: {count.written} of {len(chosen)} case(s) written")
    (folder / "suite.yaml").write_text(
        _dump(
            {
                "id": SUITE_ID,
                "title": f"BFCL {data.version}",
                "description": method_note(data.version),
                "tiers": written_tiers or ["simple_python"],
            }
        ),
        encoding="utf-8",
    )
    report.seconds = time.perf_counter() - started
    return report


def _sample(cases: list[dict[str, Any]], size: int | None, seed: str) -> list[dict[str, Any]]:
    """``size`` cases picked the same way on every machine for the same seed, in data order."""
    if size is None or size >= len(cases):
        return cases
    picked = sorted(random.Random(seed).sample(range(len(cases)), size))
    return [cases[i] for i in picked]


def _with_answers(
    data: BfclData, category: str, cases: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], Any]]:
    answers = data.answers(category)
    return [(case, answers.get(str(case.get("id")))) for case in cases]


def _write_task(folder: Path, converted: Converted, version: str) -> None:
    task = dict(converted.task)
    task["title"] = f"BFCL {version} · {converted.case_id}"
    files = task.pop("_files", None)
    if files:
        own = folder / task["id"]
        own.mkdir()
        for name, text in files.items():
            (own / name).write_text(text, encoding="utf-8")
        (own / "task.yaml").write_text(_dump(task), encoding="utf-8")
    else:
        (folder / f"{task['id']}.yaml").write_text(_dump(task), encoding="utf-8")


_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present


class _NoAliases(_BASE_DUMPER):  # type: ignore[misc]
    """Task files may not hold aliases, so repeated values are written out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)


def counts_table(report: ImportReport) -> list[list[str]]:
    """Rows for the command line: category, read, written, not expressible (top reason)."""
    rows = []
    for category, count in report.categories.items():
        reasons = Counter(s.reason for s in count.skipped)
        top = f" ({reasons.most_common(1)[0][0]})" if reasons else ""
        rows.append([category, str(count.read), str(count.written), f"{len(count.skipped)}{top}"])
    return rows
