"""Open the SQLite database (WAL), bring its schema up to date with Alembic.

``open_database(path)`` is the only way in: it creates the folder, checks that the file
is an AgentGap database this version understands, migrates it to the newest schema in
one locked transaction, and hands back a ``Database`` (engine + session factory).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, NullPool, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.core.paths import default_database_path
from app.core.store.models import Base

if TYPE_CHECKING:  # Alembic (and the SQL dialects it pulls in) loads only to migrate
    from alembic.config import Config

__all__ = ["MIGRATIONS", "Database", "StoreError", "default_database_path", "open_database", "schema_head"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 5000  # how long a connection waits for another one's write lock


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class Database:
    """An engine plus a session factory; readers open short sessions from any thread.

    ``plan_lock`` serialises the few writes made outside the writer thread (storing a
    plan) so two of them never race on the same model or task row.
    """

    def __init__(self, path: Path, engine: Engine, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only  # on a read-only filesystem: reading works, writing fails
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.plan_lock = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL. The switch needs an exclusive lock and SQLite does not
    always wait for it (two processes creating the file at once), so retry a while."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _pragmas(foreign_keys: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    return on_connect


def _engine(path: Path, *, foreign_keys: bool = True, **kwargs: Any) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False}, **kwargs)
    event.listen(engine, "connect", _pragmas(foreign_keys))
    return engine


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_REVISION = re.compile(r'^(down_revision|revision)\s*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@cache
def schema_head() -> str:
    """The newest schema revision this version of AgentGap knows: the one no migration
    script names as its ``down_revision`` (read from the scripts without loading Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {sorted(heads)}"
    return heads.pop()


def stored_revision(connection: Connection) -> str | None:
    """The schema revision a database file says it holds; None for a file without one."""
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).first()
    if found is None:
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def _migrate(path: Path, connection: Connection) -> None:
    """Check what the file holds and upgrade it; the caller holds the write lock."""
    if stored_revision(connection) == schema_head():
        return  # up to date: nothing of Alembic is needed
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config(connection)
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    current = MigrationContext.configure(connection).get_current_revision()
    known = {s.revision for s in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"{path} was written by a newer AgentGap (schema {current}, this version knows "
            f"up to {head}); update AgentGap, or choose another database file with --db"
        )
    if current is None:
        ours = set(Base.metadata.tables)
        foreign = set(inspect(connection).get_table_names()) - ours - {"alembic_version"}
        if foreign:
            listed = ", ".join(sorted(foreign)[:5])
            raise StoreError(
                f"{path} is an SQLite database of another program (tables: {listed}); "
                "choose another file with --db"
            )
    if current != head:
        command.upgrade(config, "head")
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreError(f"migrating {path} broke {len(problems)} reference(s); it was left unchanged")


def _read_only_file(path: Path) -> bool:
    """An existing database on a read-only filesystem (or one this user cannot write)."""
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _open_read_only(path: Path) -> Database:
    """Open a database that cannot be written, for reading only; it must be up to date."""
    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
    engine = create_engine(
        f"sqlite:///file:{path}?mode=ro{immutable}&uri=true",
        connect_args={"check_same_thread": False},
    )
    try:
        with engine.connect() as connection:
            current = stored_revision(connection)
    except (DBAPIError, sqlite3.Error) as error:
        engine.dispose()
        reason = getattr(error, "orig", None) or error
        raise StoreError(f"{path} is read-only and cannot be read as a database ({reason})") from error
    if current != schema_head():
        engine.dispose()
        raise StoreError(
            f"{path} is read-only and its schema ({current}) is not this version's; "
            "copy it somewhere writable, or choose another file with --db"
        )
    return Database(path, engine, read_only=True)


def open_database(path: Path) -> Database:
    """Open (creating if needed) and migrate; raise ``StoreError`` in plain words.

    Migrations run on their own connection with foreign keys off (a batch migration
    that copies a table must not cascade-delete the rows that point at it) inside one
    ``BEGIN IMMEDIATE`` transaction, so they are all-or-nothing and two processes opening
    the same file at once migrate it only once.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for the database {path}: {error}") from error
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give the path of a database file")
    if _read_only_file(path):
        return _open_read_only(path)
    migrator = _engine(path, foreign_keys=False, poolclass=NullPool)
    try:
        with migrator.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            _migrate(path, connection)
            connection.commit()
    except StoreError:
        raise
    except (DBAPIError, sqlite3.Error) as error:
        reason = getattr(error, "orig", None) or error
        raise StoreError(
            f"{path} is not a usable AgentGap database ({reason}); "
            "move it aside, or choose another file with --db"
        ) from error
    finally:
        migrator.dispose()
    return Database(path, _engine(path))
