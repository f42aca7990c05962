"""TEST-ONLY: a tiny stand-in for the task runner's event API, mounted only by the request page tests.

It speaks the contract the live log client is written against (Backstage's scaffolder API as the
`tasks` branch serves it): `GET /api/scaffolder/v2/tasks/{id}/eventstream` sends server-sent events
`log` and `completion`, each with `id: <event id>` and `data: {"id", "taskId", "type", "body":
{"message", "stepId"?, "status"?}, "createdAt"}`, resumable with `?after=<id>`; `GET
/api/scaffolder/v2/tasks/{id}/events?after=` returns the same events as a JSON list. It is never part of
the portal: `mount()` puts its routes in front of a test app's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse

PREFIX = "/api/scaffolder/v2/tasks"


def task_events(task_id: str, steps: list[tuple[str, str]], status: str = "completed") -> list[dict]:
    """Events as the runner records them: one `log` per (step, message), then a `completion`."""
    events = [{"id": index, "taskId": task_id, "type": "log", "body": {"message": message, "stepId": step},
               "createdAt": f"2026-12-06T09:00:{index:02d}Z"} for index, (step, message) in enumerate(steps, 1)]
    events.append({"id": len(events) + 1, "taskId": task_id, "type": "completion",
                   "body": {"message": f"Run {status}", "status": status},
                   "createdAt": f"2026-12-06T09:01:{len(events):02d}Z"})
    return events


@dataclass
class FakeTaskApi:
    tasks: dict[str, list[dict]] = field(default_factory=dict)
    # The first stream of a task ends after this many events (a dropped connection), to test resuming.
    cut_first_stream_after: dict[str, int] = field(default_factory=dict)
    stream_requests: list[str] = field(default_factory=list)

    def _events(self, task_id: str, after: str | None) -> list[dict]:
        if task_id not in self.tasks:
            raise HTTPException(404, f"There is no task {task_id}")
        start = int(after) if after and after.isdigit() else 0
        return [event for event in self.tasks[task_id] if event["id"] > start]

    def router(self) -> APIRouter:
        router = APIRouter(prefix=PREFIX)

        @router.get("/{task_id}/events")
        def list_events(task_id: str, after: str | None = None) -> JSONResponse:
            return JSONResponse(self._events(task_id, after))

        @router.get("/{task_id}/eventstream")
        def stream_events(task_id: str, request: Request, after: str | None = None) -> StreamingResponse:
            self.stream_requests.append(str(request.url.path) + (f"?after={after}" if after else ""))
            events = self._events(task_id, after)
            cut = self.cut_first_stream_after.pop(task_id, None)
            if cut is not None:
                events = events[:cut]

            def frames():  # noqa: ANN202
                for event in events:
                    yield f"event: {event['type']}\nid: {event['id']}\ndata: {json.dumps(event)}\n\n"

            return StreamingResponse(frames(), media_type="text/event-stream",
                                     headers={"cache-control": "no-cache"})

        return router


def mount(app: FastAPI, fake: FakeTaskApi) -> FakeTaskApi:
    """Put the fake's routes first, so they answer even where the real task runner is installed."""
    before = len(app.router.routes)
    app.include_router(fake.router())
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    return fake
