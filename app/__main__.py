"""``python -m app`` / ``agentgap``: the desktop app with no arguments, the CLI otherwise."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("gui", "--smoke") or (args and args[0].startswith("-psn_")):
        from app.ui.main import run_gui

        return run_gui(args[1:] if args and args[0] == "gui" else args)
    from app.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
