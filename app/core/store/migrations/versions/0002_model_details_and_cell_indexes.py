"""Model details; indexes for run summaries and model × task × settings aggregates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: SQLite does it in place, no table copy
    with op.batch_alter_table("models") as batch_op:
        batch_op.add_column(sa.Column("details_json", sa.Text(), server_default="{}", nullable=False))
    op.drop_index("ix_attempts_run_model_task", table_name="attempts")
    op.drop_index("ix_attempts_run_status", table_name="attempts")
    op.drop_index("ix_attempts_settings", table_name="attempts")
    op.create_index("ix_attempts_run_status", "attempts", ["run_id", "status", "outcome", "model_id", "task_row_id"])
    op.create_index(
        "ix_attempts_run_cell", "attempts", ["run_id", "model_id", "task_row_id", "settings_key", "outcome"]
    )
    op.create_index("ix_attempts_settings", "attempts", ["settings_key", "model_id", "task_row_id"])


def downgrade() -> None:
    op.drop_index("ix_attempts_settings", table_name="attempts")
    op.drop_index("ix_attempts_run_cell", table_name="attempts")
    op.drop_index("ix_attempts_run_status", table_name="attempts")
    op.create_index("ix_attempts_settings", "attempts", ["settings_key"])
    op.create_index("ix_attempts_run_status", "attempts", ["run_id", "status"])
    op.create_index("ix_attempts_run_model_task", "attempts", ["run_id", "model_id", "task_row_id", "outcome"])
    with op.batch_alter_table("models") as batch_op:
        batch_op.drop_column("details_json")
