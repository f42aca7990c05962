"""A small, varied catalog written straight to the store, shared by the catalog API tests."""

from __future__ import annotations

from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities

LOCATION = "url:https://git.example.com/org/catalog/blob/main/catalog-info.yaml"


def component(name: str, owner: str, type_: str = "service", tags: list[str] | None = None, **spec) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "tags": tags or [], "title": name.replace("-", " ").title()},
        "spec": {"type": type_, "lifecycle": "production", "owner": owner, **spec},
    }


def group(name: str) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": name}, "spec": {"type": "team", "children": []}}


def api(name: str, owner: str) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": name},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": owner, "definition": "openapi: 3.0.0"}}


def seed_entities() -> list[dict]:
    """13 entities: 2 groups, 2 APIs, 9 components (services, websites, a library) with tags."""
    return [
        group("team-a"),
        group("team-b"),
        api("orders-api", "team-a"),
        api("billing-api", "team-b"),
        component("orders", "team-a", tags=["java", "kafka"], providesApis=["orders-api"]),
        component("billing", "team-b", tags=["java"], providesApis=["billing-api"], consumesApis=["orders-api"]),
        component("checkout", "team-a", tags=["go"], consumesApis=["orders-api", "billing-api"]),
        component("web-shop", "team-a", type_="website", tags=["react"]),
        component("Admin-Console", "team-b", type_="website", tags=["React", "java"]),
        component("payments", "team-b", tags=["go", "kafka"]),
        component("search", "team-a", tags=["python"]),
        component("shared-utils", "team-b", type_="library"),
        component("inventory", "group:default/team-a", tags=["python", "kafka"]),
    ]


def seed(session: Session, entities: list[dict] | None = None) -> None:
    """Write the entities and commit, as an ingestion run would."""
    items = [PreparedEntity(e, LOCATION, LOCATION) for e in entities or seed_entities()]
    write_entities(session, items)
    session.commit()
