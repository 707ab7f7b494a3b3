"""A large suite is loaded from its stored copy while its files are unchanged, and from
its files again as soon as any of them changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.tasks import loader
from app.core.tasks.loader import TaskLoadError, load_catalog, load_suite
from app.core.tasks.suite_cache import cache_dir, load_suite_cached


def task(index: int, prompt: str = "say hi") -> dict[str, Any]:
    return {"id": f"big.t{index}", "title": f"task {index}", "tier": "basic", "prompt": prompt,
            "checks": [{"type": "answer", "contains": ["hi"]}], "reference": [{"answer": "hi"}]}


@pytest.fixture
def big_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "suite.yaml").write_text(yaml.safe_dump({"id": "big", "title": "Big", "tiers": ["basic"]}))
    for index in range(5):
        (folder / f"t{index}.yaml").write_text(yaml.safe_dump(task(index)))
    (folder / "broken.yaml").write_text("- not a mapping")
    return folder


def load(folder: Path) -> tuple[list[str], list[TaskLoadError]]:
    errors: list[TaskLoadError] = []
    suite = load_suite_cached(folder, errors, load_suite, min_task_files=3)
    return [t.spec.prompt for t in suite.tasks], errors


def test_an_unchanged_suite_is_not_parsed_again(big_suite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts, errors = load(big_suite)
    assert prompts == ["say hi"] * 5 and [e.path.name for e in errors] == ["broken.yaml"]
    assert list(cache_dir().glob("*.pickle"))

    def no_parsing(path: Path) -> object:
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(loader, "_read_yaml", no_parsing)
    again, errors_again = load(big_suite)
    assert again == prompts
    assert [(e.path.name, e.problems) for e in errors_again] == [(e.path.name, e.problems) for e in errors]


def test_a_changed_file_is_read_again(big_suite: Path) -> None:
    load(big_suite)
    changed = big_suite / "t3.yaml"
    changed.write_text(yaml.safe_dump(task(3, prompt="now say hi twice")))
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same second, new time
    prompts, _ = load(big_suite)
    assert "now say hi twice" in prompts


def test_a_damaged_entry_is_ignored(big_suite: Path) -> None:
    load(big_suite)
    for entry in cache_dir().glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    prompts, _ = load(big_suite)
    assert prompts == ["say hi"] * 5


def test_small_suites_are_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big_suite: Path) -> None:
    catalog = load_catalog([big_suite])  # 6 files: below the default threshold
    assert len(catalog.tasks("big")) == 5
    assert not cache_dir().exists()
