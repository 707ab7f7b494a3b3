"""Before a run: can each model's context window hold what the tasks' budgets allow?

An attempt keeps every reply in the conversation, so by its end the context holds the
prompt (system, tools, user message) plus up to the whole completion-token budget. When
that is more than the context the server runs with, a long attempt is cut by the server
(``context_limit``) before our own budget decides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.agent.attempt import scaled_limits
from app.core.plan import AttemptSettings
from app.core.providers.base import ModelInfo, ProviderKind
from app.core.tasks.loader import Task

OLLAMA_DEFAULT_CONTEXT = 4096  # what Ollama runs a model with when neither we nor its server set more
SYSTEM_PROMPT_TOKENS = 300  # our own system prompt and tool framing, roughly


@dataclass(frozen=True, slots=True)
class ContextShortfall:
    """One model whose context cannot hold some tasks' budgets."""

    model: str
    context: int
    tasks: int  # how many of the selected tasks do not fit
    largest_need: int  # the most any of them may need, in tokens

    @property
    def warning(self) -> str:
        return (
            f"{self.model}: its {self.context:,}-token context cannot hold the budgets of {self.tasks} task(s) "
            f"(up to {self.largest_need:,} tokens); long attempts will end as context_limit. "
            "Raise num_ctx or lower the token budget."
        )


def context_in_force(model: ModelInfo, settings: AttemptSettings) -> int | None:
    """The context a model will run with: the ``num_ctx`` we send, else what its server said."""
    if settings.generation.num_ctx:
        return settings.generation.num_ctx
    if model.provider is ProviderKind.OLLAMA:
        # ``context_length`` is what the model was trained for, not what Ollama loads it with
        return min(OLLAMA_DEFAULT_CONTEXT, model.context_length or OLLAMA_DEFAULT_CONTEXT)
    return model.context_length


def task_context_need(task: Task, settings: AttemptSettings) -> int:
    """The prompt (four characters a token) plus the completion tokens the budget allows."""
    spec = task.spec
    tools = json.dumps([t.model_dump(mode="json") for t in spec.tools]) if spec.tools else ""
    prompt = (len(spec.prompt or "") + len(spec.system or "") + len(tools)) // 4 + SYSTEM_PROMPT_TOKENS
    return prompt + scaled_limits(settings, spec.budgets).max_tokens


def context_shortfalls(
    models: Sequence[ModelInfo], tasks: Sequence[Task], settings: AttemptSettings
) -> list[ContextShortfall]:
    """Per model, the tasks whose budgets do not fit its context; models that fit are left out."""
    needs = [task_context_need(task, settings) for task in tasks]
    found = []
    for model in models:
        context = context_in_force(model, settings)
        if context is None:
            continue
        over = [need for need in needs if need > context]
        if over:
            found.append(ContextShortfall(model.ref, context, len(over), max(over)))
    return found
