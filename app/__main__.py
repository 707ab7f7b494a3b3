"""``python -m app`` / ``agentgap``: the desktop app with no arguments, the CLI otherwise."""

from __future__ import annotations

import sys

_CLI_WORDS = frozenset(
    {"models", "tasks", "run", "runs", "show", "transcript", "delete", "report", "sweep", "ceiling", "tune",
     "doctor", "import",
     "-h", "--help", "--version"}
)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False):
        from app.as_python import run_as_python, wants_python

        if wants_python(args):
            return run_as_python(args)
    if args[:1] == ["--smoke"]:
        from app.smoke import run_smoke

        return run_smoke()
    if not any(arg in _CLI_WORDS for arg in args):
        from app.ui.main import run_gui

        return run_gui(args[1:] if args and args[0] == "gui" else args)
    from app.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
