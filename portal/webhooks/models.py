"""The webhook inbox: every delivery exactly as received, the source of truth for flow data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# pending -> processed | ignored, or failed (retried with backoff) -> parked after too many attempts
DELIVERY_STATUSES = ("pending", "processed", "failed", "ignored", "parked")


class WebhookDelivery(SQLModel, table=True):
    """One delivery from a tool; unique per tool connection and the tool's own delivery id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "connection", "delivery_id", name="uq_webhook_delivery"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=50)
    connection: str = Field(max_length=100)
    delivery_id: str = Field(max_length=300)
    event_type: str = Field(max_length=200)
    headers: str = Field(sa_column=Column(Text, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(max_length=200)
    received_at: datetime = Field(index=True)
    status: str = Field(max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    processed_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
