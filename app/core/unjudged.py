"""Attempts that could not be judged (``harness_error``): counted and named, loudly.

One summary shared by the command line (a warning line and a non-zero exit), the reports'
method section and the banner of the Live run and Compare pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from app.core.outcomes import Outcome


class _Attempt(Protocol):
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def model(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class UnjudgedAttempt:
    model: str
    task_id: str
    detail: str

    @property
    def line(self) -> str:
        return f"{self.task_id} on {self.model}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Unjudged:
    """The attempts of a run (or several) that ended as ``harness_error``: all of them, or
    the first ones listed with ``total`` counting them all."""

    attempts: tuple[UnjudgedAttempt, ...]
    total: int | None = None

    @property
    def count(self) -> int:
        return len(self.attempts) if self.total is None else max(self.total, len(self.attempts))

    @property
    def headline(self) -> str:
        """``N attempts could not be judged: <the first one's task, model and detail>``."""
        noun = "attempt" if self.count == 1 else "attempts"
        return f"{self.count} {noun} could not be judged: {self.attempts[0].line}"


def unjudged(attempts: Iterable[_Attempt]) -> Unjudged | None:
    """The ``harness_error`` attempts among ``attempts``, or None when there are none."""
    found = tuple(
        UnjudgedAttempt(a.model, a.task_id, a.detail)
        for a in attempts
        if a.outcome is Outcome.HARNESS_ERROR
    )
    return Unjudged(found) if found else None
