"""Plumbing the request pages share: rendering, refusals as readable pages, the caller's visibility."""

from __future__ import annotations

from fastapi import HTTPException, Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.auth.identity import Identity
from portal.requests.inputs import RequestProblem
from portal.requests.routing import problem_response
from portal.requests.visibility import visible_requests

TITLES = {400: "That request could not be read", 403: "Not allowed", 404: "Not found", 409: "Not possible now",
          422: "Please check what you entered"}


def render(http: HttpRequest, template: str, context: dict, status: int = 200) -> HTMLResponse:
    return http.app.state.templates.TemplateResponse(http, template, context, status_code=status)


def refusal_page(http: HttpRequest, session: Session, error: RequestProblem | HTTPException) -> HTMLResponse:
    """A refused page or form as a page that says why; whatever the route had changed is undone."""
    session.rollback()
    if isinstance(error, RequestProblem):
        status = error.status
        message = error.message
        if error.details:
            message += " — " + "; ".join(f"{detail.path}: {detail.message}" for detail in error.details[:10])
    else:
        status, message = error.status_code, str(error.detail)
    return render(http, "error.html", {"status": status, "message": message,
                                       "title": TITLES.get(status)}, status)


def visible(http: HttpRequest, session: Session, user: Identity) -> ColumnElement | None:
    """The caller's visibility condition (portal/requests/visibility.py), as the API applies it."""
    return visible_requests(session, user, http.app.state.settings.requests_visible_to,
                            http.app.state.policy.allow_anonymous_changes)


def anonymous_may_change(http: HttpRequest, user: Identity) -> bool:
    """Development and tests let anonymous callers act; the permission rules pass them too."""
    return not user.is_authenticated and bool(getattr(http.app.state.policy, "allow_anonymous_changes", False))


def wants_json(http: HttpRequest) -> bool:
    """The page's JSON twin: asked for with `Accept: application/json` on the same URL."""
    accept = http.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def is_htmx(http: HttpRequest) -> bool:
    return http.headers.get("hx-request") == "true"


def local_path(value: str | None, fallback: str) -> str:
    """A path on this portal to go back to; anything else (other hosts, `//`, schemes) is the fallback."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return fallback
    if any(ord(character) < 32 for character in value):
        return fallback
    return value


def see_other(path: str) -> RedirectResponse:
    """After a form post, back to a page (303, so a reload does not post again)."""
    return RedirectResponse(path, status_code=303)


def refusal(http: HttpRequest, session: Session, error: RequestProblem | HTTPException) -> Response:
    """A refusal in the caller's shape: the API's JSON for the JSON twin, else a page."""
    if wants_json(http):
        if isinstance(error, RequestProblem):
            session.rollback()
            return problem_response(http, error)
        raise error
    return refusal_page(http, session, error)
