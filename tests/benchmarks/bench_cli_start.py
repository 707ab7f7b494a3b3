"""How fast does the command line answer?

Times ``agentgap --help``, ``--version``, an argument error and ``models`` with no model
server (the default port refused), each beside a bare ``python -c pass`` measured in the
same run, and lists the heavy modules each path imports. Targets: help, version and
argument errors within 5x the bare interpreter and importing none of the engine, Qt,
SQLAlchemy or pydantic; ``models`` with no server under 0.6 s.

    .venv/bin/python tests/benchmarks/bench_cli_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launch import app_env, refused_port  # a sibling module: benchmarks run as scripts

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("app.core.engine", "app.core.store", "PySide6", "sqlalchemy", "pydantic", "alembic", "jsonschema", "httpx")
_PROBE = (
    "import runpy, sys, atexit\n"
    "heavy = {heavy!r}\n"
    "def report():\n"
    "    found = sorted({{h for h in heavy for m in sys.modules if m == h or m.startswith(h + '.')}})\n"
    "    sys.__stderr__.write('HEAVY=' + ','.join(found) + '\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = ['agentgap', *sys.argv[1:]]\n"
    "runpy.run_module('app', run_name='__main__')\n"
)


def timed(argv: list[str], env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    probe = _PROBE.format(heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True, check=False)
    lines = [line for line in result.stderr.splitlines() if line.startswith("HEAVY=")]
    return (lines[-1][6:] if lines else "?") or "none"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as tmp:
        env = app_env(Path(tmp), refused_port())
        bare = timed([sys.executable, "-c", "pass"], env, repeats)
        print(f"baseline: python -c pass {1000 * bare:7.1f} ms (median of {repeats})")
        cases = (("--help", ["--help"]), ("--version", ["--version"]), ("argument error", ["--no-such-option"]),
                 ("unknown command", ["frobnicate"]), ("models, no server", ["models", "--no-sim"]))
        for label, args in cases:
            took = timed([sys.executable, "-m", "app", *args], env, repeats)
            limit = "" if label.startswith("models") else f"  {took / bare:4.1f}x bare (target <= 5x)"
            target = "  (target < 600 ms)" if label.startswith("models") else ""
            print(f"agentgap {label:20s} {1000 * took:7.1f} ms{limit}{target}  heavy imports: {heavy_imports(args, env)}")


if __name__ == "__main__":
    main()
