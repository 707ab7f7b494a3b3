"""The repeated-text rule: endless repeats are caught early, honest long answers never."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.agent.repetition import MIN_PASSAGE, REPEATS, RepetitionWatch

HONEST = sorted((Path(__file__).parent / "honest_answers").glob("*.md"))


def _stream(text: str, size: int) -> tuple[int, str] | None:
    """Feed ``text`` in pieces of ``size`` characters; (characters read, detail) once it trips."""
    watch = RepetitionWatch()
    for start in range(0, len(text), size):
        found = watch.feed(text[start : start + size])
        if found is not None:
            return start + size, found.detail
    return None


def test_the_held_out_answers_are_long_and_varied() -> None:
    assert len(HONEST) >= 8
    assert all(len(path.read_text().split()) >= 150 for path in HONEST)


@pytest.mark.parametrize("path", HONEST, ids=lambda p: p.stem)
@pytest.mark.parametrize("size", [1, 4, 9, 40])
def test_honest_long_answers_never_trip(path: Path, size: int) -> None:
    assert _stream(path.read_text(), size) is None


@pytest.mark.parametrize("size", [4, 11])
def test_a_repeated_sentence_is_caught_within_a_few_repeats(size: int) -> None:
    sentence = "I am sorry, but I cannot help with that request. "
    found = _stream(sentence * 500, size)
    assert found is not None
    read, detail = found
    assert detail.startswith("repeated text")
    assert read <= len(sentence) * (MIN_PASSAGE * REPEATS // 12 + 3)  # 12 tokens a sentence: not 500 of them


def test_a_single_word_repeated_is_caught() -> None:
    found = _stream("la " * 1000, 3)
    assert found is not None and found[0] <= 3 * (MIN_PASSAGE * REPEATS + 20)


def test_a_long_passage_needs_eight_repeats() -> None:
    paragraph = " ".join(f"word{n}" for n in range(60)) + " "
    assert _stream(paragraph * (REPEATS - 1), 7) is None
    assert _stream(paragraph * (REPEATS + 1), 7) is not None


@settings(max_examples=60, deadline=None)
@given(
    passage=st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=MIN_PASSAGE, max_size=80),
    size=st.integers(min_value=1, max_value=50),
)
def test_any_passage_repeated_on_and_on_is_caught(passage: list[str], size: int) -> None:
    text = (" ".join(passage) + " ") * (REPEATS + 3)
    assert _stream(text, size) is not None


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=50, max_size=400, unique=True))
def test_text_that_never_repeats_a_word_never_trips(words: list[str]) -> None:
    assert _stream(" ".join(words), 6) is None
