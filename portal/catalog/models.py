"""Catalog tables. The schema itself is owned by Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class CatalogEntity(SQLModel, table=True):
    """One stored entity: its processed descriptor (without relations) and where it came from."""

    __tablename__ = "catalog_entities"

    uid: str = Field(primary_key=True, max_length=36)
    # Lower-cased `kind:namespace/name`; the stable key refs resolve against.
    entity_ref: str = Field(unique=True, max_length=400)
    kind: str = Field(max_length=100, index=True)
    namespace: str = Field(max_length=100)
    name: str = Field(max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # JSON list of Backstage `status.items` (processing errors), or null.
    errors: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    location_key: str = Field(max_length=2000)
    origin_location_id: str | None = Field(default=None, max_length=36, index=True)
    source_line: int | None = None
    content_hash: str = Field(max_length=64)
    etag: str = Field(max_length=64)
    orphan: bool = Field(default=False)
    created_at: datetime
    updated_at: datetime


class CatalogSearch(SQLModel, table=True):
    """Flattened `key=value` pairs of each entity, lower-cased, for filters and facets."""

    __tablename__ = "catalog_search"
    __table_args__ = (
        # The entity's kind goes last: it does not change the order paging walks ((key, value,
        # original_value, entity_uid) is unique), and a kind-scoped condition is still one range.
        Index("ix_catalog_search_key_value", "key", "value", "original_value", "entity_uid", "kind"),
        # Per-entity checks ("does this entity have key=value?", the sort value of an entity) read
        # only this index; it also serves deletes by entity.
        Index("ix_catalog_search_entity_key_value", "entity_uid", "key", "value"),
    )

    # No id column and no foreign key: search rows are derived, written and deleted only with their
    # entity (portal/catalog/store.py), and always read by entity or by key/value. A serial key cost
    # PostgreSQL a sequence step and one more index per row (13 % of an import, migration 0018),
    # the foreign key a parent lookup per row (migration 0017). The mapper's key below exists for
    # SQLAlchemy only: no constraint backs it.
    __mapper_args__ = {"primary_key": ["entity_uid", "key", "value"]}

    entity_uid: str = Field(sa_column=Column(Text, nullable=False))
    key: str = Field(max_length=200)
    value: str | None = Field(default=None, max_length=200)
    original_value: str | None = Field(default=None, max_length=200)
    # The entity's kind, lower-cased (the value of its `kind` row): kind-scoped questions need no join.
    kind: str = Field(max_length=100, sa_column_kwargs={"server_default": ""})


class CatalogRelation(SQLModel, table=True):
    """A relation `source --type--> target`, stored once per direction by its originating entity."""

    __tablename__ = "catalog_relations"
    __table_args__ = (
        Index("ix_catalog_relations_type_target", "type", "target_ref"),
        # Leads with the source like the plain source index it replaced, and answers "which groups is this
        # user in" without visiting the rows (the value metrics ask it once per delivered order).
        Index("ix_catalog_relations_source_type_target", "source_ref", "type", "target_ref"),
    )

    # Derived like the search rows: no id and no foreign key (see CatalogSearch).
    __mapper_args__ = {"primary_key": ["originating_uid", "source_ref", "type", "target_ref"]}

    originating_uid: str = Field(sa_column=Column(Text, nullable=False, index=True))
    source_ref: str = Field(max_length=400)
    type: str = Field(max_length=100)
    target_ref: str = Field(max_length=400)


class CatalogLocation(SQLModel, table=True):
    """A registered location (`file` or `url`) the catalog reads entities from."""

    __tablename__ = "catalog_locations"

    id: str = Field(primary_key=True, max_length=36)
    type: str = Field(max_length=20)
    target: str = Field(max_length=2000, unique=True)
    created_at: datetime
    last_refreshed_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CatalogSource(SQLModel, table=True):
    """The last good copy of each file or URL read, so an unreachable source keeps its entities."""

    __tablename__ = "catalog_sources"

    key: str = Field(primary_key=True, max_length=2000)
    origin_location_id: str = Field(max_length=36, index=True)
    content: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    etag: str | None = Field(default=None, max_length=200)
    fetched_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CatalogProcessingError(SQLModel, table=True):
    """An error that kept an entity (or a whole file) from loading: file, line, entity, field."""

    __tablename__ = "catalog_processing_errors"

    id: int | None = Field(default=None, primary_key=True)
    origin_location_id: str = Field(max_length=36, index=True)
    location_key: str = Field(max_length=2000)
    line: int | None = None
    entity_ref: str | None = Field(default=None, max_length=400)
    field: str | None = Field(default=None, max_length=400)
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class CatalogGeneration(SQLModel, table=True):
    """A counter every catalog write bumps, so cached counts and facets know when they are stale.
    `token` is new on every bump, so no generation (even of a rolled-back write) is ever seen twice."""

    __tablename__ = "catalog_generation"

    id: int = Field(primary_key=True)
    token: str = Field(max_length=36)
    value: int = 0


class CatalogFacetCount(SQLModel, table=True):
    """How many entities of a kind have `key = original_value`, for the keys facets are asked for most.

    Kept by the store in the transaction of every write (portal/catalog/kept_counts.py), so the facets
    of those keys, and the totals of one-value filters on them, are a small lookup even right after a
    write, when the per-generation cache is empty. Only keys in kept_counts.COUNTED_KEYS are kept.
    """

    __tablename__ = "catalog_facet_counts"

    key: str = Field(primary_key=True, max_length=200)
    kind: str = Field(primary_key=True, max_length=100)
    value: str = Field(primary_key=True, max_length=200)
    original_value: str = Field(primary_key=True, max_length=200)
    entities: int
