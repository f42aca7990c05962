"""Platform products and their capabilities, read from the catalog for the product pages and API."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogRelation, CatalogSearch
from portal.catalog.refs import DEFAULT_NAMESPACE
from portal.catalog.store import assemble
from portal.web.humanize import display_name, entity_url, entity_url_of, human_duration, ref_label

MAX_PRODUCTS = 200


def _uids_of_kind(kind: str):
    # The search table holds the lower-cased kind, so this matches however the descriptor spelled it.
    return select(CatalogSearch.entity_uid).where(CatalogSearch.key == "kind", CatalogSearch.value == kind.lower())


def list_products(session: Session) -> list[dict]:
    """Every platform product (up to MAX_PRODUCTS), by name, as full entities."""
    rows = session.execute(
        select(CatalogEntity).where(CatalogEntity.uid.in_(_uids_of_kind("PlatformProduct")))
        .order_by(CatalogEntity.name, CatalogEntity.namespace).limit(MAX_PRODUCTS)
    ).scalars().all()
    return assemble(session, rows)


def capability_counts(session: Session, product_refs: Sequence[str]) -> dict[str, int]:
    """How many capabilities each product has, counted from `hasPart` relations in one query."""
    if not product_refs:
        return {}
    rows = session.execute(
        select(CatalogRelation.source_ref, func.count(func.distinct(CatalogRelation.target_ref)))
        .where(CatalogRelation.source_ref.in_(list(product_refs)), CatalogRelation.type == "hasPart",
               CatalogRelation.target_ref.like("capability:%"))
        .group_by(CatalogRelation.source_ref)
    ).all()
    return {source: count for source, count in rows}


def product_cards(session: Session) -> list[dict]:
    """Summaries of every product with its capability count: the home page and index cards."""
    products = list_products(session)
    refs = [_ref_of(product) for product in products]
    counts = capability_counts(session, refs)
    return [product_summary(product, counts.get(ref, 0)) for product, ref in zip(products, refs)]


def find_product(session: Session, name: str) -> dict | None:
    """The product called `name`, preferring the default namespace when several namespaces have one."""
    rows = session.execute(
        select(CatalogEntity).where(
            CatalogEntity.uid.in_(_uids_of_kind("PlatformProduct")), func.lower(CatalogEntity.name) == name.lower()
        )
    ).scalars().all()
    if not rows:
        return None
    rows = sorted(rows, key=lambda row: (row.namespace.lower() != DEFAULT_NAMESPACE, row.namespace))
    return assemble(session, rows[:1])[0]


def capabilities_of(session: Session, product: dict) -> list[dict]:
    """The capabilities that are `partOf` a product, ordered by title."""
    targets = [
        relation["targetRef"] for relation in product.get("relations", [])
        if relation["type"] == "hasPart" and relation["targetRef"].startswith("capability:")
    ]
    if not targets:
        return []
    rows = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref.in_(targets))).scalars().all()
    return sorted(assemble(session, rows), key=lambda entity: display_name(entity).lower())


def find_capability(session: Session, product: dict, name: str) -> dict | None:
    """A capability of `product` by name, or None when it is not part of that product."""
    for capability in capabilities_of(session, product):
        if capability["metadata"]["name"].lower() == name.lower():
            return capability
    return None


def _ref_of(entity: dict) -> str:
    metadata = entity["metadata"]
    return f"{entity['kind']}:{metadata.get('namespace', DEFAULT_NAMESPACE)}/{metadata['name']}".lower()


def product_url(product: dict) -> str:
    return f"/products/{product['metadata']['name']}"


def capability_url(product: dict, capability: dict) -> str:
    return f"{product_url(product)}/capabilities/{capability['metadata']['name']}"


def product_summary(product: dict, capability_count: int) -> dict:
    """The product fields a card or the JSON list needs."""
    spec, metadata = product.get("spec") or {}, product["metadata"]
    namespace = metadata.get("namespace", DEFAULT_NAMESPACE)
    return {
        "ref": _ref_of(product),
        "name": metadata["name"],
        "namespace": namespace,
        "title": display_name(product),
        "description": metadata.get("description", ""),
        "owner": spec.get("owner"),
        "ownerName": ref_label(spec.get("owner"), "Group", namespace) if spec.get("owner") else None,
        "ownerUrl": entity_url(spec.get("owner"), "Group", namespace) if spec.get("owner") else None,
        "lifecycle": spec.get("lifecycle"),
        "type": spec.get("type"),
        "capabilityCount": capability_count,
        "url": product_url(product),
        "entityUrl": entity_url_of(product),
    }


def capability_summary(product: dict, capability: dict) -> dict:
    """A capability described as a product of its own: who owns it, how it is delivered and how fast."""
    spec, metadata = capability.get("spec") or {}, capability["metadata"]
    namespace = metadata.get("namespace", DEFAULT_NAMESPACE)
    fulfillment = spec.get("fulfillment") or {}
    template = fulfillment.get("template")
    approvers = fulfillment.get("approvers")
    return {
        "ref": _ref_of(capability),
        "name": metadata["name"],
        "title": display_name(capability),
        "description": metadata.get("description", ""),
        "lifecycle": spec.get("lifecycle"),
        "owner": spec.get("owner"),
        "ownerName": ref_label(spec.get("owner"), "Group", namespace) if spec.get("owner") else None,
        "ownerUrl": entity_url(spec.get("owner"), "Group", namespace) if spec.get("owner") else None,
        "fulfillmentMode": fulfillment.get("mode"),
        "approvers": approvers,
        "approversName": ref_label(approvers, "Group", namespace) if approvers else None,
        "approversUrl": entity_url(approvers, "Group", namespace) if approvers else None,
        "template": template,
        "templateName": ref_label(template, "Template", namespace) if template else None,
        "templateUrl": entity_url(template, "Template", namespace) if template else None,
        "targetLeadTime": spec.get("targetLeadTime"),
        "targetLeadTimeText": human_duration(spec.get("targetLeadTime")),
        "timeSaved": spec.get("timeSaved"),
        "timeSavedText": human_duration(spec.get("timeSaved")),
        "links": [link for link in metadata.get("links") or [] if isinstance(link, dict) and link.get("url")],
        "tags": metadata.get("tags") or [],
        "url": capability_url(product, capability),
        "entityUrl": entity_url_of(capability),
    }
