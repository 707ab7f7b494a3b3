"""A turn the server's context window ended: what filled it, and what would have held it."""

from __future__ import annotations

from dataclasses import dataclass

CONTEXT_STEP = 1024  # suggested contexts are rounded up to whole KiB of tokens


@dataclass(frozen=True, slots=True)
class ContextCut:
    """The figures of one context-limited turn, each None when the server did not say.

    ``prompt`` is what the server counted (a truncated prompt counts no more than the
    context); ``estimate`` is the whole conversation at four characters a token.
    """

    context: int | None
    prompt: int | None
    produced: int | None
    allowed: int
    estimate: int

    @property
    def needed(self) -> int:
        """The smallest context that holds the whole prompt and every token our budget allowed."""
        if self.prompt is None:
            prompt = self.estimate
        elif self.context is not None and self.prompt >= self.context:  # cut to fit: it was larger
            prompt = max(self.context + 1, self.estimate)
        else:
            prompt = self.prompt
        return prompt + self.allowed

    def describe(self) -> str:
        parts = []
        if self.context is not None:
            parts.append(f"context {self.context} tokens")
        if self.prompt is not None:
            parts.append(f"prompt {self.prompt}")
        if self.produced is not None:
            parts.append(f"reply {self.produced}")
        parts.append(f"allowed {self.allowed}")
        return ", ".join(parts) + f"; a context of {suggested_context(self.needed)} would hold it (raise num_ctx)"


def context_needed(cut: ContextCut) -> int:
    """The context, rounded up to ``CONTEXT_STEP``, that would have held the cut turn."""
    return suggested_context(cut.needed)


def suggested_context(tokens: int) -> int:
    return -(-max(tokens, 1) // CONTEXT_STEP) * CONTEXT_STEP
