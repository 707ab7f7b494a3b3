"""Compare a model's tool-call arguments against the matchers a task file declares."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from app.core.tasks.schema import Matcher


def value_matches(matcher: Matcher, value: Any) -> bool:
    """True when ``value`` satisfies ``matcher``."""
    if matcher.any is not None:
        return True
    if matcher.iequals is not None:
        return isinstance(value, str) and value.strip().casefold() == matcher.iequals.casefold()
    if matcher.one_of is not None:
        return any(_equal(matcher, option, value) for option in matcher.one_of)
    if matcher.regex is not None:
        return re.fullmatch(matcher.regex, _as_text(value), flags=re.IGNORECASE | re.DOTALL) is not None
    if matcher.approx is not None:
        number = _as_number(value)
        return number is not None and math.isclose(number, matcher.approx, abs_tol=matcher.tol)
    if matcher.contains is not None:
        return matcher.contains.casefold() in _as_text(value).casefold()
    return _equal(matcher, matcher.equals, value)


def _equal(matcher: Matcher, expected: Any, value: Any) -> bool:
    """Equality under the matcher's options (case, whitespace, types, list order);
    without options, the forgiving equality of format version 1."""
    if not _has_options(matcher):
        return _loose_equal(expected, value)
    if isinstance(expected, list) and isinstance(value, list):
        if len(expected) != len(value):
            return False
        if matcher.order == "any":
            return _same_items(matcher, expected, value)
        return all(_equal(matcher, e, v) for e, v in zip(expected, value, strict=True))
    if isinstance(expected, dict) and isinstance(value, dict):
        return set(expected) == set(value) and all(
            _equal(matcher, expected[k], value[k]) for k in expected
        )
    if matcher.strict_type and _json_type(expected) != _json_type(value):
        return False
    if isinstance(expected, str) and isinstance(value, str):
        return _text(matcher, expected) == _text(matcher, value)
    return expected == value if matcher.strict_type else _loose_equal(expected, value)


def _has_options(matcher: Matcher) -> bool:
    return (
        matcher.ignore_case or matcher.normalize_space or matcher.strict_type or matcher.order != "exact"
    )


def _same_items(matcher: Matcher, expected: list[Any], value: list[Any]) -> bool:
    """Each expected item pairs with a distinct item of ``value``, in any order."""
    left = list(value)
    for item in expected:
        index = next((i for i, v in enumerate(left) if _equal(matcher, item, v)), None)
        if index is None:
            return False
        left.pop(index)
    return True


def _text(matcher: Matcher, text: str) -> str:
    text = " ".join(text.split()) if matcher.normalize_space else text.strip()
    return text.casefold() if matcher.ignore_case else text


def _json_type(value: Any) -> str:
    """The JSON type of a value, telling an integer from a number."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return type(value).__name__


def args_mismatch(
    expected: Mapping[str, Matcher], actual: Mapping[str, Any], *, exact: bool = False
) -> str | None:
    """Why ``actual`` fails ``expected``, or None when it matches."""
    for key, matcher in expected.items():
        if key not in actual:
            if matcher.optional:
                continue
            return f"missing argument {key!r}"
        if not value_matches(matcher, actual[key]):
            return f"argument {key!r} = {actual[key]!r} is not what the task needs"
    if exact:
        extra = sorted(set(actual) - set(expected))
        if extra:
            return f"unexpected argument(s) {extra}"
    return None


def _loose_equal(expected: Any, value: Any) -> bool:
    """Equality that forgives 3 vs 3.0 vs "3" but not 3 vs "three"."""
    if expected == value:
        return True
    a, b = _as_number(expected), _as_number(value)
    if a is not None and b is not None and not isinstance(expected, bool):
        return math.isclose(a, b)
    if isinstance(expected, str) and isinstance(value, str):
        return expected.strip() == value.strip()
    return False


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
