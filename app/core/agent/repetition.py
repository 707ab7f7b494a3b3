"""Spotting endless text: a reply that repeats the same passage over and over.

The rule: the reply is cut when its newest ``REPEATS`` × max(``MIN_PASSAGE``, p) tokens
are one passage of p tokens written over and over, word for word. With the defaults: a
passage of 20 tokens or more seen 8 times in a row, or a shorter one (a sentence, a
word) repeated for 160 tokens. That is a few seconds of a small model, instead of the
minutes it takes to fill a 4,096-token context.

Tokens here are words and runs of punctuation (no tokenizer is needed or downloaded),
so the figures are close to, not equal to, the model's own tokens. Honest long answers
(code, numbered lists, tables, logs) do not trip it: their lines differ in names,
numbers or values long before eight identical passages line up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_PASSAGE = 20  # tokens in the passage that must repeat
REPEATS = 8  # times in a row
MAX_CYCLE = 400  # the longest repeating passage looked for, in tokens
CHECK_EVERY = 8  # new tokens between two looks (the check costs little, but not nothing)
PAIR_MEMORY = 64  # recent ends kept per token pair

_TOKEN = re.compile(r"\w+|[^\w\s]+")


@dataclass(frozen=True, slots=True)
class Repetition:
    """What was found: a passage of ``passage`` tokens, ``repeats`` times in a row (or more)."""

    passage: int
    repeats: int
    sample: str

    @property
    def detail(self) -> str:
        return f"repeated text: a {self.passage}-token passage {self.repeats} times in a row ({self.sample!r})"


class RepetitionWatch:
    """Fed streamed text piece by piece; says when the tail has become one passage repeated."""

    def __init__(self, min_passage: int = MIN_PASSAGE, repeats: int = REPEATS, max_cycle: int = MAX_CYCLE) -> None:
        self.min_passage = min_passage
        self.repeats = repeats
        self.max_cycle = max_cycle
        self._tokens: list[str] = []
        self._pending = ""  # a word that may go on in the next piece
        self._unchecked = 0
        # where each pair of neighbouring tokens last ended: a passage of period p can only
        # end here if the final pair also ended p tokens earlier, so only those p are tried
        self._pairs: dict[tuple[str, str], list[int]] = {}

    def feed(self, text: str) -> Repetition | None:
        """Add streamed text; a ``Repetition`` once the rule is met."""
        text = self._pending + text
        words = _TOKEN.findall(text)
        # the last token may be cut mid-word: hold it back unless the text ended on a space
        if words and text and not text[-1].isspace():
            self._pending = text[text.rfind(words[-1]) :]
            words.pop()
        else:
            self._pending = ""
        for word in words:
            self._tokens.append(word)
            end = len(self._tokens) - 1
            if end:
                ends = self._pairs.setdefault((self._tokens[end - 1], word), [])
                ends.append(end)
                if len(ends) > 2 * PAIR_MEMORY:
                    del ends[:PAIR_MEMORY]
        self._unchecked += len(words)
        if self._unchecked < CHECK_EVERY:
            return None
        self._unchecked = 0
        return self.check()

    def check(self) -> Repetition | None:
        """The shortest passage whose repeats fill the rule's span at the end of the text."""
        tokens = self._tokens
        end = len(tokens) - 1
        if end < 1:
            return None
        earlier = self._pairs.get((tokens[end - 1], tokens[end]), [])
        for cycle in sorted(end - e for e in earlier if 0 < end - e <= self.max_cycle):
            span = max(cycle, self.min_passage) * self.repeats
            if span > len(tokens):
                continue
            if _periodic_tail(tokens, cycle, span):
                sample = " ".join(tokens[-cycle:])[:60]
                return Repetition(cycle, span // cycle, sample)
        return None


def _periodic_tail(tokens: list[str], cycle: int, span: int) -> bool:
    """Whether the last ``span`` tokens repeat with period ``cycle``."""
    end = len(tokens)
    return all(tokens[i] == tokens[i - cycle] for i in range(end - 1, end - span + cycle - 1, -1))
