"""Pagination styles of the tools Flowport syncs, and the newest-first walk with a resumable cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from portal.flow.records import FlowRecord, parse_time
from portal.sync.client import SyncClient, SyncResponse
from portal.sync.state import SyncPage


def link_next(response: SyncResponse) -> str | None:
    """The URL of `Link: <…>; rel="next"` (GitHub, GitLab, event feeds), resolved against the page's URL."""
    nxt = response.links.get("next")
    # RFC 8288 allows a relative reference; GitHub and GitLab send absolute ones.
    return str(httpx.URL(response.url).join(nxt)) if nxt else None


def gitlab_next(response: SyncResponse) -> str | None:
    """GitLab offset pagination: rel="next", else X-Next-Page (empty on the last page)."""
    nxt = link_next(response)
    if nxt:
        return nxt
    page = response.headers.get("x-next-page")
    if not page:
        return None
    return str(httpx.URL(response.url).copy_set_param("page", page))


def _stamp(item: dict, stamp_of: Callable[[dict], Any]) -> datetime | None:
    return parse_time(stamp_of(item))


async def walk_newest_first(
    client: SyncClient,
    resource: str,
    first_url: str,
    cursor: dict,
    *,
    stamp_of: Callable[[dict], Any],
    build: Callable[[list[dict]], Awaitable[list[FlowRecord]]],
    items_of: Callable[[Any], list[dict]] = lambda body: body or [],
    next_of: Callable[[SyncResponse], str | None] = link_next,
    still_open: Callable[[dict], bool] | None = None,
    extra: Callable[[], dict] = dict,
) -> AsyncIterator[SyncPage]:
    """Walk a newest-first list page by page until items are older than the cursor's `since`.

    The first URL never changes between runs, so an unchanged list answers 304 and costs nothing.
    `since` only moves when a walk completes; a walk cut short (budget, crash) keeps its next URL
    and high-water mark in `walk`, so the next run resumes there without skipping anything.
    With `still_open`, `since` stops at the oldest item still open (e.g. a running workflow run),
    so that item is read again until it finishes."""
    since = parse_time(cursor.get("since"))
    walk = cursor.get("walk")
    url = walk["next"] if walk else first_url
    high = parse_time(walk.get("high")) if walk else None
    oldest_open = parse_time(walk.get("open")) if walk else None
    fresh = walk is None
    while url:
        # Only a fresh walk's first page is conditional: later pages shift whenever page 1 changes.
        response = await client.get(url, conditional=fresh)
        if response.not_modified:
            return
        items = items_of(response.json())
        newer = [item for item in items if since is None or (_stamp(item, stamp_of) or since) >= since]
        for item in newer:
            stamp = _stamp(item, stamp_of)
            if stamp and (high is None or stamp > high):
                high = stamp
            if still_open and stamp and still_open(item) and (oldest_open is None or stamp < oldest_open):
                oldest_open = stamp
        # Items stamped exactly `since` are re-read (harmless upserts) but do not extend the walk.
        older_reached = since is not None and any((_stamp(i, stamp_of) or since) <= since for i in items)
        nxt = next_of(response) if items and not older_reached else None
        if nxt:
            state = {"since": _iso(since), "walk": {"next": nxt, "high": _iso(high), "open": _iso(oldest_open)}}
        else:
            mark = min(filter(None, (high, oldest_open)), default=since)
            state = {"since": _iso(mark)}
        records = await build(newer)
        yield SyncPage(resource, records, {**extra(), **state})
        url, fresh = nxt, False


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
