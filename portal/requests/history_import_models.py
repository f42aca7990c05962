"""Which requests came from an imported history: the source's own id, so importing again changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel


class RequestImportKey(SQLModel, table=True):
    """One imported request: its id in the file it came from, and a digest of the line it was built from."""

    __tablename__ = "request_import_keys"
    __table_args__ = (Index("ix_request_import_keys_request", "request_id"),)

    source_id: str = Field(primary_key=True, max_length=200)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    # sha256 of the line's JSON, normalized (sorted keys): the same request with other content is told apart.
    content_digest: str = Field(max_length=64)
    imported_at: datetime
