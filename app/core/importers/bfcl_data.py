"""Where BFCL's published data lives (the installed ``bfcl-eval`` package, or a folder)
and how its files are read. Nothing of BFCL ships with AgentGap."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import Any

PACKAGE = "bfcl-eval"

# BFCL categories converted, in tier order; multi-turn needs the package's API classes.
SINGLE_TURN = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
MULTI_TURN = ("multi_turn_base",)
CATEGORIES = SINGLE_TURN + MULTI_TURN
SILENCE = frozenset({"irrelevance", "live_irrelevance"})


class BfclDataError(Exception):
    """The data cannot be found or read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BfclData:
    """One copy of BFCL's data: its folder, its version, and the package root if installed."""

    folder: Path
    version: str
    package_root: Path | None = None

    def category_file(self, category: str, *, answers: bool = False) -> Path | None:
        folder = self.folder / "possible_answer" if answers else self.folder
        pattern = re.compile(rf"BFCL_v(\d+)_{re.escape(category)}\.json")
        found = sorted(
            (int(m.group(1)), p) for p in folder.glob("BFCL_v*.json") if (m := pattern.fullmatch(p.name))
        )
        return found[-1][1] if found else None

    def cases(self, category: str) -> Iterator[dict[str, Any]]:
        path = self.category_file(category)
        if path is None:
            return
        yield from _json_lines(path)

    def answers(self, category: str) -> dict[str, Any]:
        path = self.category_file(category, answers=True)
        if path is None:
            return {}
        return {row["id"]: row["ground_truth"] for row in _json_lines(path)}

    def function_docs(self, file_stem: str) -> list[dict[str, Any]]:
        path = self.folder / "multi_turn_func_doc" / f"{file_stem}.json"
        return list(_json_lines(path)) if path.is_file() else []


def locate(data_folder: Path | None = None) -> BfclData:
    """The data in ``data_folder``, or in the installed ``bfcl-eval`` package."""
    if data_folder is not None:
        if not any(data_folder.glob("BFCL_v*_*.json")):
            raise BfclDataError(f"{data_folder} holds no BFCL_v*_<category>.json files")
        return BfclData(data_folder, _folder_version(data_folder))
    spec = util.find_spec("bfcl_eval")
    if spec is None or spec.origin is None:
        raise BfclDataError(
            f"the {PACKAGE} package is not installed: run `pip install --no-deps {PACKAGE}` "
            "(its data is all that is used), or give --data FOLDER"
        )
    root = Path(spec.origin).parent
    version = metadata.version(PACKAGE)
    return BfclData(root / "data", version, root)


def _folder_version(folder: Path) -> str:
    stamp = folder / "VERSION"
    if stamp.is_file():
        return stamp.read_text(encoding="utf-8").strip()
    names = sorted(p.name.split("_", 2)[1] for p in folder.glob("BFCL_v*_*.json"))
    return f"data folder ({names[-1]})" if names else "data folder"


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
