"""What the entity page shows, prepared from a full entity: overview, relations and kind-specific sections."""

from __future__ import annotations

from sqlmodel import Session

from portal.catalog.graph import describe_refs
from portal.catalog.refs import DEFAULT_NAMESPACE
from portal.web.humanize import display_name, entity_url, kind_name, ref_label, to_ref

MAX_PER_RELATION = 50
MAX_DESCRIBED = 500
ORPHAN_ANNOTATION = "backstage.io/orphan"
MANAGED_BY = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN = "backstage.io/managed-by-origin-location"

# Kind-specific sections: (heading, relation type, kind of the related entity or None for any).
KIND_SECTIONS = {
    "group": [("Members", "hasMember", "user"), ("Child groups", "parentOf", "group"),
              ("Parent group", "childOf", "group")],
    "user": [("Groups", "memberOf", None)],
    "system": [("Components", "hasPart", "component"), ("APIs", "hasPart", "api"),
               ("Resources", "hasPart", "resource")],
    "domain": [("Systems", "hasPart", "system")],
    "platformproduct": [("Capabilities", "hasPart", "capability")],
    "capability": [("Used by", "capabilityUsedBy", None)],
}


def _item(ref: str, titles: dict[str, str]) -> dict:
    parsed = to_ref(ref)
    return {"ref": ref, "kind": kind_name(parsed.kind) if parsed else "", "label": titles.get(ref) or ref_label(ref),
            "url": entity_url(ref), "exists": ref in titles}


def _relations_by_type(entity: dict) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for relation in entity.get("relations") or []:
        targets = grouped.setdefault(relation["type"], [])
        if relation["targetRef"] not in targets:
            targets.append(relation["targetRef"])
    return dict(sorted(grouped.items()))


def _product_link(entity: dict, kind: str, by_type: dict[str, list[str]]) -> dict | None:
    """Where the product pages show this entity: the product itself, or a capability under its product."""
    name = entity["metadata"]["name"]
    if kind == "platformproduct":
        return {"url": f"/products/{name}", "label": "Open the product page"}
    if kind == "capability":
        products = [ref for ref in by_type.get("partOf", []) if ref.startswith("platformproduct:")]
        parsed = to_ref(products[0]) if products else None
        if parsed:
            return {"url": f"/products/{parsed.name}/capabilities/{name}", "label": "Open the capability page"}
    return None


def entity_sections(session: Session, entity: dict) -> dict:
    """Template context for one entity page."""
    metadata, spec = entity.get("metadata") or {}, entity.get("spec") or {}
    kind = str(entity.get("kind", "")).lower()
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    annotations = metadata.get("annotations") or {}
    by_type = _relations_by_type(entity)
    wanted = sorted({ref for refs in by_type.values() for ref in refs[:MAX_PER_RELATION]})[:MAX_DESCRIBED]
    titles = describe_refs(session, wanted)
    relation_groups = [
        {"type": rel_type, "entries": [_item(ref, titles) for ref in refs[:MAX_PER_RELATION]],
         "more": max(0, len(refs) - MAX_PER_RELATION)}
        for rel_type, refs in by_type.items()
    ]
    kind_sections = []
    for heading, rel_type, related_kind in KIND_SECTIONS.get(kind, []):
        refs = [ref for ref in by_type.get(rel_type, []) if related_kind is None or ref.startswith(related_kind + ":")]
        kind_sections.append({"heading": heading, "entries": [_item(ref, titles) for ref in refs[:MAX_PER_RELATION]],
                              "more": max(0, len(refs) - MAX_PER_RELATION)})
    owner = spec.get("owner") if isinstance(spec.get("owner"), str) else None
    definition = spec.get("definition") if kind == "api" and isinstance(spec.get("definition"), str) else None
    return {
        "title": display_name(entity),
        "kind": entity.get("kind", ""),
        "namespace": namespace,
        "entity_ref": f"{kind}:{namespace}/{metadata.get('name')}".lower(),
        "owner": owner,
        "owner_label": ref_label(owner, "Group", namespace) if owner else None,
        "owner_url": entity_url(owner, "Group", namespace) if owner else None,
        "orphan": annotations.get(ORPHAN_ANNOTATION) == "true",
        "errors": ((entity.get("status") or {}).get("items")) or [],
        "managed_by": annotations.get(MANAGED_BY),
        "managed_by_origin": annotations.get(MANAGED_BY_ORIGIN),
        "annotations": sorted(annotations.items()),
        "links": [link for link in metadata.get("links") or [] if isinstance(link, dict) and link.get("url")],
        "relation_groups": relation_groups,
        "kind_sections": kind_sections,
        "api_definition": definition,
        "product_link": _product_link(entity, kind, by_type),
        "api_url": "/api/catalog/entities/by-name/{}/{}/{}".format(
            entity.get("kind", ""), namespace, metadata.get("name", "")),
    }
