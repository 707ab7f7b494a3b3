"""Build the standalone app with PyInstaller, print its size, and smoke-test it.

    .venv/bin/pip install -e '.[package]'
    .venv/bin/python packaging/build.py            # build into dist/, then run --smoke
    .venv/bin/python packaging/build.py --no-smoke
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "agentgap.spec"


def bundle_executable(dist: Path) -> Path:
    """The frozen executable inside the build output for this platform."""
    if sys.platform == "darwin":
        return dist / "AgentGap.app" / "Contents" / "MacOS" / "AgentGap"
    name = "AgentGap.exe" if sys.platform == "win32" else "AgentGap"
    return dist / "AgentGap" / name


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(dist: Path, work: Path) -> Path:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        cwd=ROOT,
        check=True,
    )
    exe = bundle_executable(dist)
    if not exe.exists():
        raise SystemExit(f"build finished but {exe} is missing")
    bundle = dist / ("AgentGap.app" if sys.platform == "darwin" else "AgentGap")
    print(
        f"built {bundle} in {time.perf_counter() - started:.0f}s: "
        f"{folder_size(bundle) / 1e6:.0f} MB"
    )
    return exe


def smoke(exe: Path) -> int:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([str(exe), "--smoke"], env=env, capture_output=True, text=True, timeout=300)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build")
    parser.add_argument("--no-smoke", action="store_true")
    args = parser.parse_args()
    exe = build(args.dist, args.work)
    return 0 if args.no_smoke else smoke(exe)


if __name__ == "__main__":
    raise SystemExit(main())
