"""Rebuild frozen dataclasses from JSON-ready dicts, following their type hints."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import Any, TypeVar, cast

T = TypeVar("T")


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def build_dataclass(cls: type[T], data: dict[str, Any]) -> T:
    """Construct ``cls`` from ``data``; unknown keys are ignored so old rows still load."""
    hints = _hints(cast(Any, cls))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data and f.init:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            try:
                return _convert(option, value)
            except (TypeError, ValueError, KeyError):
                continue
        return value
    if origin is typing.Literal:
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=False))
    if origin in (list, dict) or hint is Any:
        return value
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise TypeError(f"expected a mapping for {hint.__name__}")
            return build_dataclass(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is float and isinstance(value, int):
            return float(value)
    return value
