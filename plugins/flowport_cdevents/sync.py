"""CDEvents pull sync from an event feed: an HTTP endpoint (an event store's or broker's API, or a
tool's own) that answers GET with recent CloudEvents, as a JSON array of structured-mode events or
`application/cloudevents-batch+json` (https://github.com/cloudevents/spec, JSON format, batched mode).

Each run reads `feed_url?since=<newest event time stored>` and follows `Link: rel="next"`. The cursor
only moves once a walk is complete; a walk cut short keeps its next page and resumes there. A run ends
by asking for events after the newest it read, so an unchanged feed costs one conditional request that
is answered 304. Every event goes through the plugin's webhook filing and normalizer, so a pulled event
and the same event delivered by webhook give identical records. An event that cannot be read is skipped
and reported on the run; it never stops the others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from flowport_cdevents.normalize import cdevent_of
from portal.flow.records import FlowRecord, parse_time
from portal.plugins.contract import InboxEvent, WebhookRejected, WebhookRequest
from portal.sync.client import SyncClient, SyncResponse
from portal.sync.pagination import link_next
from portal.sync.state import SyncPage, SyncState

if TYPE_CHECKING:
    from flowport_cdevents import CDEventsPlugin

RESOURCE = "events"
BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"
FEED_MEDIA_TYPES = (BATCH, "application/json", SINGLE)
# Follow-up walks in one run while events keep arriving; the request budget bounds them too.
MAX_WALKS = 10


class FeedError(Exception):
    """The feed answered something that is not a list of CloudEvents."""


class UnreadableEvent(Exception):
    """One event of the feed that cannot be filed or normalized; the message says why."""


def request_headers(config) -> dict[str, str]:  # noqa: ANN001
    """Ask for a batch of CloudEvents; the optional token goes in a Bearer header."""
    headers = {"Accept": f"{BATCH}, application/json;q=0.9"}
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return headers


def feed_page_url(feed_url: str, since: datetime | None) -> str:
    """The feed URL (its own query kept) with `since` in RFC 3339 UTC when there is a cursor."""
    url = httpx.URL(feed_url)
    if since is not None:
        url = url.copy_set_param("since", since.astimezone(UTC).isoformat().replace("+00:00", "Z"))
    return str(url)


def events_of(response: SyncResponse) -> list:
    """The events of one feed page; FeedError when the answer is not CloudEvents JSON."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in FEED_MEDIA_TYPES:
        raise FeedError(f"{response.url} answered {media}; a CDEvents feed must answer a JSON array of "
                        f"CloudEvents ({BATCH} or application/json)")
    if not response.content.strip():
        return []  # e.g. 204 No Content: nothing new
    body = response.json()
    if media == SINGLE and isinstance(body, dict):
        return [body]
    if not isinstance(body, list):
        raise FeedError(f"{response.url} answered a JSON {type(body).__name__}, not an array of CloudEvents")
    return body


def event_time(event: dict) -> datetime | None:
    """The CloudEvents `time`, else the CDEvent context's `timestamp` (the same moment by the binding)."""
    data = event.get("data") if isinstance(event.get("data"), dict) else event
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    # Both are RFC 3339 strings; anything else is not a time this cursor can trust.
    stamps = [value for value in (event.get("time"), context.get("timestamp")) if isinstance(value, str)]
    return next(filter(None, map(parse_time, stamps)), None)


def event_records(plugin: CDEventsPlugin, event: object) -> list[FlowRecord]:
    """Records of one feed event, filed and normalized exactly as a webhook delivery of it would be."""
    if not isinstance(event, dict):
        raise UnreadableEvent(f"is a JSON {type(event).__name__}, not an object")
    # A structured CloudEvent names itself; a bare CDEvent is identified by its context.
    media = SINGLE if "specversion" in event else "application/json"
    try:
        info = plugin.describe_delivery(WebhookRequest(headers={}, body=b"", content_type=media), event)
    except WebhookRejected as error:
        raise UnreadableEvent(error.reason) from error
    except (AttributeError, KeyError, TypeError) as error:
        raise UnreadableEvent(f"cannot be filed ({error.__class__.__name__}: {error})") from error
    if not info.used:
        return []  # artifacts, builds, tests …: filed as `ignored` when they come by webhook
    inbox = InboxEvent(source=plugin.name, connection=plugin.config.name, event_type=info.event_type,
                       headers={}, payload=event)
    try:
        records = plugin.normalize(inbox)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnreadableEvent(f"{info.event_type} cannot be normalized ({error.__class__.__name__}: {error})") \
            from error
    if not records:
        missing = "subject id" if cdevent_of(event) else "CDEvent (context and subject) in its data"
        raise UnreadableEvent(f"{info.event_type} has no {missing}")
    return records


def _describe(event: object, index: int, url: str) -> str:
    name = f"event {index + 1}"
    if isinstance(event, dict) and event.get("id"):
        name += f" (id {str(event['id'])[:80]})"
    return f"{name} of {url}"


def read_page(plugin: CDEventsPlugin, events: list, url: str) -> tuple[list[FlowRecord], list[str], datetime | None]:
    """Records of a page, why any event was skipped, and the newest event time on it."""
    records: list[FlowRecord] = []
    skipped: list[str] = []
    newest = None
    for index, event in enumerate(events):
        try:
            records += event_records(plugin, event)
        except UnreadableEvent as problem:
            skipped.append(f"{_describe(event, index, url)}: {problem}")
            continue
        moment = event_time(event)
        if moment and (newest is None or moment > newest):
            newest = moment
    return records, skipped, newest


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def sync_cdevents(plugin: CDEventsPlugin, client: SyncClient, state: SyncState, full: bool
                        ) -> AsyncIterator[SyncPage]:
    """Walk the feed from the cursor, then again from the newest event read until nothing is newer."""
    config = plugin.config
    client.headers.update(request_headers(config))
    cursor = state.cursor(RESOURCE)
    since = parse_time(cursor.get("since"))
    walk = cursor.get("walk")
    for _ in range(MAX_WALKS):
        url = walk["next"] if walk else feed_page_url(config.feed_url, since)
        high = parse_time(walk.get("high")) if walk else since
        # Only a fresh walk's first page is conditional: later pages shift whenever the first changes.
        fresh, walk, seen = walk is None, None, set()
        while url:
            seen.add(url)
            response = await client.get(url, conditional=fresh)
            if response.not_modified:
                return
            records, skipped, newest = read_page(plugin, events_of(response), url)
            if newest and (high is None or newest > high):
                high = newest
            nxt = link_next(response)
            nxt = None if nxt in seen else nxt  # a feed that links a page to itself ends the walk
            position = ({"since": _iso(since), "walk": {"next": nxt, "high": _iso(high)}} if nxt
                        else {"since": _iso(high)})
            yield SyncPage(RESOURCE, records, position, skipped=skipped)
            url, fresh = nxt, False
        if high is None or (since is not None and high <= since):
            return  # nothing newer than the cursor: caught up
        since = high
