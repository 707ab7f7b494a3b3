"""Numbers, sizes, durations and dates in the words and units people read at a glance."""

from __future__ import annotations

from datetime import datetime


def format_size(n_bytes: int | None) -> str:
    if not n_bytes:
        return "—"
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.1f} GB"
    return f"{n_bytes / 1e6:.0f} MB"


def format_duration(seconds: float | None) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 04 min``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_context(tokens: int | None) -> str:
    if not tokens:
        return "—"
    return f"{tokens // 1024}K" if tokens >= 1024 and tokens % 1024 == 0 else f"{tokens:,}"


def format_when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


DIMENSION_WORDS = {
    "tdd": "Test-driven development",
    "no_false_positive": "No needless tool call",
    "wrong_tool_trap": "Wrong-tool trap",
    "required_choice": "Tool call required",
    "read_fix_write": "Read, fix, write",
    "execution_stamina": "Long execution",
    "server_error": "Server error handling",
    "read_csv": "Read a CSV file",
    "parse_json": "Parse JSON",
}


def dimension_label(code: str | None) -> str:
    """What a task measures, in words: ``wrong_tool_trap`` → "Wrong-tool trap"."""
    if not code:
        return ""
    words = DIMENSION_WORDS.get(code) or code.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]
