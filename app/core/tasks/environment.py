"""The per-attempt world a task runs in: its tools, their state, and its workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.chat import ToolCall, ToolSpec
from app.core.faults import HarnessFault
from app.core.tasks.loader import Task
from app.core.tasks.matching import args_mismatch
from app.core.tasks.sandbox import Sandbox
from app.core.tasks.schema import BuiltinTool, MockTool
from app.core.tasks.shown_paths import shown_paths
from app.core.tasks.stateful_tools import StatefulTools

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a tool returned; errors go back to the model as results, never raised."""

    content: str
    is_error: bool = False


class TaskEnvironment:
    """Created fresh for every attempt; ``close`` removes whatever it made on disk."""

    def __init__(self, task: Task, *, scratch_root: Path | None = None) -> None:
        self.task = task
        self._mocks: dict[str, MockTool] = {}
        self._used: dict[tuple[str, int], int] = {}
        self.sandbox: Sandbox | None = None
        specs: list[ToolSpec] = []
        builtins = [t.builtin for t in task.spec.tools if isinstance(t, BuiltinTool)]
        self._stateful: StatefulTools | None = None
        if task.spec.tool_class is not None:
            self._stateful = StatefulTools.load(task.spec.tool_class, task.base_dir)
        if task.spec.workspace is not None or builtins or self._stateful is not None:
            workspace = task.resolve(task.spec.workspace) if task.spec.workspace else None
            self.sandbox = Sandbox.create(workspace, scratch_root=scratch_root)
        for entry in task.spec.tools:
            if isinstance(entry, MockTool):
                self._mocks[entry.name] = entry
                specs.append(ToolSpec(entry.name, entry.description, entry.parameters))
            else:
                from app.core.tasks.builtin_tools import builtin_spec

                specs.append(builtin_spec(entry.builtin))
        self.tools: tuple[ToolSpec, ...] = tuple(specs)
        self._schemas = {spec.name: spec.parameters for spec in specs}

    @property
    def workspace(self) -> Path | None:
        return None if self.sandbox is None else self.sandbox.root

    def set_deadline(self, deadline: float) -> None:
        """Tools get no more than the attempt's remaining time (``time.monotonic()`` based)."""
        if self.sandbox is not None:
            self.sandbox.deadline = deadline

    def validation_error(self, call: ToolCall) -> str | None:
        """Why ``call``'s arguments break its tool's JSON Schema, or None."""
        schema = self._schemas.get(call.name)
        if schema is None:
            return f"no tool named {call.name!r} was offered"
        import jsonschema  # loaded with the first call to check, not with the app

        try:
            validator = _validator(json.dumps(schema, sort_keys=True))
        except jsonschema.exceptions.SchemaError as broken:
            raise HarnessFault(
                f"the task's schema for the {call.name} tool cannot be used: {broken.message}"
            ) from broken
        error = jsonschema.exceptions.best_match(validator.iter_errors(call.arguments))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{where + ': ' if where else ''}{error.message}"

    def execute(self, call: ToolCall) -> ToolOutput:
        """Run one validated call; its result shows paths relative to the workspace."""
        output = self._execute(call)
        if call.name == "read_file" and not output.is_error:
            return output  # a file's own text is shown as it is
        shown = shown_paths(output.content, self.workspace)
        return output if shown == output.content else ToolOutput(shown, output.is_error)

    def _execute(self, call: ToolCall) -> ToolOutput:
        """Run one validated call. A refusal becomes an error result for the model."""
        try:
            mock = self._mocks.get(call.name)
            if mock is not None and mock.stateful and self._stateful and self.sandbox:
                content, is_error = self._stateful.call(self.sandbox, call.name, call.arguments)
                return ToolOutput(content, is_error=is_error)
            if call.name in self._mocks:
                return self._mock_result(self._mocks[call.name], call.arguments)
            if self.sandbox is not None:
                from app.core.tasks.builtin_tools import run_builtin

                return run_builtin(self.sandbox, call.name, call.arguments)
        except HarnessFault:
            raise
        except Exception as error:  # a bug of ours, never booked against the model
            raise HarnessFault(f"the {call.name} tool crashed: {type(error).__name__}: {error}") from error
        return ToolOutput(f"error: unknown tool {call.name!r}", is_error=True)

    def _mock_result(self, tool: MockTool, arguments: dict[str, Any]) -> ToolOutput:
        for index, response in enumerate(tool.responses):
            key = (tool.name, index)
            if response.times is not None and self._used.get(key, 0) >= response.times:
                continue
            if args_mismatch(response.when, arguments) is None:
                self._used[key] = self._used.get(key, 0) + 1
                result = response.result
                text = result if isinstance(result, str) else json.dumps(result)
                return ToolOutput(text, is_error=response.is_error)
        return ToolOutput(f"error: no result for arguments {json.dumps(arguments)}", is_error=True)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def __enter__(self) -> TaskEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Validator:
    """A checked validator per distinct schema, built once rather than on every call."""
    import jsonschema

    schema = json.loads(schema_json)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
