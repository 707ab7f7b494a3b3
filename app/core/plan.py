"""A run as planned: the list of attempts (model × task × repeat × setting), stored first."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from app.core.chat import GenerationSettings
from app.core.modelref import ModelRef
from app.core.outcomes import ToolMode


@dataclass(frozen=True, slots=True)
class AttemptSettings:
    """Everything about how an attempt is run that is not the model or the task."""

    tool_mode: ToolMode = ToolMode.RECOVERY
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    max_turns: int | None = None  # None: the task's own budget
    max_tokens: int | None = None
    max_seconds: float | None = None
    directive: str | None = None  # extra system-prompt text (e.g. a completeness directive)
    turn_scale: float = 1.0  # multiplies the turn budget (the task's own, or max_turns)
    token_scale: float = 1.0  # multiplies the completion-token budget
    label: str = ""  # name of a sweep cell, "" for a plain run

    def key(self) -> str:
        """Stable short hash; attempts with equal keys were run the same way."""
        return _settings_key(repr(self), self)


@lru_cache(maxsize=4096)
def _settings_key(shown: str, settings: AttemptSettings) -> str:
    """Computed once per distinct settings; ``shown`` (the ``repr``) keeps apart settings
    that compare equal but are written differently (``1`` and ``1.0``, ``True``)."""
    data = asdict(settings)
    data.pop("label")
    for scale in ("turn_scale", "token_scale"):  # unscaled keys match those stored before scales
        if data[scale] == 1.0:
            data.pop(scale)
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    attempt_id: str
    run_id: str
    seq: int
    model: ModelRef
    task_id: str
    suite: str
    tier: str
    task_hash: str
    repeat: int
    settings: AttemptSettings
    model_digest: str | None = None


@dataclass(frozen=True, slots=True)
class RunPlan:
    run_id: str
    name: str
    created_at: float
    attempts: tuple[AttemptSpec, ...]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def models(self) -> list[ModelRef]:
        return list(dict.fromkeys(a.model for a in self.attempts))


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def new_attempt_id(run_id: str, seq: int) -> str:
    return f"{run_id}-{seq:06d}"
