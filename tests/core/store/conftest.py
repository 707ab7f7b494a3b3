"""Fixtures of the store tests: a real SQLite file in tmp_path, a repository, a writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.store.database import Database, open_database
from app.core.store.repository import Repository
from app.core.store.writer import StoreWriter


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "store" / "agentgap.db")
    yield database
    database.close()


@pytest.fixture
def repo(db: Database) -> Repository:
    return Repository(db)


@pytest.fixture
def writer(db: Database) -> Iterator[StoreWriter]:
    store_writer = StoreWriter(db)
    yield store_writer
    store_writer.close()
