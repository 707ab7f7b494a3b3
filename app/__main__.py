"""``python -m app`` / ``agentgap``: the desktop app with no arguments, the CLI otherwise."""

from __future__ import annotations

import os
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
    if getattr(sys, "frozen", False) and args[:1] in (["-m"], ["-c"]):
        return run_as_python(args)
    if args[:1] == ["--smoke"]:
        from app.smoke import run_smoke

        return run_smoke()
    if wants_gui(args):
        from app.ui.main import run_gui

        return run_gui(args[1:] if args and args[0] == "gui" else args)
    from app.cli import run_cli

    return run_cli(args)


def run_as_python(args: list[str]) -> int:
    """``-m module …`` or ``-c code …`` as Python runs them.

    A frozen build has no separate interpreter: ``sys.executable`` is the app itself, so
    ``sys.executable -m pytest …`` arrives here. A ``SystemExit`` from the code ends the
    process with its status, as it would under Python.
    """
    import runpy

    flag, rest = args[0], args[1:]
    if not rest:
        print(f"Argument expected for the {flag} option", file=sys.stderr)
        return 2
    target, arguments = rest[0], rest[1:]
    if flag == "-m":
        sys.argv = [target, *arguments]  # runpy puts the module's file in argv[0]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *arguments]
        sys.path.insert(0, "")
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    return 0


if __name__ == "__main__":
    sys.exit(main())
