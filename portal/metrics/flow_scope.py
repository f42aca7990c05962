"""What a flow or value-stream query is about: a product's or a capability's requests, or an entity's work items.

Exactly one of `product`, `capability` or `entity` names the scope (400 otherwise); one the catalog
does not hold is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from portal.errors import CatalogApiError
from portal.metrics.window import Window
from portal.requests.models import KINDS, Request, RequestEvent
from portal.requests.offerings import OfferingRefError, capability_offering, normalize_ref, product_offering
from portal.requests.passes import bring_scope_up_to_date
from portal.requests.passes_models import RequestPass
from portal.requests.stages import ValueStream

MAX_REF_LENGTH = 400
# Past about three months most of a scope's requests move in the window: asking each of them (its events
# are a range of ix_request_events_request_at) is then cheaper than listing every event of the window
# (ix_request_events_at), which SQLite does before it looks at a request (a year: 150 ms against 50 ms).
LONG_WINDOW_DAYS = 90


def moved_in(window: Window, *, or_after: bool = False) -> ColumnElement:
    """The condition on `Request`: it has an event in the window (or, `or_after`, at or after its start)."""
    inside = (RequestEvent.at >= window.start,) if or_after else (RequestEvent.at >= window.start,
                                                                  RequestEvent.at < window.end)
    if window.seconds > LONG_WINDOW_DAYS * 86_400:
        return exists().where(RequestEvent.request_id == Request.id, *inside)
    return Request.id.in_(select(RequestEvent.request_id).where(*inside))


@dataclass(frozen=True)
class RequestScope:
    """The requests of one product (ideas, or its capabilities' orders) or of one capability (orders)."""

    kind: str
    product_ref: str | None
    capability_ref: str | None
    stream: ValueStream

    @property
    def condition(self) -> ColumnElement:
        if self.capability_ref is not None:
            return and_(Request.capability_ref == self.capability_ref, Request.kind == self.kind)
        return and_(Request.product_ref == self.product_ref, Request.kind == self.kind)

    @property
    def pass_condition(self) -> ColumnElement:
        """The same scope on `request_passes` (which carries each request's scope columns)."""
        if self.capability_ref is not None:
            return and_(RequestPass.capability_ref == self.capability_ref, RequestPass.kind == self.kind)
        return and_(RequestPass.product_ref == self.product_ref, RequestPass.kind == self.kind)

    def json(self) -> dict:
        return {"kind": self.kind, "product": self.product_ref, "capability": self.capability_ref}

    def bring_up_to_date(self, session: Session) -> int:
        """Re-derive the requests of the scope's product (a capability's orders follow its product's value
        stream) derived with another value stream or never (requests/passes.py)."""
        return bring_scope_up_to_date(session, self.product_ref, self.kind, self.stream)


def check_ref_text(value: str, name: str) -> None:
    """A query-string ref that is too long or carries control characters is a 400 naming it."""
    if len(value) > MAX_REF_LENGTH:
        raise CatalogApiError(400, f"{name} is longer than {MAX_REF_LENGTH} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise CatalogApiError(400, f"{name} must not contain control characters")


def exactly_one(**named: str | None) -> tuple[str, str]:
    """The one parameter given among `named`; 400 naming them all when none or several are."""
    given = [(name, value) for name, value in named.items() if value is not None and value.strip()]
    if len(given) != 1:
        names = ", ".join(named)
        raise CatalogApiError(400, f"give exactly one of {names} (got {len(given)})")
    name, value = given[0]
    check_ref_text(value, name)
    return name, value.strip()


def _ref(value: str, name: str, kind: str) -> str:
    try:
        return normalize_ref(value, kind)
    except OfferingRefError as error:
        raise CatalogApiError(400, f"{name}={value[:100]!r}: {error}") from None


def request_scope(session: Session, name: str, value: str, kind: str | None) -> RequestScope:
    """The requests of `product` (orders by default, `kind=idea` for its ideas) or of `capability` (orders)."""
    if kind is not None and kind not in KINDS:
        raise CatalogApiError(400, f"kind must be one of {', '.join(KINDS)}")
    if name == "capability":
        if kind == "idea":
            raise CatalogApiError(400, "a capability has orders, not ideas; use product= for ideas")
        ref = _ref(value, name, "capability")
        offering = capability_offering(session, ref)
        if offering is None:
            raise CatalogApiError(404, f"There is no capability {ref} in the catalog")
        return RequestScope("order", offering.product_ref, ref, offering.value_stream("order"))
    ref = _ref(value, name, "platformproduct")
    offering = product_offering(session, ref)
    if offering is None:
        raise CatalogApiError(404, f"There is no platform product {ref} in the catalog")
    kind = kind or "order"
    return RequestScope(kind, ref, None, offering.value_stream(kind))
