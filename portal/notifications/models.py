"""The notifications table: one row per person and thing that happened, read or not yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

# What a notification is about; pages and clients may show them differently.
KINDS = ("stage-changed", "approval-needed", "new-work", "new-idea", "value-requested")


class Notification(SQLModel, table=True):
    """Something that happened to a request, for one recipient (a catalog user ref)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The bell counts a person's unread rows, and the page lists a person's rows newest first.
        Index("ix_notifications_recipient_read", "recipient_ref", "read_at", "id"),
        Index("ix_notifications_recipient_id", "recipient_ref", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_ref: str = Field(max_length=400)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=30)
    text: str = Field(max_length=500)
    created_at: datetime
    read_at: datetime | None = None
