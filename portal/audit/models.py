"""One row per privileged action the policy decided on; rows are never changed (see the migration's triggers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

OUTCOMES = ("succeeded", "failed", "denied")


class AuditEvent(SQLModel, table=True):
    """Who did what to which resource, when, from where, and how it ended."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_id", "actor", "id"),
        Index("ix_audit_events_action_id", "action", "id"),
    )

    # SQLite numbers rows itself only for an INTEGER primary key; PostgreSQL gets a bigint.
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"),
                                                          primary_key=True, autoincrement=True))
    at: datetime = Field(index=True)
    # The catalog User ref, or "anonymous" (development playground, or a refused caller).
    actor: str = Field(max_length=300)
    action: str = Field(max_length=200)
    resource: str | None = Field(default=None, max_length=500)
    outcome: str = Field(max_length=20)
    status_code: int | None = None
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    client_address: str | None = Field(default=None, max_length=100)
    user_agent: str | None = Field(default=None, max_length=300)
    # Why it was denied or failed, for people reading the log.
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
