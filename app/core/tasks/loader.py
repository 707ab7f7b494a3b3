"""Find suite folders, validate their task files, and give each task a content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

from app.core.tasks.schema import CommandCheck, SuiteSpec, TaskSpec

_M = TypeVar("_M", TaskSpec, SuiteSpec)

SUITE_FILE = "suite.yaml"
NESTED_TASK_FILE = "task.yaml"


class TaskLoadError(Exception):
    """A task or suite file that cannot be used, with the file and field named."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Task:
    """A validated task, where it came from, and the hash of everything that defines it."""

    spec: TaskSpec
    suite: str
    path: Path
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tier(self) -> str:
        return self.spec.tier

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()


@dataclass(frozen=True, slots=True)
class Suite:
    spec: SuiteSpec
    path: Path
    tasks: tuple[Task, ...]

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(slots=True)
class Catalog:
    """Every suite found, plus the files that failed to load (reported, not fatal)."""

    suites: dict[str, Suite] = field(default_factory=dict)
    errors: list[TaskLoadError] = field(default_factory=list)

    def tasks(self, suite: str | None = None, tier: str | None = None) -> list[Task]:
        chosen = [self.suites[suite]] if suite else list(self.suites.values())
        return [t for s in chosen for t in s.tasks if tier is None or t.tier == tier]

    def task(self, task_id: str) -> Task:
        for suite in self.suites.values():
            for task in suite.tasks:
                if task.id == task_id:
                    return task
        raise KeyError(f"no task with id {task_id!r}")

    def select(
        self,
        suites: Iterable[str] = (),
        tiers: Iterable[str] = (),
        task_ids: Iterable[str] = (),
    ) -> list[Task]:
        """Tasks in any of the suites (all if none), tiers (all if none) or named ids."""
        suites, tiers, ids = set(suites), set(tiers), set(task_ids)
        unknown = suites - set(self.suites)
        if unknown:
            raise KeyError(f"unknown suite(s): {', '.join(sorted(unknown))}")
        picked = [
            t
            for t in self.tasks()
            if (not suites or t.suite in suites) and (not tiers or t.tier in tiers)
        ]
        if ids:
            picked = [t for t in self.tasks() if t.id in ids] + [
                t for t in picked if t.id not in ids and (suites or tiers)
            ]
            missing = ids - {t.id for t in picked}
            if missing:
                raise KeyError(f"unknown task id(s): {', '.join(sorted(missing))}")
        return picked


def load_catalog(roots: Iterable[Path]) -> Catalog:
    """Load every suite folder under each root (a root may itself be a suite folder)."""
    catalog = Catalog()
    for root in roots:
        for suite_dir in _suite_dirs(Path(root)):
            try:
                suite = load_suite(suite_dir, catalog.errors)
            except TaskLoadError as error:
                catalog.errors.append(error)
                continue
            if suite.id in catalog.suites:
                catalog.errors.append(
                    TaskLoadError(
                        suite_dir / SUITE_FILE,
                        [f"suite id {suite.id!r} already loaded from {catalog.suites[suite.id].path}"],
                    )
                )
                continue
            catalog.suites[suite.id] = suite
    return catalog


def _suite_dirs(root: Path) -> Iterator[Path]:
    if (root / SUITE_FILE).is_file():
        yield root
        return
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if (child / SUITE_FILE).is_file():
                yield child


def load_suite(suite_dir: Path, errors: list[TaskLoadError]) -> Suite:
    """Load one suite; broken task files go to ``errors`` and the rest still load."""
    suite_file = suite_dir / SUITE_FILE
    spec = _validate(SuiteSpec, suite_file, _read_yaml(suite_file))
    tasks: list[Task] = []
    seen: dict[str, Path] = {}
    for task_file in _task_files(suite_dir):
        try:
            task = load_task(task_file, spec)
        except TaskLoadError as error:
            errors.append(error)
            continue
        if task.id in seen:
            errors.append(TaskLoadError(task_file, [f"id: {task.id!r} also used by {seen[task.id]}"]))
            continue
        seen[task.id] = task_file
        tasks.append(task)
    tier_rank = {t: i for i, t in enumerate(spec.tiers)}
    tasks.sort(key=lambda t: (tier_rank.get(t.tier, 99), t.id))
    return Suite(spec=spec, path=suite_dir, tasks=tuple(tasks))


def _task_files(suite_dir: Path) -> list[Path]:
    direct = [p for p in suite_dir.glob("*.yaml") if p.name != SUITE_FILE]
    return sorted(set(direct) | set(_nested_task_files(suite_dir)))


def _nested_task_files(folder: Path) -> Iterator[Path]:
    """``task.yaml`` files in sub-folders; a task's own folder (its workspace and hidden
    files, which may hold a ``task.yaml`` of their own as a fixture) is not searched."""
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or child.is_symlink():
            continue
        task_file = child / NESTED_TASK_FILE
        if task_file.is_file():
            yield task_file
        else:
            yield from _nested_task_files(child)


def load_task(task_file: Path, suite: SuiteSpec) -> Task:
    """Validate one task file against the schema and its suite's tiers."""
    spec = _validate(TaskSpec, task_file, _read_yaml(task_file))
    problems: list[str] = []
    if spec.tier not in suite.tiers:
        problems.append(f"tier: {spec.tier!r} is not one of the suite's tiers {suite.tiers}")
    base = task_file.parent
    folders = [("workspace", spec.workspace)] + [
        ("checks.hidden", c.hidden) for c in spec.checks if isinstance(c, CommandCheck) and c.hidden
    ]
    for field_name, folder in folders:
        if folder is not None and not (base / folder).is_dir():
            problems.append(f"{field_name}: folder {folder!r} not found next to the task file")
    if problems:
        raise TaskLoadError(task_file, problems)
    return Task(spec=spec, suite=suite.id, path=task_file, content_hash=task_hash(spec, base))


def task_hash(spec: TaskSpec, base: Path) -> str:
    """Hash of the task definition and every file of its workspace and hidden checks."""
    digest = hashlib.sha256()
    digest.update(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode())
    folders = [spec.workspace] + [
        c.hidden for c in spec.checks if isinstance(c, CommandCheck) and c.hidden
    ]
    for folder in folders:
        if folder is None:
            continue
        root = base / folder
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskLoadError(path, ["file not found"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise TaskLoadError(path, [f"not valid YAML: {error}"]) from None


def _validate(model: type[_M], path: Path, data: object) -> _M:
    if not isinstance(data, dict):
        raise TaskLoadError(path, ["the file must hold a mapping of fields"])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in error.errors()
        ]
        raise TaskLoadError(path, problems) from None
