"""Ordering a capability: the form (or wizard) on `/products/{product}/capabilities/{name}/order`.

HTML for people, with a JSON twin of the field model for clients that draw their own forms
(`/api/v1/products/{product}/capabilities/{name}/order-form`); the order itself is the requests API's
`POST /api/v1/requests`, which the form's submit reaches through the same service function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from portal.auth.identity import ANONYMOUS, CurrentUser, Identity, current_user
from portal.db import SessionDep
from portal.products import service as products
from portal.requests.forms.draft import seal
from portal.requests.forms.flow import FormState, advance, create, hypothesis_fields, start
from portal.requests.forms.model import FormField
from portal.requests.forms.parsing import parse_fields
from portal.requests.forms.pickers import PickerOptions, load_picker_options, search_picker_options
from portal.requests.forms.sources import OrderForm, order_form_for
from portal.requests.forms.values import review_rows, shown_text
from portal.requests.permissions import actor_of, check_may_create
from portal.web.rendering import wants_html

FORM_MAX_FIELDS = 12_000  # a list of 10,000 choices gets a readable "too many items", not a parser error

pages = APIRouter(tags=["pages"], include_in_schema=False)
api = APIRouter(prefix="/api/v1/products", tags=["products"])


@dataclass
class OrderView:
    """Everything the order templates show for one step of the form."""

    state: FormState
    action_url: str
    json_url: str
    may_order: bool
    sign_in_url: str
    sealed: str
    raw: dict
    options: dict[str, PickerOptions] = field(default_factory=dict)
    review: list[tuple[int, str, list[tuple[str, str]]]] = field(default_factory=list)
    hypothesis: list[FormField] = field(default_factory=hypothesis_fields)

    @property
    def form(self) -> OrderForm:
        return self.state.form

    def shown(self, item: FormField, raw: dict) -> str:
        return shown_text(item, raw)


def _urls(product: dict, capability: dict) -> tuple[str, str]:
    page = products.capability_url(product, capability)
    return page + "/order", f"/api/v1{page}/order-form"


def order_view(request: Request, session: Session, user: Identity, product: dict, capability: dict,
               state: FormState) -> OrderView:
    action_url, json_url = _urls(product, capability)
    page = state.page
    if page is not None:
        raw = state.raw_for(state.step)
        options = load_picker_options(session, page.all_fields())
    else:
        raw, options = state.draft.raw, {}
    review = []
    if state.on_review:
        for index, each in enumerate(state.form.pages):
            values = parse_fields(each.fields, state.raw_for(index)).values
            review.append((index, each.title, review_rows(each.fields, values)))
    policy = request.app.state.policy
    return OrderView(state, action_url, json_url, policy.allows(user, "requests.request.create", None),
                     f"/auth/sign-in?next={quote(products.capability_url(product, capability))}",
                     seal(state.draft, request.app.state.settings.secret_key), raw, options, review)


def order_panel_context(request: Request, session: Session, product: dict, capability: dict) -> dict:
    """What the capability page needs to show the form's first step (products/capability.html)."""
    try:
        user = current_user(request)
    except HTTPException:
        user = ANONYMOUS  # a bad API token on a page: the page still shows, with the sign-in link
    form = order_form_for(session, capability)
    return {"order": order_view(request, session, user, product, capability, start(form))}


def _find(session: Session, product_name: str, name: str) -> tuple[dict, dict]:
    product = products.find_product(session, product_name)
    if product is None:
        raise HTTPException(404, f"There is no platform product called “{product_name[:100]}”.")
    capability = products.find_capability(session, product, name)
    if capability is None:
        raise HTTPException(404, f"The product “{product_name[:100]}” has no capability called “{name[:100]}”.")
    return product, capability


def _render(request: Request, view: OrderView, product: dict, status: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "requests/order_form.html", {
        "order": view, "product": product, "product_summary": products.product_summary(product, 0),
        "summary": products.capability_summary(product, view.form.capability),
    }, status_code=status)


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The posted fields as lists of strings (files are refused: no order takes one)."""
    try:
        form = await request.form(max_fields=FORM_MAX_FIELDS, max_files=0)
    except HTTPException as error:
        raise HTTPException(400, f"The form could not be read: {error.detail}") from None
    posted: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise HTTPException(400, f"The form field {key[:60]!r} is a file; orders take no files")
        posted.setdefault(key, []).append(value)
    return posted


@pages.get("/products/{product_name}/capabilities/{name}/order", response_model=None)
def order_page(product_name: str, name: str, request: Request, session: SessionDep,
               user: CurrentUser) -> Response:
    """The first step of the order form; JSON clients get the field model (the JSON twin)."""
    product, capability = _find(session, product_name, name)
    form = order_form_for(session, capability)
    if not wants_html(request):
        return JSONResponse(form.as_json())
    return _render(request, order_view(request, session, user, product, capability, start(form)), product)


@pages.post("/products/{product_name}/capabilities/{name}/order", response_model=None)
def order_step(product_name: str, name: str, request: Request, session: SessionDep, user: CurrentUser,
               posted: Annotated[dict[str, list[str]], Depends(posted_form)]) -> Response:
    """Next, Back, Edit or Submit: the next step of the form, the form again with its errors, or the order."""
    product, capability = _find(session, product_name, name)
    form = order_form_for(session, capability)
    if form.problem:
        state = start(form)
        return _render(request, order_view(request, session, user, product, capability, state), product, 422)
    state = advance(session, form, posted, request.app.state.settings.secret_key)
    if state.ready is not None:
        try:
            check_may_create(request, user, "request")
        except HTTPException as refusal:
            # The form again, with what was typed, rather than a bare error page.
            state.ready = None
            then = " What you typed is kept: sign in, then submit again." if refusal.status_code == 401 else ""
            state.errors.general.append(f"{refusal.detail}.{then}")
            return _render(request, order_view(request, session, user, product, capability, state), product,
                           refusal.status_code)
        created = create(session, state, actor_of(user))
        if not isinstance(created, FormState):
            return RedirectResponse(f"/requests/{created.public_id}", status_code=303)
    status = 422 if state.errors else 200
    return _render(request, order_view(request, session, user, product, capability, state), product, status)


@pages.get("/products/{product_name}/capabilities/{name}/order/options", response_model=None)
def picker_options(product_name: str, name: str, request: Request, session: SessionDep) -> Response:
    """Options of a picker matching what was typed (HTMX refreshes the datalist with these)."""
    product, capability = _find(session, product_name, name)
    field_name = request.query_params.get("field", "")
    form = order_form_for(session, capability)
    target = next((item for item in form.all_fields() if item.name == field_name and item.picker), None)
    if target is None or target.picker is None:
        raise HTTPException(404, f"This order form has no picker called {field_name[:100]!r}")
    term = request.query_params.get(field_name) or request.query_params.get("q") or ""
    found = search_picker_options(session, target.picker, term)
    if not wants_html(request) and request.headers.get("hx-request") != "true":
        return JSONResponse({"items": [{"value": c.value, "label": c.label} for c in found.choices],
                             "complete": found.complete})
    return request.app.state.templates.TemplateResponse(request, "requests/_form_picker_options.html",
                                                        {"choices": found.choices})


@api.get("/{product_name}/capabilities/{name}/order-form")
def order_form_json(product_name: str, name: str, session: SessionDep) -> dict:
    """The order form's field model: pages, fields, choices, pickers, and where to submit."""
    product, capability = _find(session, product_name, name)
    return order_form_for(session, capability).as_json()
