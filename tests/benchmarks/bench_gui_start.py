"""How soon is the window on screen?

Starts, in fresh processes and taking turns, a bare PySide6 window of the main window's
size (the baseline) and the app (``python -m app``), each under the same probe, and
times from process start to the window's first paint; for the app also until its pages
are ready (engine, store and pages loaded after that paint). The app runs once on a
data folder it has already used and once on a fresh one (first launch: the database is
created). Prints the medians and the ratio to the bare window. Target: the app painted
within 2x the bare window (under 1 s on an idle 2-core machine).

    .venv/bin/python tests/benchmarks/bench_gui_start.py [--repeats 7]

Runs under ``QT_QPA_PLATFORM=offscreen`` unless the environment sets another platform
(e.g. ``xvfb-run -a .venv/bin/python tests/benchmarks/bench_gui_start.py`` with
``QT_QPA_PLATFORM=xcb``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launch import app_env, refused_port  # a sibling module: benchmarks run as scripts

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1180, 760  # the main window's default size
TIMEOUT_S = 60.0

# The same probe wraps both: it creates the QApplication, watches for the first paint of a
# main window and prints PAINTED once that paint pass is over; for the app it then prints
# READY once the window says its pages are loaded.
_PROBE = """
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

mode = sys.argv[1]
qt_app = QApplication([sys.argv[0]])


def say(word):
    sys.stdout.write(word + "\\n")
    sys.stdout.flush()


def main_windows():
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]


def poll_ready():
    # a window without ``pages_ready`` built everything before it was shown
    if any(getattr(w, "pages_ready", True) for w in main_windows()):
        say("READY")
        os._exit(0)
    QTimer.singleShot(5, poll_ready)


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.isWidgetType() and isinstance(watched.window(), QMainWindow):
            qt_app.removeEventFilter(self)
            QTimer.singleShot(0, self.painted)  # after the whole paint pass
        return False

    def painted(self):
        say("PAINTED")
        if mode == "bare":
            os._exit(0)
        poll_ready()


first_paint = FirstPaint()
qt_app.installEventFilter(first_paint)
if mode == "bare":
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize({width}, {height})
    window.show()
    sys.exit(qt_app.exec())
from app.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


def start(mode: str, env: dict[str, str], args: list[str]) -> tuple[float, float | None]:
    """Seconds from process start to the first paint and (app only) to pages ready."""
    probe = _PROBE.format(width=WIDTH, height=HEIGHT)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", probe, mode, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    painted = ready = None
    try:
        assert process.stdout is not None
        for line in process.stdout:
            word = line.strip()
            if word == "PAINTED":
                painted = time.perf_counter() - began
            elif word == "READY":
                ready = time.perf_counter() - began
                break
            if time.perf_counter() - began > TIMEOUT_S:
                break
    finally:
        process.kill()
        process.wait()
    if painted is None:
        raise RuntimeError(f"{mode}: the window was never painted")
    return painted, ready


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    port = refused_port()
    bare: list[float] = []
    used: list[tuple[float, float | None]] = []
    fresh: list[tuple[float, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        used_home = Path(tmp) / "used"
        start("app", app_env(used_home, port), [])  # first launch: creates the database it reuses below
        for i in range(repeats):
            bare.append(start("bare", app_env(Path(tmp) / f"bare{i}", port), [])[0])
            used.append(start("app", app_env(used_home, port), []))
            fresh.append(start("app", app_env(Path(tmp) / f"fresh{i}", port), []))
    base = statistics.median(bare)
    platform = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    print(f"platform {platform}, {WIDTH}x{HEIGHT}, medians of {repeats}, taking turns")
    print(f"bare PySide6 window       painted {1000 * base:7.1f} ms")
    for label, runs in (("app (database in use)", used), ("app (first launch)", fresh)):
        painted = statistics.median(p for p, _ in runs)
        readies = [r for _, r in runs if r is not None]
        ready = f"pages ready {1000 * statistics.median(readies):7.1f} ms" if readies else "pages ready: never"
        print(
            f"{label:25s} painted {1000 * painted:7.1f} ms  {painted / base:4.2f}x bare (target <= 2x, < 1 s)  {ready}"
        )


if __name__ == "__main__":
    main()
