"""``python -m app`` / ``agentgap``: the desktop app with no arguments, the CLI otherwise."""

from __future__ import annotations

import sys

_GUI_OPTIONS = ("--db", "--theme")  # the desktop app's own options, each with a value


def wants_gui(args: list[str]) -> bool:
    """A bare ``agentgap`` (or ``agentgap gui``), with only the app's own options or Qt's
    single-dash flags, opens the window; anything else is the command line, so an unknown
    command or option is an error there, never a window a shell without a display waits on."""
    if args[:1] == ["gui"]:
        return True
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GUI_OPTIONS:
            i += 2
        elif arg.startswith(tuple(f"{option}=" for option in _GUI_OPTIONS)):
            i += 1
        elif arg.startswith("-") and not arg.startswith("--") and arg not in ("-h", "-v"):
            # Qt's flags (-platform NAME, -style NAME, macOS -psn_…): a value may follow
            has_value = i + 1 < len(args) and not args[i + 1].startswith("-")
            i += 2 if has_value and not arg.startswith("-psn_") else 1
        else:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False):
        from app.as_python import run_as_python, wants_python

        if wants_python(args):
            return run_as_python(args)
    if args[:1] == ["--smoke"]:
        from app.smoke import run_smoke

        return run_smoke()
    if wants_gui(args):
        from app.ui.main import run_gui

        return run_gui(args[1:] if args and args[0] == "gui" else args)
    from app.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
