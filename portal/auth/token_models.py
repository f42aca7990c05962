"""API tokens: personal (act as their user) or service (act for a group), stored only as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

TOKEN_SCOPES = ("read", "request", "admin")
TOKEN_KINDS = ("personal", "service")


class ApiToken(SQLModel, table=True):
    """One token; the secret part is never stored, only its SHA-256."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    # The public part of the token (`fpt_<prefix>_…`), unique, to find the row without the secret.
    prefix: str = Field(max_length=20, unique=True)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    # personal: the user it acts as; service: the group it acts for.
    subject_ref: str = Field(max_length=300, index=True)
    scopes: str = Field(max_length=100)
    created_at: datetime
    created_by: str = Field(max_length=300)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_from: str | None = Field(default=None, max_length=100)
