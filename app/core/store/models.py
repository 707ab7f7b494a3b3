"""SQLAlchemy 2 typed models of runs, models, tasks, attempts and transcript events.

Every change here needs a migration in ``migrations/versions`` (a test compares the
migrated schema with these models).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RUN_STATUSES = ("planned", "running", "finished", "cancelled", "interrupted")
ATTEMPT_STATUSES = ("pending", "running", "done")


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float, index=True)
    finished_at: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # one of RUN_STATUSES
    app_version: Mapped[str] = mapped_column(String(32), default="")
    notes_json: Mapped[str] = mapped_column(Text, default="{}")
    # how commands and checks were confined: "bubblewrap", "sandbox-exec", "process" ("" before 0004)
    isolation: Mapped[str] = mapped_column(String(32), default="", server_default="")


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("provider", "host", "name", "digest", name="uq_model_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str | None] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(512))  # ModelRef.label, what views show
    details_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")  # family, size, quantization…


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("task_id", "content_hash", name="uq_task_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suite: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(128))
    tier: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text, default="")


class AttemptRow(Base):
    """One planned attempt; result columns stay empty until it finishes.

    Indexes: plan order (run, seq); resume (run, status, …); a model's history on a
    task across runs; outcome filters; and a run's attempts by model × task × settings
    (run, model, task, settings, outcome). Counts for the history and compare views come
    from ``CellTotalRow`` and ``OutcomeTotalRow``, not from grouping these rows.
    """

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_run_seq", "run_id", "seq"),
        Index("ix_attempts_run_status", "run_id", "status", "outcome", "model_id", "task_row_id"),
        Index("ix_attempts_model_task_outcome", "model_id", "task_row_id", "outcome"),
        Index("ix_attempts_run_cell", "run_id", "model_id", "task_row_id", "settings_key", "outcome"),
        Index("ix_attempts_outcome", "outcome"),
        Index("ix_attempts_settings", "settings_key", "model_id", "task_row_id"),
    )

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    task_row_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    repeat: Mapped[int] = mapped_column(Integer)
    settings_key: Mapped[str] = mapped_column(String(16))
    settings_label: Mapped[str] = mapped_column(String(128), default="")
    settings_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # one of ATTEMPT_STATUSES
    outcome: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    final_answer: Mapped[str] = mapped_column(Text, default="")
    infra_retries: Mapped[int] = mapped_column(Integer, default=0)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    calls_valid: Mapped[int] = mapped_column(Integer, default=0)
    calls_recovered: Mapped[int] = mapped_column(Integer, default=0)
    calls_malformed: Mapped[int] = mapped_column(Integer, default=0)
    calls_rejected: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    ttft_s: Mapped[float | None] = mapped_column(Float)
    tokens_per_s: Mapped[float | None] = mapped_column(Float)
    load_s: Mapped[float | None] = mapped_column(Float)
    wall_s: Mapped[float | None] = mapped_column(Float)
    harness_s: Mapped[float | None] = mapped_column(Float)
    context_window: Mapped[int | None] = mapped_column(Integer)  # the server's context in force (num_ctx, n_ctx)
    started_at: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    checks_json: Mapped[str] = mapped_column(Text, default="[]")


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_attempt_seq", "attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Float)
    payload_json: Mapped[str] = mapped_column(Text)


class CellTotalRow(Base):
    """Running counters of one run × model × task × settings cell, kept by every write.

    The compare view and the history read these few rows instead of grouping every
    attempt. Each counter is what a GROUP BY over the cell's attempts would give (see
    ``totals.py``, which keeps them exact). Means are stored as sums with their counts.
    """

    __tablename__ = "cell_totals"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    task_row_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    settings_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    settings_label: Mapped[str] = mapped_column(String(128))
    total: Mapped[int] = mapped_column(Integer)  # attempts planned
    done: Mapped[int] = mapped_column(Integer)
    passed: Mapped[int] = mapped_column(Integer)
    partial: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer)  # with an outcome that counts: not infra, not cancelled
    infra: Mapped[int] = mapped_column(Integer)
    budget_exceeded: Mapped[int] = mapped_column(Integer)  # turn, token or time budget
    malformed_calls: Mapped[int] = mapped_column(Integer)
    turns_on_pass: Mapped[int] = mapped_column(Integer)  # sum of turns of passed attempts
    tokens_per_s_sum: Mapped[float] = mapped_column(Float)
    tokens_per_s_count: Mapped[int] = mapped_column(Integer)
    wall_s_sum: Mapped[float] = mapped_column(Float)
    wall_s_count: Mapped[int] = mapped_column(Integer)


class OutcomeTotalRow(Base):
    """How many attempts of a run and model ended each way (for the failure breakdown).

    A count that falls to zero (an outcome replaced by another) keeps its row; readers
    skip it.
    """

    __tablename__ = "outcome_totals"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
