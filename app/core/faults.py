"""Faults on our side: the measurement broke, not the model.

Raised where a check cannot start, a tool or check crashes, or a task cannot be used as
written; the attempt then ends as ``harness_error`` (never scored, never retried
silently, and reported loudly).
"""

from __future__ import annotations


class HarnessFault(Exception):
    """AgentGap could not judge an attempt; the message says what broke, in words."""
