"""How long does `agentgap import bfcl` take, and how many cases does each category give?

Converts every category of the installed bfcl-eval data (pip install --no-deps bfcl-eval)
into a temporary folder, loads the suite as `tasks list` would, and prints the import and
load times and the cases per category (read, written, valid, not expressible).

    .venv/bin/python tests/benchmarks/bench_bfcl_import.py [--sample N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.importers.bfcl_data import BfclDataError, locate  # noqa: E402
from app.core.importers.bfcl_suite import import_bfcl  # noqa: E402
from app.core.tasks.loader import load_catalog  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int)
    args = parser.parse_args()
    try:
        data = locate()
    except BfclDataError as error:
        print(f"skipped: {error}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        report = import_bfcl(data, Path(scratch), sample=args.sample)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        catalog = load_catalog([report.folder])
        loaded = time.perf_counter() - started
    valid: dict[str, int] = {}
    for task in catalog.tasks():
        valid[task.tier] = valid.get(task.tier, 0) + 1
    print(f"bfcl-eval {report.version}")
    print(f"{'category':24} {'cases':>6} {'written':>8} {'valid':>6} {'not expressible':>16}")
    for name, count in report.categories.items():
        print(f"{name:24} {count.read:6} {count.written:8} {valid.get(name, 0):6} {len(count.skipped):16}")
    total = len(catalog.tasks())
    print(f"import: {imported:.1f} s for {report.written} task files "
          f"({1000 * imported / max(1, report.written):.1f} ms each)")
    print(f"load:   {loaded:.1f} s for {total} tasks ({1000 * loaded / max(1, total):.1f} ms each), "
          f"{len(catalog.errors)} error(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
