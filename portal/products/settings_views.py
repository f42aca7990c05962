"""The product settings page: owners change what the portal shows and accepts for their product.

The JSON twin is `GET|PUT /api/v1/products/{name}/settings` (portal/products/api.py)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from portal.auth.identity import CurrentUser
from portal.db import SessionDep
from portal.products import service, settings
from portal.products.views import not_found

router = APIRouter(tags=["pages"], include_in_schema=False)


def _form(request: Request, product: dict, values: settings.ProductSettings | dict, errors: dict[str, str],
          status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "products/settings.html", {
        "product": product, "summary": service.product_summary(product, 0), "values": values, "errors": errors,
    }, status_code=status)


@router.get("/products/{name}/settings", response_class=HTMLResponse)
def settings_page(name: str, request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    product = service.find_product(session, name)
    if product is None:
        return not_found(request, f"There is no platform product called “{name}”.", name)
    settings.check_may_change(request, user, product)
    return _form(request, product, settings.settings_of(session, product).model_dump(), {})


@router.post("/products/{name}/settings", response_class=HTMLResponse)
def save_settings_page(name: str, request: Request, session: SessionDep, user: CurrentUser,
                       ideas_open: str | None = Form(None), announcement: str = Form(""),
                       support_url: str = Form("")) -> HTMLResponse:
    product = service.find_product(session, name)
    if product is None:
        return not_found(request, f"There is no platform product called “{name}”.", name)
    settings.check_may_change(request, user, product)
    entered = {"ideasOpen": ideas_open is not None, "announcement": announcement, "supportUrl": support_url}
    try:
        wanted = settings.ProductSettings(**entered)
    except ValidationError as error:
        errors = {str(problem["loc"][-1]): problem["msg"].removeprefix("Value error, ") for problem in error.errors()}
        return _form(request, product, entered, errors, 422)
    settings.save_settings(session, product, wanted, user.user_ref or "anonymous")
    return RedirectResponse(f"/products/{product['metadata']['name']}", status_code=303)
