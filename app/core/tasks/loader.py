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

from app.core.tasks.safe_yaml import UnsafeYaml, read_bounded_yaml
from app.core.tasks.schema import CommandCheck, SuiteSpec, TaskSpec
from app.core.tasks.suite_cache import load_suite_cached

_M = TypeVar("_M", TaskSpec, SuiteSpec)

SUITE_FILE = "suite.yaml"
NESTED_TASK_FILE = "task.yaml"


class TaskLoadError(Exception):
    """A task or suite file that cannot be used, with the file and field named."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def __reduce__(self) -> tuple[type[TaskLoadError], tuple[Path, list[str]]]:
        return TaskLoadError, (self.path, self.problems)


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
                suite = load_suite_cached(suite_dir, catalog.errors, load_suite)
            except TaskLoadError as error:
                catalog.errors.append(error)
                continue
            except Exception as error:  # a broken user suite never stops the others loading
                catalog.errors.append(
                    TaskLoadError(suite_dir, [f"could not be loaded: {type(error).__name__}: {error}"])
                )
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


def load_suite_spec(suite_dir: Path) -> SuiteSpec:
    """The validated ``suite.yaml`` of a suite folder."""
    suite_file = suite_dir / SUITE_FILE
    return _validate(SuiteSpec, suite_file, _read_yaml(suite_file))


def load_suite(suite_dir: Path, errors: list[TaskLoadError]) -> Suite:
    """Load one suite; broken task files go to ``errors`` and the rest still load."""
    spec = load_suite_spec(suite_dir)
    tasks: list[Task] = []
    seen: dict[str, Path] = {}
    for task_file in _task_files(suite_dir):
        try:
            task = load_task(task_file, spec, suite_dir)
        except TaskLoadError as error:
            errors.append(error)
            continue
        except Exception as error:  # never let one file stop the rest of its suite
            errors.append(
                TaskLoadError(task_file, [f"could not be loaded: {type(error).__name__}: {error}"])
            )
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


def load_task(task_file: Path, suite: SuiteSpec, suite_dir: Path | None = None) -> Task:
    """Validate one task file against the schema, its suite's tiers, and its suite folder
    (folders and files it names must lie inside the suite)."""
    spec = _validate(TaskSpec, task_file, _read_yaml(task_file))
    problems: list[str] = []
    if spec.tier not in suite.tiers:
        problems.append(f"tier: {spec.tier!r} is not one of the suite's tiers {suite.tiers}")
    base = task_file.parent
    inside = (suite_dir or base).resolve()
    for field_name, folder in _folders(spec):
        where = (base / folder).resolve()
        if not where.is_relative_to(inside):
            problems.append(f"{field_name}: {folder!r} leads outside the suite folder")
        elif not where.is_dir():
            problems.append(f"{field_name}: folder {folder!r} not found next to the task file")
    for field_name, file in _files(spec):
        where = (base / file).resolve()
        if not where.is_relative_to(inside):
            problems.append(f"{field_name}: {file!r} leads outside the suite folder")
        elif not where.is_file():
            problems.append(f"{field_name}: file {file!r} not found next to the task file")
    problems += _command_problems(spec)
    if problems:
        raise TaskLoadError(task_file, problems)
    return Task(spec=spec, suite=suite.id, path=task_file, content_hash=task_hash(spec, base))


def _folders(spec: TaskSpec) -> list[tuple[str, str]]:
    named = [("workspace", spec.workspace)] + [
        (f"checks.{i}.hidden", c.hidden)
        for i, c in enumerate(spec.all_checks())
        if isinstance(c, CommandCheck)
    ]
    return [(name, folder) for name, folder in named if folder is not None]


def _files(spec: TaskSpec) -> list[tuple[str, str]]:
    return [("tool_class.file", spec.tool_class.file)] if spec.tool_class is not None else []


def _command_problems(spec: TaskSpec) -> list[str]:
    """Check commands must name an allowed program, as the sandbox will demand at run time."""
    from app.core.tasks.sandbox import ALLOWED_COMMANDS

    problems = []
    for index, check in enumerate(spec.all_checks()):
        if isinstance(check, CommandCheck):
            program = check.argv[0].replace("\\", "/").rsplit("/", 1)[-1]
            if program not in ALLOWED_COMMANDS:
                allowed = ", ".join(sorted(ALLOWED_COMMANDS))
                problems.append(
                    f"checks.{index}.argv: {program!r} is not an allowed command ({allowed})"
                )
    return problems


def task_hash(spec: TaskSpec, base: Path) -> str:
    """Hash of the task definition and every file of its workspace and hidden checks."""
    digest = hashlib.sha256()
    digest.update(json.dumps(spec.hash_dump(), sort_keys=True).encode())
    for _, folder in _folders(spec):
        root = base / folder
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    for _, name in _files(spec):
        digest.update(name.encode())
        digest.update((base / name).read_bytes())
    return digest.hexdigest()[:16]


def _read_yaml(path: Path) -> object:
    try:
        return read_bounded_yaml(path)
    except FileNotFoundError:
        raise TaskLoadError(path, ["file not found"]) from None
    except UnsafeYaml as error:
        raise TaskLoadError(path, [f"refused: {error}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise TaskLoadError(path, [f"not valid YAML: {error}"]) from None
    except (OSError, RecursionError, MemoryError) as error:
        raise TaskLoadError(path, [f"could not be read: {type(error).__name__}: {error}"]) from None


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
