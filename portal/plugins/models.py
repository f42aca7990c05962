"""Connections configured through the admin UI/API (env-var connections are not stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class PluginConnection(SQLModel, table=True):
    """One connection of a plugin; secret fields are stored encrypted or as env-var references."""

    __tablename__ = "plugin_connections"
    __table_args__ = (UniqueConstraint("plugin", "name", name="uq_plugin_connection"),)

    id: int | None = Field(default=None, primary_key=True)
    plugin: str = Field(max_length=50)
    name: str = Field(max_length=100)
    config: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    updated_at: datetime
