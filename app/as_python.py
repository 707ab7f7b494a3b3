"""The standalone app acting as the Python interpreter.

A frozen build has no separate interpreter: ``sys.executable`` is the app itself, so the
checks and the model's ``python``/``pytest`` commands start the app with Python's own
command line (``-m pytest …``, ``-c code``, ``script.py args``, ``-V``). This module runs
those as Python would, so a machine without any Python still judges every task.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import traceback
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

AS_PYTHON_ENV = "AGENTGAP_AS_PYTHON"  # set for sandboxed commands: the app is Python there
_FLAGS = frozenset("bBdEhiIOqsSuvVx")  # single-letter options that take no value
_VALUED = frozenset("WXQ")  # options followed by a value (-W error, -X dev)


def wants_python(args: list[str]) -> bool:
    """Whether a frozen app was started as Python rather than as AgentGap."""
    if os.environ.get(AS_PYTHON_ENV) == "1":
        return True
    if args[:1] in (["-m"], ["-c"]):
        return True
    return bool(args) and args[0].endswith(".py") and os.path.isfile(args[0])


def run_as_python(args: list[str]) -> int:
    """Run ``args`` as ``python args`` would; the code's ``SystemExit`` ends the process."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-V", "--version"):
            print(f"Python {sys.version.split()[0]}")
            return 0
        if arg in ("-m", "-c"):
            break
        if arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            letters = arg[1:]
            if letters[0] in _VALUED:
                index += 1 if len(letters) > 1 else 2
                continue
            if all(letter in _FLAGS for letter in letters):
                index += 1
                continue
            # -mpytest / -cCODE: an option glued to its value
            if letters[0] in "mc":
                args = [*args[:index], f"-{letters[0]}", letters[1:], *args[index + 1 :]]
                break
        break
    rest = args[index:]
    _user_code_first()
    try:
        return _run(rest)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        return 1


class _UserPathsFirst(importlib.abc.MetaPathFinder):
    """As under Python, modules beside the code (the workspace, a script's folder) come
    before the bundle's own: a task's ``app`` package is the task's, not AgentGap's."""

    def __init__(self, bundle: str) -> None:
        self.bundle = bundle

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        entries = [p for p in (sys.path if path is None else path) if not str(p).startswith(self.bundle)]
        return importlib.machinery.PathFinder.find_spec(fullname, entries, target)


def _user_code_first() -> None:
    """In a real bundle: forget AgentGap's own modules and look beside the code first."""
    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle:
        return
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _UserPathsFirst(str(bundle)))


def _run(rest: list[str]) -> int:
    if not rest or rest[0] == "-":
        source = sys.stdin.read()
        sys.argv = ["-", *rest[1:]] if rest else [""]
        sys.path.insert(0, "")
        _exec(source, "<stdin>")
        return 0
    flag = rest[0]
    if flag in ("-m", "-c"):
        if len(rest) < 2:
            print(f"Argument expected for the {flag} option", file=sys.stderr)
            return 2
        target, arguments = rest[1], rest[2:]
        if flag == "-m":
            sys.argv = [target, *arguments]  # runpy puts the module's file in argv[0]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *arguments]
            sys.path.insert(0, "")
            _exec(target, "<string>")
        return 0
    if flag.startswith("-"):
        print(f"unknown option {flag}", file=sys.stderr)
        return 2
    script = flag
    if not os.path.exists(script):
        print(f"can't open file {os.path.abspath(script)!r}: No such file or directory", file=sys.stderr)
        return 2
    sys.argv = [script, *rest[1:]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


def _exec(source: str, filename: str) -> None:
    code = compile(source, filename, "exec")
    exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
