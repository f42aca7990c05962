"""The live task log of a request: the scaffolder's event stream for the browser, and a page without
JavaScript that lists the same events through the scaffolder's JSON list.

The contract is the task runner's (Backstage's scaffolder API): `GET /api/scaffolder/v2/tasks/{id}/eventstream`
(server-sent events `log` and `completion`, resumable with `?after=<event id>`) and
`GET /api/scaffolder/v2/tasks/{id}/events?after=` (the same events as a JSON list). The requests domain
does not read the scaffolder's tables: it asks that API, in process (no network hop), as the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request as HttpRequest
from starlette.routing import Match

TASKS_API = "/api/scaffolder/v2/tasks"
# Headers of the caller that the in-process call carries, so the scaffolder sees the same person.
FORWARDED_HEADERS = ("cookie", "authorization")
MAX_EVENTS_SHOWN = 2_000


@dataclass(frozen=True)
class TaskLogUrls:
    task_id: str
    stream: str
    events: str
    has_events_list: bool  # whether this portal serves the JSON list (the fallback page needs it)


def _serves(app: FastAPI, path: str) -> bool:
    """Whether a GET route of this app answers `path` (feature detection: the runner may not be installed)."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def task_log_urls(app: FastAPI, task_id: str) -> TaskLogUrls:
    base = f"{TASKS_API}/{quote(task_id, safe='')}"
    return TaskLogUrls(task_id, f"{base}/eventstream", f"{base}/events", _serves(app, f"{base}/events"))


@dataclass(frozen=True)
class LogLine:
    id: str
    type: str
    message: str
    step: str | None
    status: str | None
    at: str | None


def _line(item: object) -> LogLine | None:
    if not isinstance(item, dict):
        return None
    body = item.get("body") if isinstance(item.get("body"), dict) else {}
    return LogLine(id=str(item.get("id", "")), type=str(item.get("type", "")),
                   message=str(body.get("message", ""))[:10_000],
                   step=str(body["stepId"]) if body.get("stepId") is not None else None,
                   status=str(body["status"]) if body.get("status") is not None else None,
                   at=str(item["createdAt"]) if item.get("createdAt") is not None else None)


async def fetch_task_events(http: HttpRequest, urls: TaskLogUrls) -> tuple[list[LogLine] | None, str | None]:
    """The task's events from the JSON list, or (None, why not) when they cannot be read."""
    if not urls.has_events_list:
        return None, "This portal has no task runner installed, so the task's log cannot be shown."
    headers = {name: http.headers[name] for name in FORWARDED_HEADERS if name in http.headers}
    headers["accept"] = "application/json"
    transport = httpx.ASGITransport(app=http.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.internal") as client:
        response = await client.get(urls.events, headers=headers)
    if response.status_code == 404:
        return None, f"Task {urls.task_id} is not there (it was removed, or you may not see it), so its log cannot be shown."
    if response.status_code != 200:
        return None, f"The task runner answered {response.status_code} for task {urls.task_id}."
    try:
        payload = response.json()
    except ValueError:
        return None, "The task runner's answer was not JSON."
    items = payload.get("items", payload.get("events")) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        return None, "The task runner's answer was not a list of events."
    return [line for line in map(_line, items[:MAX_EVENTS_SHOWN]) if line is not None], None
