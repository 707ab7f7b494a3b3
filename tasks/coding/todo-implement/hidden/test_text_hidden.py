from textkit.strings import count_words, slugify, truncate
from textkit.numbers import clamp

def test_slugify():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("  Many   spaces here ") == "many-spaces-here"

def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("a long sentence", 8) == "a lon..."
    assert len(truncate("x" * 50, 10)) == 10

def test_count_words():
    assert count_words("one two  three") == 3

def test_other_file_untouched():
    assert clamp(5, 0, 3) == 3
