"""What a request is for, read from the catalog: the capability ordered or the product an idea is for."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity
from portal.catalog.refs import RefError, parse_ref
from portal.requests.stages import ValueStream, value_stream_for


class OfferingRefError(ValueError):
    """A ref that is malformed or names the wrong kind of entity."""


def normalize_ref(ref: str, kind: str) -> str:
    """`name`, `namespace/name` or `kind:namespace/name` as the lower-cased ref of a `kind` entity."""
    try:
        parsed = parse_ref(ref, default_kind=kind)
    except RefError as error:
        raise OfferingRefError(str(error)) from None
    if parsed.kind.lower() != kind.lower():
        raise OfferingRefError(f"{ref!r} is a {parsed.kind} ref; a {kind} ref is needed")
    return parsed.key


def group_ref(ref: object) -> str | None:
    """A descriptor's owner or approvers group as a full lower-cased ref (`group:default/team-a`)."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    try:
        return parse_ref(ref, default_kind="group").key
    except RefError:
        return None


def load_entity(session: Session, ref: str) -> dict | None:
    """The stored descriptor of an entity by its lower-cased ref."""
    body = session.execute(select(CatalogEntity.body).where(CatalogEntity.entity_ref == ref)).scalar_one_or_none()
    return json.loads(body) if body is not None else None


def _spec(entity: dict | None) -> dict:
    spec = (entity or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


@dataclass(frozen=True)
class Offering:
    """The capability (orders) or product (ideas) behind a request, with what rules need from them."""

    capability_ref: str | None
    capability: dict | None
    product_ref: str | None
    product: dict | None

    @property
    def fulfillment(self) -> dict:
        fulfillment = _spec(self.capability).get("fulfillment")
        return fulfillment if isinstance(fulfillment, dict) else {}

    @property
    def fulfillment_mode(self) -> str:
        mode = self.fulfillment.get("mode")
        return mode if mode in ("automated", "approval", "manual") else "manual"

    @property
    def approvers(self) -> str | None:
        return group_ref(self.fulfillment.get("approvers"))

    @property
    def owners(self) -> tuple[str, ...]:
        """The owner groups who move requests on: the capability's and its product's."""
        refs = (group_ref(_spec(self.capability).get("owner")), group_ref(_spec(self.product).get("owner")))
        return tuple(dict.fromkeys(ref for ref in refs if ref))

    @property
    def target_lead_time(self) -> str | None:
        value = _spec(self.capability).get("targetLeadTime")
        return value if isinstance(value, str) else None

    @property
    def inputs_schema(self) -> dict | bool | None:
        return _spec(self.capability).get("inputs")

    def value_stream(self, kind: str) -> ValueStream:
        return value_stream_for(kind, self.product)


def capability_offering(session: Session, capability_ref: str) -> Offering | None:
    """A capability and its product; None when the capability is not in the catalog."""
    capability = load_entity(session, capability_ref)
    if capability is None or str(capability.get("kind", "")).lower() != "capability":
        return None
    product_ref = None
    product_value = _spec(capability).get("product")
    if isinstance(product_value, str):
        try:
            product_ref = normalize_ref(product_value, "platformproduct")
        except OfferingRefError:
            product_ref = None
    product = load_entity(session, product_ref) if product_ref else None
    return Offering(capability_ref, capability, product_ref, product)


def product_offering(session: Session, product_ref: str) -> Offering | None:
    """A platform product; None when it is not in the catalog."""
    product = load_entity(session, product_ref)
    if product is None or str(product.get("kind", "")).lower() != "platformproduct":
        return None
    return Offering(None, None, product_ref, product)


def offering_of(session: Session, capability_ref: str | None, product_ref: str | None) -> Offering:
    """What an existing request is for, as the catalog has it now (empty parts when it has since gone)."""
    if capability_ref:
        found = capability_offering(session, capability_ref)
        if found is not None:
            return found
        return Offering(capability_ref, None, product_ref, load_entity(session, product_ref) if product_ref else None)
    product = load_entity(session, product_ref) if product_ref else None
    return Offering(None, None, product_ref, product)
