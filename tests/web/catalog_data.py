"""A small, realistic catalog for page and browser tests: teams, people, a product and its capabilities."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity
from portal.catalog.store import PreparedEntity, set_orphan, write_entities

BACKSTAGE = "backstage.io/v1alpha1"
FLOWPORT = "flowport.dev/v1alpha1"
LOCATION = "file:/srv/catalog/northwind.yaml"

PROCESSING_ERROR = {
    "type": "backstage.io/catalog-processing",
    "level": "error",
    "message": "spec.owner: team-ghost does not exist",
    "error": {"name": "InputError", "message": "Owner group:default/team-ghost was not found"},
}


def entity(api_version: str, kind: str, name: str, spec: dict, **metadata) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def group(name: str, title: str, members: list[str], children: list[str] | None = None, parent: str | None = None) -> dict:
    spec = {"type": "team", "children": children or [], "members": members, "profile": {"displayName": title}}
    if parent:
        spec["parent"] = parent
    return entity(BACKSTAGE, "Group", name, spec, title=title)


def user(name: str, display: str, groups: list[str]) -> dict:
    return entity(BACKSTAGE, "User", name, {"profile": {"displayName": display, "email": f"{name}@northwind.example"},
                                            "memberOf": groups})


def component(name: str, title: str, owner: str, lifecycle: str = "production", **spec) -> dict:
    tags = spec.pop("tags", ["python"])
    return entity(BACKSTAGE, "Component", name, {"type": "service", "lifecycle": lifecycle, "owner": owner, **spec},
                  title=title, description=f"{title} for Northwind's parcel network.", tags=tags)


# Twelve services so that paging with limit=5 has three pages.
SERVICE_NAMES = [
    ("carrier-gateway", "Carrier gateway"), ("eta-predictor", "ETA predictor"),
    ("label-printer", "Label printer"), ("parcel-scanner", "Parcel scanner"),
    ("route-planner", "Route planner"), ("dock-scheduler", "Dock scheduler"),
    ("invoice-service", "Invoice service"), ("pallet-tracker", "Pallet tracker"),
    ("customs-checker", "Customs checker"), ("hub-dashboard", "Hub dashboard"),
]


def catalog_entities() -> list[dict]:
    """Every entity of the test catalog."""
    items = [
        group("platform-engineering", "Platform Engineering", [], ["team-runtime"]),
        group("team-runtime", "Runtime team", ["alice.andersen"], parent="platform-engineering"),
        group("team-shipments", "Shipments team", ["bruno.costa", "chiara.rossi"]),
        user("alice.andersen", "Alice Andersen", ["team-runtime"]),
        user("bruno.costa", "Bruno Costa", ["team-shipments"]),
        user("chiara.rossi", "Chiara Rossi", ["team-shipments"]),
        entity(BACKSTAGE, "System", "shipping", {"owner": "team-shipments"}, title="Shipping",
               description="Books shipments and tracks parcels."),
        component("shipments-service", "Shipments service", "group:team-shipments", system="shipping",
                  providesApis=["shipments-api"], dependsOn=["resource:shipments-db"], tags=["python", "fastapi"]),
        entity(BACKSTAGE, "API", "shipments-api", {
            "type": "openapi", "lifecycle": "production", "owner": "team-shipments", "system": "shipping",
            "definition": "openapi: 3.0.0\ninfo:\n  title: Shipments API\n  version: 1.0.0\npaths: {}\n",
        }, title="Shipments API", description="Book and query shipments."),
        entity(BACKSTAGE, "Resource", "shipments-db", {"type": "database", "owner": "team-shipments",
                                                        "system": "shipping"},
               title="Shipments database", description="PostgreSQL database of the shipments service."),
        entity("scaffolder.backstage.io/v1beta3", "Template", "python-service", {
            "type": "service", "owner": "team-runtime", "steps": [{"id": "fetch", "action": "fetch:template"}],
        }, title="Python service", description="A FastAPI service with CI and a catalog entry."),
        entity(FLOWPORT, "PlatformProduct", "runtime-platform", {
            "owner": "group:team-runtime", "lifecycle": "production", "type": "platform-product",
            "customers": ["group:team-shipments"],
            "objectives": ["Provision a database in under one hour instead of five days"],
        }, title="Runtime Platform", description="Kubernetes, managed PostgreSQL and secrets, self-service.",
            links=[{"url": "https://docs.northwind.example/runtime/", "title": "Runtime docs"}]),
        entity(FLOWPORT, "Capability", "postgres-database", {
            "product": "platformproduct:default/runtime-platform", "owner": "group:team-runtime", "lifecycle": "ga",
            "fulfillment": {"mode": "approval", "approvers": "group:default/team-runtime",
                            "template": "template:default/python-service"},
            "targetLeadTime": "P2D", "timeSaved": "PT16H",
        }, title="PostgreSQL database", description="A managed PostgreSQL database with backups.",
            links=[{"url": "https://docs.northwind.example/runtime/postgres/", "title": "Managed PostgreSQL"}]),
        entity(FLOWPORT, "Capability", "kubernetes-namespace", {
            "product": "platformproduct:default/runtime-platform", "owner": "group:team-runtime", "lifecycle": "beta",
            "fulfillment": {"mode": "automated"}, "targetLeadTime": "PT15M", "timeSaved": "PT8H",
        }, title="Kubernetes namespace", description="A namespace with quotas and RBAC."),
    ]
    items += [component(name, title, "team-shipments" if index % 2 else "team-runtime",
                        lifecycle="experimental" if index % 3 == 0 else "production",
                        tags=["go"] if index % 2 else ["python"])
              for index, (name, title) in enumerate(SERVICE_NAMES)]
    return items


def seed_catalog(session: Session) -> None:
    """Store the test catalog; one entity carries a processing error and one is an orphan."""
    prepared = []
    for item in catalog_entities():
        errors = [PROCESSING_ERROR] if item["metadata"]["name"] == "customs-checker" else []
        prepared.append(PreparedEntity(item, LOCATION, LOCATION, errors=errors))
    write_entities(session, prepared)
    session.flush()
    orphan_uid = session.execute(
        select(CatalogEntity.uid).where(CatalogEntity.entity_ref == "component:default/hub-dashboard")
    ).scalar_one()
    set_orphan(session, [orphan_uid])
    session.commit()
