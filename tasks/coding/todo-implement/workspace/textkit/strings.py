import re


def slugify(text):
    """Lower-case words joined by hyphens: "Hello, World!" -> "hello-world"."""
    raise NotImplementedError  # TODO: implement


def truncate(text, limit):
    """At most `limit` characters; cut text ends with "..." within the limit."""
    raise NotImplementedError  # TODO: implement


def count_words(text):
    """Number of whitespace-separated words."""
    raise NotImplementedError  # TODO: implement
