"""The worker side of the inbox: claim pending deliveries, normalize them into flow records,
retry failures with jittered backoff, park a delivery after too many attempts, replay on request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.flow.record_checks import check_records
from portal.flow.writer import write_records
from portal.logging_setup import get_logger
from portal.plugins.contract import InboxEvent, WebhookRejected, WebhookRequest
from portal.plugins.registry import PluginRegistry
from portal.retry import jittered_backoff
from portal.webhooks.models import WebhookDelivery

log = get_logger(__name__)
MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class ProcessReport:
    claimed: int = 0
    processed: int = 0
    failed: int = 0
    parked: int = 0
    # Deliveries (replayed ignored ones) whose event the current plugin still does not use.
    ignored: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)


def backoff_delay(attempts: int) -> timedelta:
    """When a failed delivery is due again: jittered exponential backoff, at most an hour."""
    return timedelta(seconds=jittered_backoff(attempts, BASE_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS))


def _claim(session: Session, limit: int, now: datetime) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status.in_(("pending", "failed")),
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers share the inbox: each takes rows no other transaction holds.
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def _normalize(registry: PluginRegistry, delivery: WebhookDelivery) -> list | None:
    """The delivery's records by the current normalizer; None when the plugin does not use its event."""
    plugin = registry.connection(delivery.source, delivery.connection)
    if plugin is None:
        raise LookupError(f"no {delivery.source} connection named {delivery.connection!r} is configured")
    headers = json.loads(delivery.headers)
    request = WebhookRequest(headers=headers, body=delivery.received_body(), content_type=delivery.content_type)
    payload = plugin.parse_webhook(request)
    if not _used_now(plugin, request, payload):
        return None
    event = InboxEvent(source=delivery.source, connection=delivery.connection,
                       event_type=delivery.event_type, headers=headers, payload=payload)
    # Values a table cannot hold fail this delivery alone, with the column named (not the batch's statement).
    return check_records(plugin.normalize(event))


def _used_now(plugin, request: WebhookRequest, payload: object) -> bool:  # noqa: ANN001 - a FlowPlugin
    """Whether the plugin as it is now uses this delivery's event: an ignored delivery replayed after the
    plugin learnt its event is; one it still does not use goes back to `ignored`."""
    try:
        return plugin.describe_delivery(request, payload).used
    except WebhookRejected:
        # The intake accepted this delivery with all its headers; the inbox keeps only some.
        return True


def _mark_processed(delivery: WebhookDelivery, produced: list | None, now: datetime, report: ProcessReport) -> None:
    delivery.processed_at, delivery.last_error, delivery.next_attempt_at = now, None, None
    delivery.attempts += 1
    if produced is None:
        delivery.status = "ignored"
        report.ignored += 1
    else:
        delivery.status = "processed"
        report.processed += 1


def process_batch(engine: Engine, registry: PluginRegistry, limit: int = 200) -> ProcessReport:
    """Process up to `limit` due deliveries in one transaction (the job scope owns it)."""
    report = ProcessReport()
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        deliveries = _claim(session, limit, now)
        report.claimed = len(deliveries)
        records = []
        for delivery in deliveries:
            try:
                produced = _normalize(registry, delivery)
            except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the others
                _record_failure(delivery, error, now, report)
                continue
            records += produced or []
            _mark_processed(delivery, produced, now, report)
        try:
            report.records = write_records(session, records)
        except Exception as error:  # noqa: BLE001 - one delivery's records must not fail the others
            session.rollback()
            log.warning("writing a batch's flow records failed; writing each delivery's alone",
                        deliveries=len(deliveries), error=f"{type(error).__name__}: {error}")
            return _process_one_by_one(engine, registry, [d.id for d in deliveries], now)
        session.commit()
    return report


def _claim_one(session: Session, delivery_id: int) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                          WebhookDelivery.status.in_(("pending", "failed")))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).scalar_one_or_none()


def _process_one_by_one(engine: Engine, registry: PluginRegistry, ids: list[int], now: datetime) -> ProcessReport:
    """After a batch's records could not be written: each delivery in a transaction of its own, so only
    the one whose records the database refuses fails (and is parked after too many attempts)."""
    report = ProcessReport(claimed=len(ids))
    for delivery_id in ids:
        with Session(engine, expire_on_commit=False) as session:
            delivery = _claim_one(session, delivery_id)
            if delivery is None:  # another worker took it meanwhile
                continue
            try:
                produced = _normalize(registry, delivery)
                written = write_records(session, produced or [])
            except Exception as error:  # noqa: BLE001 - this delivery alone fails
                session.rollback()
                delivery = _claim_one(session, delivery_id)
                if delivery is not None:
                    _record_failure(delivery, error, now, report)
            else:
                _mark_processed(delivery, produced, now, report)
                report.records += written
            session.commit()
    return report


def readable_error(error: BaseException) -> str:
    """The error as text any database keeps: NUL and lone surrogates (a payload's, quoted in a driver's
    message) written out as escapes, at most 4,000 characters."""
    text = f"{error.__class__.__name__}: {error}"[:4000]
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def _record_failure(delivery: WebhookDelivery, error: Exception, now: datetime, report: ProcessReport) -> None:
    delivery.attempts += 1
    delivery.last_error = readable_error(error)
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "parked", None
        report.parked += 1
    else:
        delivery.status, delivery.next_attempt_at = "failed", now + backoff_delay(delivery.attempts)
        report.failed += 1
    report.errors.append(f"{delivery.source}/{delivery.delivery_id}: {delivery.last_error}")
    log.warning("delivery failed", source=delivery.source, delivery_id=delivery.delivery_id,
                attempts=delivery.attempts, error=delivery.last_error)


def process_all(engine: Engine, registry: PluginRegistry, limit: int = 200) -> ProcessReport:
    """Drain everything due now (used by tests, the CLI and the worker loop)."""
    total = ProcessReport()
    while True:
        report = process_batch(engine, registry, limit)
        for name in ("claimed", "processed", "failed", "parked", "ignored", "records"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.errors += report.errors
        if report.claimed < limit:
            return total


def replay(session: Session, delivery_id: int | None = None, since: datetime | None = None,
           source: str | None = None) -> int:
    """Queue deliveries again (after a normalizer fix): one by id, or all received since a time. Ignored
    deliveries too: the worker runs the current plugin over them, and one whose event it now uses is
    processed (the others go back to `ignored`)."""
    if delivery_id is None and since is None:
        raise ValueError("replay needs a delivery id or a time to replay from")
    statement = update(WebhookDelivery)
    if delivery_id is not None:
        statement = statement.where(WebhookDelivery.id == delivery_id)
    if since is not None:
        statement = statement.where(WebhookDelivery.received_at >= since)
    if source is not None:
        statement = statement.where(WebhookDelivery.source == source)
    result = session.execute(statement.values(status="pending", attempts=0, next_attempt_at=None,
                                              last_error=None))
    return result.rowcount
