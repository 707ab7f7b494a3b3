"""SQLite storage: typed models, Alembic migrations, one writer thread, read queries."""
