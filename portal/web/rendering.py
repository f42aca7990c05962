"""The Jinja2 environment: package templates, overridable from a deployment's own folder."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from markupsafe import Markup, escape

from portal.web import csrf, humanize, links
from portal.web.markdown import render_markdown

STATIC_DIR = Path(__file__).parent / "static"


def _page_context(request: Request) -> dict:
    """Values every page's header needs: who is signed in and whether dev sign-in is offered."""
    from portal.auth.identity import ANONYMOUS, current_user

    try:
        identity = current_user(request)
    except Exception:  # noqa: BLE001 - an error page must render even when the database is down
        identity = ANONYMOUS
    settings = getattr(request.app.state, "settings", None)

    def token() -> str:
        # Pages rendered outside the session middleware (a crash page) have no session, hence no forms to post.
        return csrf.csrf_token(request) if "session" in request.scope else ""

    return {
        "identity": identity,
        "dev_sign_in": bool(settings and settings.dev_sign_in_enabled),
        "current_path": request.url.path,
        "csrf_token": token,
        "csrf_field": lambda: Markup(f'<input type="hidden" name="{csrf.FORM_FIELD}" value="{escape(token())}">'),
    }


# Domains whose pages live with them (`portal/<domain>/templates/<domain>/…`), so web/ stays domain-free.
DOMAINS_WITH_PAGES = ("requests", "scaffolder", "metrics", "notifications")


def _domain_template_dirs() -> list[Path]:
    portal_root = Path(__file__).resolve().parent.parent
    return [folder for folder in (portal_root / domain / "templates" for domain in DOMAINS_WITH_PAGES)
            if folder.is_dir()]


def build_templates(extra_dirs: list[Path] | None = None) -> Jinja2Templates:
    """Templates from `portal/web/templates` and the domains' own folders; folders in `extra_dirs` win,
    so any page can be overridden."""
    loaders = [FileSystemLoader(str(path)) for path in (extra_dirs or [])]
    loaders.append(PackageLoader("portal.web", "templates"))
    loaders.extend(FileSystemLoader(str(path)) for path in _domain_template_dirs())
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "svg"]))
    env.filters["human_duration"] = humanize.human_duration
    env.filters["ref_label"] = humanize.ref_label
    env.filters["entity_url"] = humanize.entity_url
    env.filters["display_name"] = humanize.display_name
    env.filters["plural"] = humanize.plural
    env.globals["entity_url_of"] = humanize.entity_url_of
    env.filters["safe_href"] = links.safe_href
    env.filters["markdown"] = render_markdown
    env.filters["is_external"] = links.is_external
    return Jinja2Templates(env=env, context_processors=[_page_context])


def wants_html(request: Request) -> bool:
    """Browsers ask for HTML; API clients (and HTMX fragment loads) are handled by their routes."""
    return "text/html" in request.headers.get("accept", "")


def is_fragment_request(request: Request) -> bool:
    """An HTMX swap wants only the fragment; a history restore (back button, cache miss) wants the page."""
    return request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in request.headers
