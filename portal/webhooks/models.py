"""The webhook inbox: every delivery exactly as received, the source of truth for flow data."""

from __future__ import annotations

import zlib
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
    # As received, or compressed when `body_encoding` says so: read it through received_body().
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    body_encoding: str | None = Field(default=None, max_length=20)
    content_type: str = Field(max_length=200)
    received_at: datetime = Field(index=True)
    status: str = Field(max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    processed_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def received_body(self) -> bytes:
        """The body exactly as the tool sent it."""
        return decode_body(self.body, self.body_encoding)


# Smaller bodies gain little and cost a compression each.
COMPRESS_FROM_BYTES = 1024


def encode_body(body: bytes) -> tuple[bytes, str | None]:
    """The body as stored and its encoding (None: as received). Level 1 because it runs for every
    delivery: GitHub's JSON still shrinks ~6x, for ~0.1 ms per 28 KiB payload."""
    if len(body) < COMPRESS_FROM_BYTES:
        return body, None
    packed = zlib.compress(body, 1)
    return (packed, "zlib") if len(packed) < len(body) else (body, None)


def decode_body(stored: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return stored
    if encoding == "zlib":
        return zlib.decompress(stored)
    raise ValueError(f"unknown webhook body encoding {encoding!r}")
