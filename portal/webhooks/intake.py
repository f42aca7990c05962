"""POST /webhooks/{source}[/{connection}]: verify, store in the inbox, commit, then acknowledge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from portal.plugins.contract import DeliveryInfo, WebhookRejected, WebhookRequest
from portal.webhooks.models import WebhookDelivery

router = APIRouter(tags=["webhooks"])

# Headers worth keeping with a delivery (signatures are dropped: they are only useful once).
_KEPT_HEADER_PREFIXES = ("x-github-", "x-gitlab-event", "x-atlassian-", "x-webhook-", "ce-", "user-agent",
                         "idempotency-key", "webhook-id", "webhook-timestamp", "content-type")


def _reject(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"status": "rejected", "reason": reason}, status_code=status)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise WebhookRejected(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def store_delivery(engine: Engine, source: str, connection: str, info: DeliveryInfo,
                   request: WebhookRequest) -> int | None:
    """Insert the delivery and commit; None when the tool's delivery id was already stored."""
    kept = {k: v for k, v in request.headers.items() if k.startswith(_KEPT_HEADER_PREFIXES)}
    row = {
        "source": source, "connection": connection, "delivery_id": info.delivery_id,
        "event_type": info.event_type, "headers": json.dumps(kept), "body": request.body,
        "content_type": request.content_type, "received_at": datetime.now(UTC),
        "status": "pending" if info.used else "ignored", "attempts": 0,
    }
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(WebhookDelivery).values(**row)
        .on_conflict_do_nothing(index_elements=["source", "connection", "delivery_id"])
        .returning(WebhookDelivery.id)
    )
    with engine.begin() as connection_:
        return connection_.execute(statement).scalar_one_or_none()


async def _receive(request: Request, source: str, connection: str) -> JSONResponse:
    registry = request.app.state.plugins
    plugin = registry.connection(source, connection)
    if plugin is None:
        known = source in registry.classes
        reason = (f"no {source} connection named {connection!r} is configured" if known
                  else f"no plugin handles webhooks from {source!r}")
        return _reject(404, reason)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type not in plugin.webhook_content_types:
            raise WebhookRejected(415, f"content type {content_type or 'none'!r} is not accepted; send "
                                  + " or ".join(plugin.webhook_content_types))
        body = await _read_limited(request, request.app.state.settings.webhook_max_bytes)
        delivery = WebhookRequest(headers=dict(request.headers), body=body, content_type=content_type)
        plugin.verify_webhook(delivery)
        payload = plugin.parse_webhook(delivery)
        info = plugin.describe_delivery(delivery, payload)
    except WebhookRejected as rejection:
        return _reject(rejection.status, rejection.reason)
    # Committed before the reply: an acknowledged delivery is never lost.
    stored_id = await run_in_threadpool(store_delivery, request.app.state.engine, source, connection,
                                        info, delivery)
    if stored_id is None:
        return JSONResponse({"status": "duplicate", "deliveryId": info.delivery_id}, status_code=200)
    status = "accepted" if info.used else "ignored"
    return JSONResponse({"status": status, "id": stored_id, "deliveryId": info.delivery_id,
                         "eventType": info.event_type}, status_code=202)


@router.post("/webhooks/{source}", status_code=202)
async def receive_webhook(source: str, request: Request) -> JSONResponse:
    """A delivery for the default connection of a tool."""
    return await _receive(request, source, "default")


@router.post("/webhooks/{source}/{connection}", status_code=202)
async def receive_connection_webhook(source: str, connection: str, request: Request) -> JSONResponse:
    """A delivery for one of several connections of a tool."""
    return await _receive(request, source, connection)
