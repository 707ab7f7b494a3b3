"""``agentgap import bfcl``: turn a published benchmark into a user suite.

Registering the command imports nothing heavy; the converter loads when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = frozenset({"import"})


def add_import_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("import", help="import a published benchmark as a suite")
    sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
    bfcl = sources.add_parser(
        "bfcl",
        help="the Berkeley Function Calling Leaderboard (from `pip install --no-deps bfcl-eval`)",
        description=(
            "Convert BFCL's published cases into the suite 'bfcl' in the user tasks folder, "
            "one tier per BFCL category. The data is read from the installed bfcl-eval package "
            "(pip install --no-deps bfcl-eval) or from --data FOLDER."
        ),
    )
    bfcl.add_argument("--data", type=Path, help="a folder holding BFCL_v*_<category>.json files")
    bfcl.add_argument("--out", type=Path, help="tasks folder to write into (default: the user tasks folder)")
    bfcl.add_argument("--category", action="append", dest="categories", metavar="NAME",
                      help="a BFCL category to import (repeatable; default: all supported)")
    bfcl.add_argument("--sample", type=int, metavar="N", help="N cases per category, picked reproducibly")
    bfcl.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    bfcl.add_argument("--json", action="store_true")


def cmd_import(args: argparse.Namespace) -> int:
    from app.cli.commands import UserError
    from app.cli.output import table
    from app.core.importers.bfcl_data import CATEGORIES, BfclDataError, locate
    from app.core.importers.bfcl_suite import counts_table, import_bfcl
    from app.core.paths import user_tasks_dir
    from app.core.tasks.loader import load_catalog

    categories = args.categories or list(CATEGORIES)
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise UserError(f"unknown BFCL categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                        f"supported: {', '.join(CATEGORIES)}")
    if args.sample is not None and args.sample < 1:
        raise UserError("--sample needs a number of cases of at least 1")
    try:
        data = locate(args.data)
    except BfclDataError as error:
        raise UserError(str(error)) from None
    out = args.out or user_tasks_dir()
    report = import_bfcl(
        data, out, categories=categories, sample=args.sample, seed=args.seed,
        progress=lambda line: print(line, file=sys.stderr),
    )
    catalog = load_catalog([report.folder])
    valid = {category: 0 for category in categories}
    for task in catalog.tasks():
        valid[task.tier] = valid.get(task.tier, 0) + 1
    if args.json:
        import json

        json.dump({
            "version": report.version, "folder": str(report.folder), "seconds": report.seconds,
            "categories": {
                name: {"read": c.read, "written": c.written, "valid": valid.get(name, 0),
                       "not_expressible": [{"id": s.case_id, "reason": s.reason} for s in c.skipped]}
                for name, c in report.categories.items()
            },
            "errors": [str(e) for e in catalog.errors],
        }, sys.stdout, indent=2)
        print()
    else:
        rows = [[*row[:3], str(valid.get(row[0], 0)), row[3]] for row in counts_table(report)]
        print(table(["category", "cases", "written", "valid", "not expressible"], rows))
        print(f"\nBFCL {report.version}: {len(catalog.tasks())} task(s) in {report.folder} "
              f"({report.seconds:.1f} s)")
        for error in catalog.errors[:20]:
            print(f"warning: {error}", file=sys.stderr)
    return 1 if catalog.errors else 0
