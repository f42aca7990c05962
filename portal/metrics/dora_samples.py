"""A scope's DORA samples for a window, read from the rollup (portal/metrics/dora_rollup.py).

Each component's rows are already attributed; what is left is taking a record several components
share once, by the same rules as portal/metrics/dora.collect_samples: a change counts against the
earliest deployment that ships it among the components, an incident against the latest deployment
before it. Records are shared only through a link two components both have, so a scope without one
(the usual case) reads plain aggregates; one with a shared link makes those choices with window
functions. Many one-component reads at once (the impact view's windows) go in one batch, a few statements
for them all. A product's year is tens of thousands of numbers: they are fetched as the driver returns
them (plain tuples of floats), since SQLAlchemy's per-row work was most of the request's time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import Integer, String, and_, bindparam, distinct, func, select, text, type_coerce
from sqlmodel import Session

from portal.flow.query import Link
from portal.metrics.dora import LeadTimeMedians, Median, SampleSummary
from portal.metrics.dora_records import LOOKBACK
from portal.metrics.dora_rollup_models import DoraSample
from portal.metrics.window import Window

S = DoraSample
LEAD_COLUMNS = (S.seconds, S.coding_seconds, S.review_seconds, S.deploy_seconds)
# Items per batched statement: four parameters each stays under SQLite's oldest limit of 999 parameters.
BATCH = 200


def _of(components: list[str], kind: str, *conditions):  # noqa: ANN002, ANN202 - SQL conditions
    return (S.component_ref.in_(components), S.kind == kind, *conditions)


def _in(window: Window) -> tuple:
    return S.at >= window.start, S.at < window.end


def shares_records(components: Mapping[str, Sequence[Link]]) -> bool:
    """Whether two of the components have a link in common (and so may have records in common)."""
    counted = Counter(link for links in components.values() for link in set(links))
    return any(count > 1 for count in counted.values())


def read_summary(session: Session, components: Mapping[str, Sequence[Link]], window: Window) -> SampleSummary:
    """Counts and sample values for the window over these components' rollup rows."""
    refs = sorted(components)
    if not refs:
        nothing = Median(0, None)
        return SampleSummary(0, 0, 0, LeadTimeMedians(nothing, nothing, nothing, nothing), nothing, nothing)
    connection = session.connection()
    deployed, days = connection.execute(
        select(func.count(distinct(S.sample_id)), func.count(distinct(S.day))).where(*_of(refs, "deployment",
                                                                                          *_in(window)))).one()
    if shares_records(components):
        failed, lead_times, incidents = (_failed_shared(connection, refs, window),
                                         _lead_times_shared(connection, refs, window),
                                         _incidents_shared(connection, refs, window))
    elif connection.dialect.name == "postgresql":
        failed, lead_times, incidents = (_failed(connection, refs, window), *_medians_in_sql(connection, refs, window))
    else:
        failed, lead_times, incidents = (_failed(connection, refs, window), _lead_times(connection, refs, window),
                                         _incidents(connection, refs, window))
    return SampleSummary(deployed, days, failed, lead_times, *incidents)


def read_summaries(session: Session, wanted: Sequence[tuple[str, Window]]) -> list[SampleSummary]:
    """read_summary of each (component, window) alone, in order, in four statements per BATCH items (the
    impact view's before and after windows of every adopter): one component never shares records with
    itself, so every item is a plain read, and the items join the rollup as a table of their own."""
    connection = session.connection()
    answer: list[SampleSummary] = []
    for offset in range(0, len(wanted), BATCH):
        answer += _batch(connection, wanted[offset:offset + BATCH])
    return answer


def _items(wanted: Sequence[tuple[str, Window]]):  # noqa: ANN202 - a subquery
    """The items as a table (item, ref, start, until): a VALUES list of bound parameters typed as the rollup's
    columns, so they bind as read_summary's conditions do. Written out, since SQLite takes no column names
    after the list's alias (SQLAlchemy's values() gives them); both databases name its columns column1, ...
    (PostgreSQL plans one list in a fraction of a millisecond, a UNION ALL of 200 rows in about ten.)"""
    parameters = []
    for index, (ref, window) in enumerate(wanted):
        parameters += [bindparam(f"item{index}", index, Integer), bindparam(f"ref{index}", ref, S.component_ref.type),
                       bindparam(f"start{index}", window.start, S.at.type),
                       bindparam(f"until{index}", window.end, S.at.type)]
    rows = ", ".join(f"(:item{index}, :ref{index}, :start{index}, :until{index})" for index in range(len(wanted)))
    return (text(f"SELECT column1 AS item, column2 AS ref, column3 AS start, column4 AS until FROM (VALUES {rows}) "
                 "AS listed").bindparams(*parameters)
            .columns(item=Integer, ref=S.component_ref.type, start=S.at.type, until=S.at.type).subquery("items"))


def _batch(connection, wanted: Sequence[tuple[str, Window]]) -> list[SampleSummary]:  # noqa: ANN001 - a Connection
    """read_summaries of at most BATCH items: the plain reads of read_summary, grouped by item."""
    items = _items(wanted)

    def per_item(kind: str, *columns, where: tuple = (), grouped: bool = True):  # noqa: ANN002, ANN202 - SQL
        # The items drive the join: each seeks its component's range of the rollup's key (component, kind, at).
        statement = select(items.c.item, *columns).select_from(items).join(S, and_(
            S.component_ref == items.c.ref, S.kind == kind, S.at >= items.c.start, S.at < items.c.until)).where(*where)
        return statement.group_by(items.c.item) if grouped else statement

    deployed = {row[0]: (row[1], row[2]) for row in connection.execute(per_item(
        "deployment", func.count(distinct(S.sample_id)), func.count(distinct(S.day))))}
    failed = dict(connection.execute(per_item("failure", func.count(distinct(S.deployment_id)))).all())
    has_lead = (S.seconds.is_not(None),)
    if connection.dialect.name == "postgresql":
        lead = {row[0]: row[1:] for row in connection.execute(per_item(
            "lead", *(part for column in LEAD_COLUMNS for part in _median_of(column)), where=has_lead))}
        incident = {row[0]: row[1:] for row in connection.execute(per_item(
            "incident", *_median_of(S.recovery_seconds), *_median_of(S.seconds)))}
        medians = [_medians_from_sql(lead.get(index, (0, None) * 4), incident.get(index, (0, None) * 2))
                   for index in range(len(wanted))]
    else:
        lead_rows, incident_rows = defaultdict(list), defaultdict(list)
        for row in _plain_rows(connection, per_item("lead", *LEAD_COLUMNS, where=has_lead, grouped=False)):
            lead_rows[row[0]].append(row[1:])
        for row in _plain_rows(connection, per_item("incident", S.seconds, S.recovery_seconds, grouped=False)):
            incident_rows[row[0]].append(row[1:])
        medians = [(_lead_medians(lead_rows[index]), _incident_medians(incident_rows[index]))
                   for index in range(len(wanted))]
    return [SampleSummary(*deployed.get(index, (0, 0)), failed.get(index, 0), lead_times, *incidents)
            for index, (lead_times, incidents) in enumerate(medians)]


def deployment_times(session: Session, components: Sequence[str], window: Window) -> list[datetime]:
    """When each deployment the window counts finished (a deployment two components share, once)."""
    refs = sorted(set(components))
    if not refs:
        return []
    rows = session.connection().execute(select(S.sample_id, type_coerce(S.at, String)).distinct()
                                        .where(*_of(refs, "deployment", *_in(window)))).all()
    return [_utc(at) for _, at in rows]


def _utc(value: datetime | str) -> datetime:
    """SQLite hands back text (read raw: SQLAlchemy's per-value conversion is a regular expression),
    PostgreSQL naive datetimes; everything stored is UTC."""
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _plain_rows(connection, statement) -> list[tuple]:  # noqa: ANN001 - a Connection and a select of numbers
    """The statement's rows straight from the DBAPI cursor (no Row objects; the columns need no conversion)."""
    result = connection.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _lead_medians(rows: Sequence[Sequence]) -> LeadTimeMedians:
    return LeadTimeMedians(*(Median.of([row[index] for row in rows]) for index in range(4)))


def _incident_medians(rows: Sequence[Sequence]) -> tuple[Median, Median]:
    """(recovery, restore) from rows of (restore seconds, recovery seconds)."""
    return Median.of([row[1] for row in rows]), Median.of([row[0] for row in rows])


# Without shared records: every row is its own sample.

def _failed(connection, refs: list[str], window: Window) -> int:  # noqa: ANN001 - a Connection
    return connection.execute(select(func.count(distinct(S.deployment_id))).where(
        *_of(refs, "failure", *_in(window)))).scalar_one()


def _lead_times(connection, refs: list[str], window: Window) -> LeadTimeMedians:  # noqa: ANN001
    return _lead_medians(_plain_rows(connection, select(*LEAD_COLUMNS)
                                .where(*_of(refs, "lead", *_in(window)), S.seconds.is_not(None))))


def _incidents(connection, refs: list[str], window: Window) -> tuple[Median, Median]:  # noqa: ANN001
    return _incident_medians(_plain_rows(connection, select(S.seconds, S.recovery_seconds)
                                       .where(*_of(refs, "incident", *_in(window)))))


def _median_of(column):  # noqa: ANN001, ANN202 - SQL expressions
    return func.count(column), func.percentile_cont(0.5).within_group(column)


def _medians_from_sql(lead: Sequence, incident: Sequence) -> tuple[LeadTimeMedians, tuple[Median, Median]]:
    """The medians from a row of _median_of over LEAD_COLUMNS and one over (recovery, restore)."""
    return (LeadTimeMedians(*(Median(lead[index], lead[index + 1]) for index in range(0, 8, 2))),
            (Median(incident[0], incident[1]), Median(incident[2], incident[3])))


def _medians_in_sql(connection, refs: list[str], window: Window) -> tuple[LeadTimeMedians, tuple[Median, Median]]:  # noqa: ANN001
    """PostgreSQL computes the medians itself (percentile_cont interpolates as stats.median does), so a
    product's year sends back two rows instead of every sample."""
    lead = connection.execute(select(*(part for column in LEAD_COLUMNS for part in _median_of(column)))
                              .where(*_of(refs, "lead", *_in(window)), S.seconds.is_not(None))).one()
    incident = connection.execute(select(*_median_of(S.recovery_seconds), *_median_of(S.seconds))
                                  .where(*_of(refs, "incident", *_in(window)))).one()
    return _medians_from_sql(lead, incident)


# With shared records: one row per sample, chosen as collect_samples chooses.

def _failed_shared(connection, refs: list[str], window: Window) -> int:  # noqa: ANN001
    # An incident's candidates lie within LOOKBACK before it, so within LOOKBACK of each other: rows up to
    # LOOKBACK after the window are enough to tell whether a later one wins.
    latest = func.row_number().over(partition_by=S.sample_id, order_by=(S.at.desc(), S.deployment_id.desc()))
    ranked = select(S.deployment_id, S.at, latest.label("rank")).where(
        *_of(refs, "failure", S.at >= window.start, S.at < window.end + LOOKBACK)).subquery()
    return connection.execute(select(func.count(distinct(ranked.c.deployment_id)))
                              .where(ranked.c.rank == 1, ranked.c.at < window.end)).scalar_one()


def _lead_times_shared(connection, refs: list[str], window: Window) -> LeadTimeMedians:  # noqa: ANN001
    shipped_in = select(S.sample_id).where(*_of(refs, "lead", *_in(window)))
    earliest = func.row_number().over(partition_by=S.sample_id, order_by=(S.at, S.deployment_id))
    ranked = select(S.at, S.seconds, S.coding_seconds, S.review_seconds, S.deploy_seconds, earliest.label("rank")).where(
        *_of(refs, "lead", S.sample_id.in_(shipped_in), S.at < window.end)).subquery()
    return _lead_medians(_plain_rows(connection, select(ranked.c.seconds, ranked.c.coding_seconds, ranked.c.review_seconds,
                                                   ranked.c.deploy_seconds)
                                .where(ranked.c.rank == 1, ranked.c.at >= window.start, ranked.c.seconds.is_not(None))))


def _incidents_shared(connection, refs: list[str], window: Window) -> tuple[Median, Median]:  # noqa: ANN001
    latest = func.row_number().over(partition_by=S.sample_id, order_by=(S.deployment_at.desc().nulls_last(),
                                                                         S.deployment_id.desc().nulls_last()))
    ranked = select(S.seconds, S.recovery_seconds, latest.label("rank")).where(
        *_of(refs, "incident", *_in(window))).subquery()
    return _incident_medians(_plain_rows(connection, select(ranked.c.seconds, ranked.c.recovery_seconds)
                                       .where(ranked.c.rank == 1)))
