"""Task tables: one row per template run, and its append-only event log (Backstage's task events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

# The table `request_id` points at must be known wherever tasks are written (a worker process too).
from portal.requests import models as _request_models  # noqa: F401

OPEN, PROCESSING, COMPLETED, FAILED, CANCELLED = "open", "processing", "completed", "failed", "cancelled"
STATUSES = (OPEN, PROCESSING, COMPLETED, FAILED, CANCELLED)
FINISHED = (COMPLETED, FAILED, CANCELLED)
EVENT_TYPES = ("log", "completion", "cancelled", "recovered")


class ScaffolderTask(SQLModel, table=True):
    """A run of a template: the template as it was when the run was asked for, its values and progress."""

    __tablename__ = "scaffolder_tasks"
    __table_args__ = (
        # Workers look for open tasks oldest first, and for processing ones whose heartbeat stopped.
        Index("ix_scaffolder_tasks_status_created", "status", "created_at"),
        Index("ix_scaffolder_tasks_created_by", "created_by", "created_at"),
        Index("ix_scaffolder_tasks_request", "request_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    template_ref: str = Field(max_length=400)
    # A snapshot: a catalog change after creation must not change what a run does.
    template: dict = Field(sa_column=Column(JSON, nullable=False))
    values: dict = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=400)
    status: str = Field(max_length=20)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=200)
    heartbeat_at: datetime | None = None
    attempts: int = Field(default=0)
    cancel_requested: bool = Field(default=False)
    # Whether secrets were given: their values live only in the memory of the process that took them.
    needs_secrets: bool = Field(default=False)
    output: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    request_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("requests.id", ondelete="SET NULL"), nullable=True))


class ScaffolderTaskEvent(SQLModel, table=True):
    """One event of a task; rows are only ever added. `id` is what `after` and Last-Event-ID refer to."""

    __tablename__ = "scaffolder_task_events"
    __table_args__ = (Index("ix_scaffolder_task_events_task", "task_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(sa_column=Column(String(36), ForeignKey("scaffolder_tasks.id", ondelete="CASCADE"),
                                          nullable=False))
    type: str = Field(max_length=20)
    body: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
