"""Stateful tools: methods of a task's Python class, run inside the attempt's sandbox.

Each call runs a small driver under the sandbox's command runner: it loads the class,
builds the instance, replays the attempt's earlier calls to rebuild the state, makes the
new call and prints the result. The class never runs in the app's own process.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.tasks.sandbox import Sandbox
from app.core.tasks.schema import ToolClass

RESULT_MARK = "\x1eAGENTGAP-RESULT\x1e"
CALL_TIMEOUT_S = 20.0

# Kept free of path-like text: the sandbox checks every argument of a command.
_DRIVER = f"""
import base64, json, sys, types
raw = sys.argv[1][1:]
p = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
module = types.ModuleType("tool_class")
exec(compile(p["source"], p["file"], "exec"), module.__dict__)
cls = getattr(module, p["name"])
if p["setup"]:
    obj = cls()
    getattr(obj, p["setup"])(p["init"])
else:
    obj = cls(**p["init"])
def call(name, arguments):
    method = getattr(obj, name, None)
    if name.startswith("_") or not callable(method):
        raise AttributeError("no tool named " + repr(name))
    return method(**arguments)
for name, arguments in p["history"]:
    try:
        call(name, arguments)
    except Exception:
        pass
try:
    out = {{"result": call(*p["call"])}}
except Exception as error:
    out = {{"error": type(error).__name__ + ": " + str(error)}}
print({RESULT_MARK!r} + json.dumps(out, default=str))
"""


@dataclass(slots=True)
class StatefulTools:
    """One attempt's instance of a tool class: its calls so far are its state."""

    spec: ToolClass
    source: str
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def load(cls, spec: ToolClass, base: Path) -> StatefulTools:
        return cls(spec, (base / spec.file).read_text(encoding="utf-8"))

    def call(self, sandbox: Sandbox, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """The method's result as text, and whether it is an error."""
        payload = {
            "source": self.source,
            "file": self.spec.file,
            "name": self.spec.name,
            "init": self.spec.init,
            "setup": self.spec.setup,
            "history": self.history,
            "call": [name, arguments],
        }
        encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        result = sandbox.run(["python", "-c", _DRIVER, "p" + encoded], timeout_s=CALL_TIMEOUT_S)
        self.history.append((name, arguments))
        if result.timed_out:
            return f"error: the tool {name} took longer than {CALL_TIMEOUT_S:g} s", True
        _, mark, tail = result.output.rpartition(RESULT_MARK)
        if not mark:
            return f"error: the tool {name} failed: {result.output.strip()[-500:]}", True
        try:
            out = json.loads(tail.strip().splitlines()[0])
        except (ValueError, IndexError):
            return f"error: the tool {name} gave an unreadable result", True
        if "error" in out:
            return f"error: {out['error']}", True
        value = out.get("result")
        return (value if isinstance(value, str) else json.dumps(value)), False
