"""Entities by ref or uid in one hand-written statement, with their relations aggregated in SQL.

by-name and by-uid are the catalog's hottest reads (Backstage's client calls them for every entity
page and every ref it resolves). Through the ORM a point read cost four times the statement itself
(session bookkeeping, statement compilation, identity map), so these run a fixed textual statement
on a plain connection and build the entity straight from the row."""

from __future__ import annotations

import json

from sqlalchemy import Connection, TextClause, bindparam, text

from portal.catalog.refs import RefError, parse_ref
from portal.catalog.store import entity_from_row

# Named like CatalogEntity's attributes, so entity_from_row reads the row as it reads a model.
_COLUMNS = "e.body, e.uid, e.etag, e.orphan, e.errors"
_RELATIONS = {
    # Pairs as JSON arrays: ([type, targetRef], ...), decoded by relations_from_column.
    "postgresql": "(SELECT json_agg(json_build_array(r.type, r.target_ref)) FROM catalog_relations r "
                  "WHERE r.source_ref = e.entity_ref)",
    "sqlite": "(SELECT json_group_array(json_array(r.type, r.target_ref)) FROM catalog_relations r "
              "WHERE r.source_ref = e.entity_ref)",
}
_statements: dict[tuple[str, str, bool], TextClause] = {}


def _statement(connection: Connection, key_column: str, many: bool = False) -> TextClause:
    # Built once per dialect and key: SQLAlchemy caches the compiled form of a reused text() object.
    dialect = connection.dialect.name
    statement = _statements.get((dialect, key_column, many))
    if statement is None:
        condition = f"e.{key_column} IN :keys" if many else f"e.{key_column} = :key"
        statement = text(f"SELECT {_COLUMNS}, {_RELATIONS[dialect]} AS relations FROM catalog_entities e "
                         f"WHERE {condition}")
        if many:
            statement = statement.bindparams(bindparam("keys", expanding=True))
        _statements[(dialect, key_column, many)] = statement
    return statement


def entity_by_ref(connection: Connection, ref: str | dict) -> dict | None:
    """The entity `ref` names (`kind:namespace/name`, namespace optional, any case), or None."""
    try:
        key = parse_ref(ref).key
    except RefError:
        return None
    return _entity(connection.execute(_statement(connection, "entity_ref"), {"key": key}).first())


def entity_by_uid(connection: Connection, uid: str) -> dict | None:
    """The entity with this uid, or None."""
    return _entity(connection.execute(_statement(connection, "uid"), {"key": uid}).first())


def entities_by_uids(connection: Connection, uids: list[str]) -> list[dict]:
    """The entities with these uids, in the order given (missing ones left out), in one statement."""
    if not uids:
        return []
    rows = connection.execute(_statement(connection, "uid", many=True), {"keys": uids}).all()
    by_uid = {row.uid: row for row in rows}
    return [_entity(by_uid[uid]) for uid in uids if uid in by_uid]


def _entity(row) -> dict | None:  # noqa: ANN001 - a result row
    return None if row is None else entity_from_row(row, relations_from_column(row.relations))


def relations_from_column(value: object) -> list[dict]:
    """Decode relations aggregated as JSON pairs (PostgreSQL hands JSON over decoded, SQLite as text; none is NULL or
    []), distinct and in (type, target) order like `assemble`."""
    pairs = value if isinstance(value, list) else json.loads(value or "[]")
    return [{"type": rel_type, "targetRef": target} for rel_type, target in sorted({tuple(p) for p in pairs})]
