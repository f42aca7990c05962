"""Alembic environment: the connection comes from portal.migrate, or from FLOWPORT_* settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import portal.models_registry  # noqa: F401  (imports every table so autogenerate sees them)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from portal.db import build_engine
    from portal.settings import Settings

    engine = build_engine(Settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
