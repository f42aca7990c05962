"""The Jinja2 environment: package templates, overridable from a deployment's own folder."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

STATIC_DIR = Path(__file__).parent / "static"


def build_templates(extra_dirs: list[Path] | None = None) -> Jinja2Templates:
    """Templates from `portal/web/templates`; folders in `extra_dirs` win, so any page can be overridden."""
    loaders = [FileSystemLoader(str(path)) for path in (extra_dirs or [])]
    loaders.append(PackageLoader("portal.web", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]))
    return Jinja2Templates(env=env)


def wants_html(request: Request) -> bool:
    """Browsers ask for HTML; API clients (and HTMX fragment loads) are handled by their routes."""
    return "text/html" in request.headers.get("accept", "")
