"""Read flow records: entity linking through annotations, time windows and keyset paging."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Row, and_, false, func, or_, select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogSearch
from portal.catalog.refs import RefError, parse_ref
from portal.errors import CatalogApiError
from portal.flow.first_commit import first_commit_at
from portal.flow.incident_history import incident_histories
from portal.flow.models import (
    FlowChange,
    FlowCommit,
    FlowDeployment,
    FlowIncident,
    FlowPipelineRun,
    FlowRelease,
    FlowWorkItem,
)
from portal.flow.records import parse_time
from portal.web.input_checks import json_has_nul

# Annotations through which a catalog entity claims the records of a tool.
# How entities claim flow records; CDEvents from tools without a known repository use their source.
LINK_ANNOTATIONS = ("github.com/project-slug", "gitlab.com/project-slug", "jira/project-key",
                    "pagerduty.com/service-id", "flowport.dev/cdevents-source")
ANNOTATION_KEY_PREFIX = "metadata.annotations."
CURSOR_VERSION = 1


@dataclass(frozen=True)
class FlowKind:
    """One record collection of the flow API: its URL name, table and main time column."""

    slug: str
    model: type
    time_field: str
    # Columns computed in SQL whose values replace the stored ones in the JSON (a change's first commit).
    derived: Callable[[], dict] | None = None
    # A second time for records without the main one (a draft release has not been published yet).
    fallback_field: str | None = None

    def time_columns(self) -> list[str]:
        """The columns the main time is taken from, first non-null wins, then when the row was written."""
        return [name for name in (self.time_field, self.fallback_field) if name] + ["updated_at"]

    def sort_time(self):  # noqa: ANN201 - a SQL expression
        """The main time, falling back to when the row was written so undated records still sort."""
        return func.coalesce(*(getattr(self.model, name) for name in self.time_columns()))

    def select(self):  # noqa: ANN201 - a SELECT
        """The kind's rows, each with its derived columns labelled by the column they replace."""
        derived = self.derived() if self.derived else {}
        return select(self.model, *(expression.label(name) for name, expression in derived.items()))


FLOW_KINDS = {kind.slug: kind for kind in (
    FlowKind("changes", FlowChange, "created_at", derived=lambda: {"first_commit_at": first_commit_at()}),
    FlowKind("commits", FlowCommit, "authored_at"),
    FlowKind("deployments", FlowDeployment, "started_at"),
    FlowKind("incidents", FlowIncident, "created_at"),
    FlowKind("pipeline-runs", FlowPipelineRun, "started_at"),
    FlowKind("releases", FlowRelease, "published_at", fallback_field="created_at"),
    FlowKind("work-items", FlowWorkItem, "created_at"),
)}

Link = tuple[str, str]


@dataclass
class FlowPage:
    """One page of records, already in their JSON shape."""

    items: list[dict]
    total_items: int
    next_cursor: str | None = None
    prev_cursor: str | None = None


@dataclass
class FlowQuery:
    """What a page asks for; a cursor carries the same fields so later pages keep the filters."""

    kind: str
    entity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    position: list = field(default_factory=list)  # [time ISO, id] of the boundary row
    backwards: bool = False


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is UTC:
        # Most values come through the column type already in UTC: a page reads tens of thousands.
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """`2024-05-01T10:00:00Z`-style text (microseconds kept when there are any)."""
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def parse_api_time(value: str | None, name: str) -> datetime | None:
    """A query-string time; anything unparseable is a 400 that names the parameter."""
    if value is None or not value.strip():
        return None
    parsed = parse_time(value.strip())
    if parsed is None:
        raise CatalogApiError(400, f"{name}={value!r} is not a time; use ISO-8601 such as 2024-05-01T00:00:00Z")
    return parsed.astimezone(UTC)


def entity_links(session: Session, ref: str) -> tuple[str, list[Link]]:
    """The entity's lower-cased ref and its (annotation, value) links; 400 if malformed, 404 if unknown."""
    try:
        key = parse_ref(ref, default_kind="component").key
    except RefError as error:
        raise CatalogApiError(400, f"entity={ref!r} is not an entity reference: {error}") from None
    uid = session.execute(select(CatalogEntity.uid).where(CatalogEntity.entity_ref == key)).scalar_one_or_none()
    if uid is None:
        raise CatalogApiError(404, f"No entity {key} in the catalog")
    rows = session.execute(
        select(CatalogSearch.key, CatalogSearch.value).where(
            CatalogSearch.entity_uid == uid,
            CatalogSearch.key.in_([ANNOTATION_KEY_PREFIX + name for name in LINK_ANNOTATIONS]),
            CatalogSearch.value.is_not(None),
        )
    ).all()
    return key, sorted((name[len(ANNOTATION_KEY_PREFIX):], value) for name, value in rows)


def link_condition(model: type, links: Sequence[Link]):  # noqa: ANN201 - a SQL expression
    """Rows linked through any of `links`; nothing when the entity has no link annotations."""
    if not links:
        return false()
    return or_(*(and_(model.link_annotation == name, model.link_value == value) for name, value in links))


def entity_refs_by_link(session: Session, links: Iterable[Link]) -> dict[Link, list[str]]:
    """All entities claiming each link, found in one query for a whole page of records."""
    wanted = {(name, value) for name, value in links if name and value}
    if not wanted:
        return {}
    rows = session.execute(
        select(CatalogSearch.key, CatalogSearch.value, CatalogEntity.entity_ref)
        .join(CatalogEntity, CatalogEntity.uid == CatalogSearch.entity_uid)
        .where(CatalogSearch.key.in_({ANNOTATION_KEY_PREFIX + name for name, _ in wanted}),
               CatalogSearch.value.in_({value for _, value in wanted}))
    ).all()
    found: dict[Link, set[str]] = {}
    for key, value, ref in rows:
        link = (key[len(ANNOTATION_KEY_PREFIX):], value)
        if link in wanted:
            found.setdefault(link, set()).add(ref)
    return {link: sorted(refs) for link, refs in found.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def record_json(row: object, entity_refs: list[str], derived: dict | None = None) -> dict:
    """Every column camelCased (derived values replacing stored ones), times as ISO-8601 UTC,
    plus the entities the record belongs to."""
    values = {column.name: getattr(row, column.name) for column in row.__table__.columns}
    values.update(derived or {})
    item = {_camel(name): iso(value) if isinstance(value, datetime) else value for name, value in values.items()}
    item["entityRefs"] = entity_refs
    return item


def _with_derived(row: object) -> tuple[object, dict]:
    """A record and its derived values, from a FlowKind.select() row or a bare record."""
    if isinstance(row, Row):
        record, *derived = row
        return record, dict(zip(row._fields[1:], derived, strict=True))
    return row, {}


def records_json(session: Session, rows: Sequence[object]) -> list[dict]:
    """Records (or FlowKind.select() rows) to JSON items, with entityRefs for the batch computed at once."""
    pairs = [_with_derived(row) for row in rows]
    refs = entity_refs_by_link(session, ((record.link_annotation, record.link_value) for record, _ in pairs))
    items = [record_json(record, refs.get((record.link_annotation, record.link_value), []), derived)
             for record, derived in pairs]
    incidents = [record.id for record, _ in pairs if isinstance(record, FlowIncident)]
    if incidents:
        # An incident's status changes (a reopen among them) come with it: restore time needs them.
        histories = incident_histories(session, incidents)
        for item in items:
            if item["id"] in histories:
                item["history"] = [{**entry, "at": iso(entry["at"])} for entry in histories[item["id"]]]
    return items


def encode_cursor(query: FlowQuery) -> str:
    """An opaque, URL-safe token holding the filters and the boundary position."""
    payload = {"v": CURSOR_VERSION, "k": query.kind, "e": query.entity, "s": iso(query.since),
               "u": iso(query.until), "p": query.position, "b": query.backwards}
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str, kind: str, limit: int) -> FlowQuery:
    """Parse a token from encode_cursor for the same collection; anything else is a 400."""
    problem = CatalogApiError(400, "Malformed cursor, could not be parsed; start again without a cursor")
    try:
        raw = base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode())
        if json_has_nul(raw):  # a NUL hidden in a cursor would reach PostgreSQL, which cannot compare it
            raise ValueError("NUL in cursor")
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested 1,000 deep
        raise problem from None
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        raise problem
    position = payload.get("p")
    if not (isinstance(position, list) and len(position) == 2 and all(isinstance(p, str) for p in position)):
        raise problem
    if payload.get("k") != kind:
        raise CatalogApiError(400, f"This cursor pages through {payload.get('k')}, not {kind}")
    try:
        since, until = parse_time(payload.get("s")), parse_time(payload.get("u"))
        time = parse_time(position[0])
    except (TypeError, ValueError):
        raise problem from None
    if time is None or not (payload.get("e") is None or isinstance(payload.get("e"), str)):
        raise problem
    return FlowQuery(kind=kind, entity=payload.get("e"), since=since, until=until, limit=limit,
                     position=position, backwards=bool(payload.get("b")))


def _position_of(kind: FlowKind, row: object) -> list[str]:
    time = next(value for value in (getattr(row, name) for name in kind.time_columns()) if value is not None)
    return [as_utc(time).isoformat(), row.id]


def list_records(session: Session, query: FlowQuery) -> FlowPage:
    """A page of records, newest first (by main time, then id), with cursors both ways."""
    kind = FLOW_KINDS[query.kind]
    model, sort_time = kind.model, kind.sort_time()
    conditions = []
    if query.entity is not None:
        query.entity, links = entity_links(session, query.entity)
        conditions.append(link_condition(model, links))
    if query.since is not None:
        conditions.append(sort_time >= query.since)
    if query.until is not None:
        conditions.append(sort_time < query.until)
    total = session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()
    statement = kind.select().where(*conditions)
    if query.position:
        time, row_id = parse_time(query.position[0]).astimezone(UTC), query.position[1]
        if query.backwards:
            conditions_after = or_(sort_time > time, and_(sort_time == time, model.id > row_id))
        else:
            conditions_after = or_(sort_time < time, and_(sort_time == time, model.id < row_id))
        statement = statement.where(conditions_after)
    if query.backwards:
        statement = statement.order_by(sort_time.asc(), model.id.asc())
    else:
        statement = statement.order_by(sort_time.desc(), model.id.desc())
    rows = list(session.execute(statement.limit(query.limit + 1)).all())
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if query.backwards:
        rows.reverse()
    page = FlowPage(items=records_json(session, rows), total_items=total)
    if rows:
        # Going back there is always a page after this one (the one we came from), and vice versa.
        has_older = more if not query.backwards else True
        has_newer = more if query.backwards else bool(query.position)
        if has_older:
            page.next_cursor = encode_cursor(_step(query, _position_of(kind, rows[-1][0]), backwards=False))
        if has_newer:
            page.prev_cursor = encode_cursor(_step(query, _position_of(kind, rows[0][0]), backwards=True))
    return page


def _step(query: FlowQuery, position: list[str], backwards: bool) -> FlowQuery:
    return FlowQuery(kind=query.kind, entity=query.entity, since=query.since, until=query.until,
                     limit=query.limit, position=position, backwards=backwards)
