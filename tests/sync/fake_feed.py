"""A stub CDEvents feed (httpx.MockTransport): the CDEvents spec examples from the shared fixtures as
structured-mode CloudEvents, oldest first, filtered by `?since=`, in pages linked with relative
`Link: rel="next"` headers, with ETags and 304s, and scripted failures."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx

from portal.flow.records import parse_time
from tests.conftest import FIXTURES
from tests.sync.fake_tool import FakeTool

FEED = "https://events.example.com/cdevents/feed"
BATCH = "application/cloudevents-batch+json"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def spec_example(path: str) -> dict:
    """A CDEvent as published in the CDEvents spec repository (e.g. `spec-v0.5.1/change_created.json`)."""
    return json.loads((FIXTURES / "cdevents" / path).read_text())


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def cloudevent(path: str, event_id: str, minutes: int, subject_id: str | None = None) -> dict:
    """A spec example wrapped as a structured CloudEvent. The examples all share one context id and
    timestamp, so each gets its own id and time (kept equal in the CDEvent context, as the binding says)."""
    event = copy.deepcopy(spec_example(path))
    event["context"].update(id=event_id, timestamp=at(minutes))
    if subject_id:
        event["subject"]["id"] = subject_id
    context = event["context"]
    return {"specversion": "1.0", "id": event_id, "source": context["source"], "type": context["type"],
            "time": at(minutes), "datacontenttype": "application/json", "data": event}


def _time(event: object):  # noqa: ANN202
    return parse_time(event.get("time")) if isinstance(event, dict) else None




class FakeFeed(FakeTool):
    """Serves `events` oldest first, `page_size` a page; `?since=` keeps events at or after that time."""

    def __init__(self, events: list[object], page_size: int = 3) -> None:
        super().__init__()
        self.events = events
        self.page_size = page_size
        self.content_type = BATCH

    def answer(self, request: httpx.Request) -> httpx.Response:
        if str(request.url.copy_with(query=None)) != FEED:
            return httpx.Response(404, json={"message": "no such feed"})
        since = parse_time(request.url.params.get("since"))
        matching = [event for event in self.events if since is None or _time(event) and _time(event) >= since]
        page = int(request.url.params.get("page", "1"))
        chunk = matching[(page - 1) * self.page_size: page * self.page_size]
        headers = {"Content-Type": self.content_type}
        if page * self.page_size < len(matching):
            # Relative, as RFC 8288 allows: the client resolves it against the page's URL.
            next_url = request.url.copy_set_param("page", str(page + 1))
            headers["Link"] = f'<{next_url.raw_path.decode()}>; rel="next"'
        content = json.dumps(chunk).encode()
        headers["ETag"] = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == headers["ETag"]:
            return httpx.Response(304, headers={"ETag": headers["ETag"]})
        return httpx.Response(200, content=content, headers=headers)

    def urls(self) -> list[str]:
        """Requested URLs without the host, in order, for request-count assertions."""
        return [request.url.raw_path.decode() for request in self.requests]
