"""The isolation level of each run and the context window in force for each attempt.

New outcomes (``harness_error``, ``context_limit``, ``harness_killed``) are plain strings
in ``attempts.outcome`` and need no schema change; old databases read as before, with
an empty isolation ("not recorded") and no context window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: SQLite does it in place, no table copy
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("isolation", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("attempts") as batch_op:
        batch_op.add_column(sa.Column("context_window", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch_op:
        batch_op.drop_column("context_window")
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("isolation")
