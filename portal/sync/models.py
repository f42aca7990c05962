"""Persisted pull-sync state: one row per connection (lease, validators, run totals) and one per
resource (its cursor), so a sync resumes where the last committed page left it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# The row of a connection itself (its lease and conditional-request validators) has this resource.
CONNECTION_ROW = ""


class SyncStateRow(SQLModel, table=True):
    """Sync state of one tool connection (resource "") or of one of its resources (e.g. "pulls")."""

    __tablename__ = "sync_states"
    __table_args__ = (
        UniqueConstraint("source", "connection", "resource", name="uq_sync_state"),
        Index("ix_sync_states_last_sync_at", "last_sync_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=50)
    connection: str = Field(max_length=100)
    resource: str = Field(max_length=200, default=CONNECTION_ROW)
    # JSON written by the plugin; only advanced in the transaction that stores that page's records.
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # JSON {url: [etag, last_modified, last_used_epoch]} for If-None-Match / If-Modified-Since.
    validators: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_sync_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # What the last run did: requests sent, of which answered 304, and records written.
    last_requests: int = 0
    last_not_modified: int = 0
    last_records: int = 0
    requests_total: int = 0
    # Who is syncing this connection now, and until when the claim holds unless renewed.
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None
    updated_at: datetime | None = None
