"""Read a task file's YAML safely: no aliases, bounded nesting, bounded size.

A user's task folder is untrusted input: an alias bomb or a file nested thousands of
levels deep must give a clear error for that file, never hang or crash the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64


class UnsafeYaml(ValueError):
    """YAML that is refused before it is built: the message says why."""


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases and nesting beyond ``MAX_DEPTH``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise UnsafeYaml(
                f"line {event.start_mark.line + 1}: YAML aliases (*name) are not allowed "
                "in task files; write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise UnsafeYaml(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_bounded_yaml(path: Path) -> object:
    """The data in ``path``; raises ``UnsafeYaml``, ``yaml.YAMLError`` or ``OSError``."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnsafeYaml(f"the file is {size:,} bytes; task files may hold {MAX_FILE_BYTES:,} at most")
    text = path.read_text(encoding="utf-8")
    if _FAST_LOADER is not None:
        _check_events(text)  # with libyaml: check the event stream, then build in C
        return yaml.load(text, Loader=_FAST_LOADER)
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_events(text: str) -> None:
    """Refuse aliases and deep nesting by reading the parser's events (no data built)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise UnsafeYaml(
                    f"{_line(event)}YAML aliases (*name) are not allowed in task files; "
                    "write the value out"
                )
            if isinstance(event, _OPENING):
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnsafeYaml(f"{_line(event)}nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, _CLOSING):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        if "maximum nesting depth" not in str(error):  # libyaml's own limit, which it meets first
            raise
        raise UnsafeYaml(f"{_mark(error.problem_mark)}nested more than {MAX_DEPTH} levels deep") from None


def _line(event: yaml.Event) -> str:
    return _mark(event.start_mark)


def _mark(mark: Any) -> str:
    return "" if mark is None else f"line {mark.line + 1}: "
