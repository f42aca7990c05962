"""The demo organisation is read from the stored catalog; an odd component never spoils the others."""

from __future__ import annotations

from portal.catalog.store import PreparedEntity, write_entities
from portal.demo.organisation import read_organisation
from portal.demo.seed import seed_demo
from portal.flow.models import FlowChange

LOCATION = "file:/srv/catalog/odd.yaml"


def _component(name: str, annotations: dict) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-shipments"}}


def test_reads_components_capabilities_products_and_members(session, demo_catalog) -> None:  # noqa: ANN001
    organisation = read_organisation(session)
    shipments = next(c for c in organisation.components if c.name == "shipments-service")
    assert shipments.repository == ("github", "northwind/shipments-service")
    assert shipments.owner == "group:default/team-shipments"
    assert "capability:default/ci-pipeline" in shipments.uses
    inventory = next(c for c in organisation.components if c.name == "inventory-service")
    assert inventory.repository == ("gitlab", "northwind/warehouse/inventory-service")
    ci = next(c for c in organisation.capabilities if c.name == "ci-pipeline")
    assert (ci.mode, ci.target_lead_time, ci.product) == ("automated", "PT30M", "platformproduct:default/delivery-platform")
    assert "platformproduct:default/delivery-platform" in organisation.products
    assert organisation.members["group:default/team-shipments"]


def test_a_component_with_hostile_links_gets_no_records_and_the_others_do(session, demo_catalog,  # noqa: ANN001
                                                                         short_year) -> None:
    write_entities(session, [
        PreparedEntity(_component("very-long", {"github.com/project-slug": "northwind/" + "x" * 500}),
                       LOCATION, LOCATION),
        PreparedEntity(_component("traversal", {"github.com/project-slug": "../../etc/passwd",
                                                "pagerduty.com/service-id": "javascript:alert(1)"}),
                       LOCATION, LOCATION),
    ])
    session.commit()
    organisation = read_organisation(session)
    odd = {c.name: c for c in organisation.components if c.name in ("very-long", "traversal")}
    assert odd["very-long"].repository is None and odd["traversal"].repository is None
    assert "pagerduty.com/service-id" not in odd["traversal"].annotations
    seed_demo(session, short_year)
    session.commit()
    linked = set(session.execute(FlowChange.__table__.select().with_only_columns(FlowChange.link_value)
                                 .distinct()).scalars())
    assert "northwind/shipments-service" in linked
    assert not any("passwd" in value or "xxxx" in value for value in linked)
