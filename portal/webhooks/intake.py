"""POST /webhooks/{source}[/{connection}]: verify, store in the inbox, commit, then acknowledge."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route

from portal.logging_setup import get_logger
from portal.plugins.contract import DeliveryInfo, WebhookRejected, WebhookRequest
from portal.webhooks.inbox_writer import InboxWriteError, delivery_row
from portal.webhooks.limits import MIN_RETRY_AFTER, IntakeLimits, intake_limits
from portal.webhooks.payloads import check_delivery_info

router = APIRouter(tags=["webhooks"])
log = get_logger(__name__)


class _RetryLater(WebhookRejected):
    """A refusal the tool should retry after `retry_after` seconds (429 and 503)."""

    def __init__(self, status: int, reason: str, retry_after: int) -> None:
        super().__init__(status, reason)
        self.retry_after = retry_after


def _reject(status: int, reason: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"status": "rejected", "reason": reason}, status_code=status, headers=headers)


_BUSY = "the portal is receiving too many webhook bodies at once; please retry"


async def _read_limited(request: Request, limits: IntakeLimits) -> bytes:
    """The body, read up to the size limit and within the process-wide budget of bytes in flight.
    The caller gives back len(body) once the delivery is answered; a refused read gives back its own."""
    limit, budget = limits.max_bytes, limits.budget
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        if int(declared) > limit:
            raise WebhookRejected(413, f"body of {declared} bytes is over the {limit}-byte limit")
        if int(declared) > budget.room():
            raise _RetryLater(503, _BUSY, MIN_RETRY_AFTER)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            if size + len(chunk) > limit:
                raise WebhookRejected(413, f"body is over the {limit}-byte limit")
            if not budget.take(len(chunk)):
                raise _RetryLater(503, _BUSY, MIN_RETRY_AFTER)
            size += len(chunk)
            chunks.append(chunk)
    except BaseException:
        budget.give_back(size)
        raise
    return b"".join(chunks)


def _verify_and_describe(plugin, delivery: WebhookRequest) -> DeliveryInfo:  # noqa: ANN001
    """Check the signature, then read and file the delivery. The decoded payload is dropped here, not
    held while the request waits for its commit: its hundreds of objects per delivery would otherwise
    go through the garbage collector's generations at every turn."""
    plugin.verify_webhook(delivery)
    try:
        info = plugin.describe_delivery(delivery, plugin.parse_webhook(delivery))
    except WebhookRejected:
        raise
    except Exception as error:  # noqa: BLE001 - a payload the plugin did not expect is the sender's to fix
        log.warning("a plugin could not read a webhook delivery", plugin=plugin.name,
                    error=f"{type(error).__name__}: {error}")
        raise WebhookRejected(400, f"the {plugin.title} plugin could not read this delivery "
                                   f"({type(error).__name__}); check the payload's fields") from None
    check_delivery_info(info)
    return info


async def _receive(request: Request, source: str, connection: str) -> JSONResponse:
    registry = request.app.state.plugins
    plugin = registry.connection(source, connection)
    if plugin is None:
        known = source in registry.classes
        reason = (f"no {source} connection named {connection!r} is configured" if known
                  else f"no plugin handles webhooks from {source!r}")
        return _reject(404, reason)
    limits = intake_limits(request.app)
    if limits.rate is not None and (wait := limits.rate.seconds_to_wait((source, connection))):
        # Before the body is read: a flood costs no memory and no signature check.
        return _reject(429, f"more than {limits.rate.rate:g} deliveries a second for this {source} connection; "
                            "please retry", wait)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in plugin.webhook_content_types:
        return _reject(415, f"content type {content_type or 'none'!r} is not accepted; send "
                       + " or ".join(plugin.webhook_content_types))
    try:
        body = await _read_limited(request, limits)
    except WebhookRejected as rejection:
        return _reject(rejection.status, rejection.reason, getattr(rejection, "retry_after", None))
    try:
        return await _file(request, plugin, source, connection, body, content_type)
    finally:
        limits.budget.give_back(len(body))


async def _file(request: Request, plugin, source: str, connection: str, body: bytes,  # noqa: ANN001
                content_type: str) -> JSONResponse:
    """Verify, read and store a delivery whose body is in hand; answer once it is committed."""
    delivery = WebhookRequest(headers=dict(request.headers), body=body, content_type=content_type)
    try:
        info = _verify_and_describe(plugin, delivery)
    except WebhookRejected as rejection:
        return _reject(rejection.status, rejection.reason)
    # Committed before the reply: an acknowledged delivery is never lost.
    try:
        stored_id = await request.app.state.inbox_writer.store(delivery_row(source, connection, info, delivery))
    except InboxWriteError:  # the writer logged it, once for all deliveries of the transaction
        return _reject(503, "the delivery could not be stored; please retry", MIN_RETRY_AFTER)
    except Exception:  # noqa: BLE001 - the tool retries a 503; the error is in the log
        log.exception("storing a webhook delivery failed", source=source, connection=connection)
        return _reject(503, "the delivery could not be stored; please retry", MIN_RETRY_AFTER)
    if stored_id is None:
        return JSONResponse({"status": "duplicate", "deliveryId": info.delivery_id}, status_code=200)
    status = "accepted" if info.used else "ignored"
    return JSONResponse({"status": status, "id": stored_id, "deliveryId": info.delivery_id,
                         "eventType": info.event_type}, status_code=202)


async def receive_webhook(request: Request) -> JSONResponse:
    """A delivery for the default connection of a tool, or for one of several connections of it."""
    params = request.path_params
    # Named in the scope as FastAPI names its own routes: metrics and request logs use the template.
    request.scope["route"] = _INTAKE_ROUTES["connection" in params]
    return await _receive(request, params["source"], params.get("connection", "default"))


# Plain Starlette routes, matched first: FastAPI's parameter and dependency handling would cost more
# per delivery than verifying it. The OpenAPI entries come from the documented twins below.
_INTAKE_ROUTES = {with_connection: Route(path, receive_webhook, methods=["POST"], include_in_schema=False)
                  for with_connection, path in ((False, "/webhooks/{source}"),
                                                (True, "/webhooks/{source}/{connection}"))}
router.routes.extend(_INTAKE_ROUTES.values())


def intake_routes() -> tuple[Route, ...]:
    """The plain routes deliveries arrive on, for portal/webhooks/fast_path.py."""
    return tuple(_INTAKE_ROUTES.values())


@router.post("/webhooks/{source}", status_code=202)
async def receive_webhook_documented(source: str, request: Request) -> JSONResponse:
    """A delivery for the default connection of a tool."""
    return await _receive(request, source, "default")


@router.post("/webhooks/{source}/{connection}", status_code=202)
async def receive_connection_webhook(source: str, connection: str, request: Request) -> JSONResponse:
    """A delivery for one of several connections of a tool."""
    return await _receive(request, source, connection)
