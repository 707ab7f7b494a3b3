"""Summary totals per run × model × task × settings and per run × model × outcome.

Creates ``cell_totals`` and ``outcome_totals`` and fills them from the attempts already
stored, so an upgraded database reads the same numbers as before. The SQL is written
out here (not imported) so this revision keeps doing what it did when the models move on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BACKFILL_CELLS = """
INSERT INTO cell_totals (
    run_id, model_id, task_row_id, settings_key, settings_label, total, done, passed, partial, scored,
    infra, budget_exceeded, malformed_calls, turns_on_pass, tokens_per_s_sum, tokens_per_s_count,
    wall_s_sum, wall_s_count
)
SELECT
    run_id, model_id, task_row_id, settings_key, max(settings_label), count(*),
    sum(status = 'done'),
    sum(outcome IS 'passed'),
    sum(outcome IS 'partial'),
    sum(outcome IS NOT NULL AND outcome NOT IN ('infra_error', 'cancelled')),
    sum(outcome IS 'infra_error'),
    sum(outcome IS NOT NULL AND outcome IN ('turn_budget', 'token_budget', 'time_budget')),
    coalesce(sum(calls_malformed), 0),
    coalesce(sum(CASE WHEN outcome IS 'passed' THEN turns ELSE 0 END), 0),
    total(tokens_per_s), count(tokens_per_s),
    total(wall_s), count(wall_s)
FROM attempts
GROUP BY run_id, model_id, task_row_id, settings_key
"""

BACKFILL_OUTCOMES = """
INSERT INTO outcome_totals (run_id, model_id, outcome, total)
SELECT run_id, model_id, outcome, count(*)
FROM attempts
WHERE outcome IS NOT NULL
GROUP BY run_id, model_id, outcome
"""


def upgrade() -> None:
    op.create_table(
        "cell_totals",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("task_row_id", sa.Integer(), nullable=False),
        sa.Column("settings_key", sa.String(length=16), nullable=False),
        sa.Column("settings_label", sa.String(length=128), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("infra", sa.Integer(), nullable=False),
        sa.Column("budget_exceeded", sa.Integer(), nullable=False),
        sa.Column("malformed_calls", sa.Integer(), nullable=False),
        sa.Column("turns_on_pass", sa.Integer(), nullable=False),
        sa.Column("tokens_per_s_sum", sa.Float(), nullable=False),
        sa.Column("tokens_per_s_count", sa.Integer(), nullable=False),
        sa.Column("wall_s_sum", sa.Float(), nullable=False),
        sa.Column("wall_s_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_row_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("run_id", "model_id", "task_row_id", "settings_key"),
    )
    op.create_table(
        "outcome_totals",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "model_id", "outcome"),
    )
    op.execute(BACKFILL_CELLS)
    op.execute(BACKFILL_OUTCOMES)


def downgrade() -> None:
    op.drop_table("outcome_totals")
    op.drop_table("cell_totals")
