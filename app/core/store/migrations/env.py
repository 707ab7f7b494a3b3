"""Alembic environment: migrations run in-process on a connection the app hands over.

``open_database`` passes its live connection in ``config.attributes["connection"]``.
A ``sqlalchemy.url`` main option works too, for drafting a new revision after a change
to ``models.py`` (then read it, tidy it and give it a test)::

    from alembic import command
    from app.core.store.database import _alembic_config
    config = _alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite:////tmp/scratch.db")
    command.upgrade(config, "head")
    command.revision(config, "what changed", autogenerate=True, rev_id="0003")

``render_as_batch`` keeps ALTERs SQLite-safe either way.
"""

from alembic import context
from sqlalchemy import Connection, create_engine

from app.core.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url set")
    with create_engine(url).connect() as connection:
        _run(connection)
