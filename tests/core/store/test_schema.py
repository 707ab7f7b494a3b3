"""Opening the database: migrations, pragmas, upgrades, and files that cannot be used."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import platformdirs
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from app.core.store.database import (
    Database,
    StoreError,
    _alembic_config,
    default_database_path,
    open_database,
    schema_head,
)
from app.core.store.models import Base
from app.core.store.repository import Repository
from tests.core.store.builders import QWEN, make_plan, raw


def _schema_diff(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_migrations_create_exactly_the_models_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folders" / "a.db"
    db = open_database(path)
    assert path.exists()
    assert _schema_diff(db) == []
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == schema_head()
    db.close()
    open_database(path).close()  # reopening is a no-op


def test_every_connection_is_wal_with_foreign_keys(db: Database) -> None:
    with db.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}
    with raw(db.path) as connection:  # WAL is a property of the file itself
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_of_the_first_schema_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
    engine.dispose()
    with raw(path) as connection:
        connection.execute("insert into models (provider, host, name, digest, label) values "
                           "('ollama', 'http://localhost:11434', 'qwen2.5:7b', null, 'localhost:11434/qwen2.5:7b')")
        connection.execute("insert into runs values ('r1', 'old run', 1.0, null, 'finished', '0.1.0', '{}')")
    db = open_database(path)
    assert _schema_diff(db) == []
    with raw(path) as connection:
        assert connection.execute("select label, details_json from models").fetchall() == [
            ("localhost:11434/qwen2.5:7b", "{}")
        ]
    repo = Repository(db)
    assert [r.name for r in repo.list_runs()] == ["old run"]
    plan = make_plan("r2", models=((QWEN, None),))
    repo.create_run(plan)  # the old model row is reused
    assert repo.load_plan("r2").attempts == plan.attempts
    with raw(path) as connection:
        assert connection.execute("select count(*) from models").fetchone()[0] == 1
    db.close()
    # and back down, for the record
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0001")
    engine.dispose()
    with raw(path) as connection:
        assert "details_json" not in [c[1] for c in connection.execute("PRAGMA table_info(models)")]


def test_random_bytes_are_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(os.urandom(64 * 1024))
    with pytest.raises(StoreError, match=r"bad\.db is not a usable AgentGap database .*--db"):
        open_database(bad)
    assert bad.stat().st_size == 64 * 1024  # left alone


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    open_database(newer).close()
    with raw(newer) as connection:
        connection.execute("update alembic_version set version_num = '9999'")
    with pytest.raises(StoreError, match=r"written by a newer AgentGap \(schema 9999, this version knows up to"):
        open_database(newer)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with raw(other) as connection:
        connection.execute("create table contacts (id integer primary key, name text)")
    with pytest.raises(StoreError, match=r"another program .*contacts"):
        open_database(other)
    with raw(other) as connection:  # untouched
        assert [r[0] for r in connection.execute("select name from sqlite_master where type='table'")] == ["contacts"]


def test_a_folder_is_not_a_database_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        open_database(tmp_path)


def test_default_path_is_in_the_user_data_folder_unless_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTGAP_HOME", raising=False)
    monkeypatch.delenv("AGENTGAP_DB", raising=False)
    assert default_database_path() == platformdirs.user_data_path("AgentGap", appauthor=False) / "agentgap.db"
    monkeypatch.setenv("AGENTGAP_DB", str(tmp_path / "elsewhere.db"))
    assert default_database_path() == tmp_path / "elsewhere.db"


def test_two_opens_of_a_new_file_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    errors: list[BaseException] = []
    opened: list[Database] = []

    def open_it() -> None:
        try:
            opened.append(open_database(path))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(_schema_diff(db) == [] for db in opened)
    for db in opened:
        db.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("select count(*) from alembic_version").fetchone()[0] == 1


def test_the_schema_head_read_from_the_scripts_is_alembics_head() -> None:
    assert schema_head() == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_opening_an_up_to_date_database_loads_nothing_of_alembic(tmp_path: Path) -> None:
    """Alembic and the SQL dialects it imports cost a running app ~20 MB; only migrating needs them."""
    path = tmp_path / "current.db"
    open_database(path).close()  # created and migrated here
    probe = (
        "import sys\n"
        "from app.core.store.database import open_database\n"
        f"open_database({str(path)!r}).close()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('alembic', 'mako'))}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
