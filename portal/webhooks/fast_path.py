"""POST /webhooks/{source}[/{connection}] taken straight to the intake route, past the middleware that
has nothing to do for it, so a busy toolchain's deliveries cost what verifying and storing them costs.

What the skipped layers would do for a delivery, and why nothing is lost:
- the request guards pass webhook paths through already (the intake checks size, depth, rate and
  signature itself); their security headers are added here;
- sessions: a tool sends no session cookie and the intake reads none;
- the audit log records decisions a route notes; the intake notes none;
- FastAPI's router would try the routers included before the intake's, route by route.
Request metrics and logs stay (the observability middleware wraps this one), and so does Starlette's
server-error middleware outside every user middleware: an unexpected error is still a readable 500.
Anything else under /webhooks/ (another method, another shape of path) takes the normal way."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.web.security_headers import security_headers

PREFIX = "/webhooks/"


class WebhookFastPath:
    """Pure ASGI: matches the intake's own routes first, as the router would, then hands over."""

    def __init__(self, app: ASGIApp, routes: Iterable[Route]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PREFIX):
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await route.handle(scope, receive, security_headers(scope, send))
                    return
        await self.app(scope, receive, send)
