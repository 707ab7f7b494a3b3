"""Machine paths out of what users read and share.

Tool results, check details and outcome details pass through ``shown_paths`` before they
reach the transcript, the store or an export: paths inside the attempt's workspace become
relative (``stats.py``), the interpreter becomes ``python``, and no scratch folder,
virtual environment or home folder is left to read.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from app.core.tasks.interpreter import SHOWN_NAME, python_interpreter

# Folders the sandbox makes (agentgap-ws-…, agentgap-hidden-…), wherever they sit.
# A match may only start where a path can (not inside a run of path characters), so a long
# run is scanned once instead of once per character.
_SCRATCH = re.compile(
    r"(?<![^\s'\"=:])(?:[A-Za-z]:)?[^\s'\"=:]*[/\\]agentgap-(?:ws|hidden)-[A-Za-z0-9_]+(?P<rest>[/\\]?)"
)


def shown_paths(text: str, workspace: Path | None = None) -> str:
    """``text`` with every machine path replaced by what a reader needs to know."""
    if not text:
        return text
    for root in _forms(workspace):
        text = text.replace(root + os.sep, "").replace(root, ".")
    if "agentgap-" in text:
        text = _SCRATCH.sub(lambda found: "" if found.group("rest") else ".", text)
    for interpreter in _forms(Path(python_interpreter())):
        text = text.replace(interpreter, SHOWN_NAME)
    for prefix in sorted({*_forms(Path(sys.prefix)), *_forms(Path(sys.base_prefix))}, key=len, reverse=True):
        text = text.replace(prefix + os.sep, "<python>" + os.sep)
    home = os.path.expanduser("~")
    if home not in ("~", os.sep, ""):
        text = text.replace(home + os.sep, "~" + os.sep)
    return text


def _forms(path: Path | None) -> tuple[str, ...]:
    """The path as written and as resolved (``/tmp`` may be a link), longest first."""
    return () if path is None else _forms_of(str(path))


@lru_cache(maxsize=256)
def _forms_of(path: str) -> tuple[str, ...]:
    """Resolving walks every folder of the path (an ``lstat`` each): once per path, not per
    tool result."""
    forms = {path}
    with contextlib.suppress(OSError):
        forms.add(str(Path(path).resolve()))
    return tuple(sorted((f for f in forms if len(f) > 1), key=len, reverse=True))
