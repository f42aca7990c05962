from portal.catalog.store import PreparedEntity, assemble, write_entities
from portal.catalog.models import CatalogEntity
from sqlalchemy import select


def component(name: str, **spec) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", **spec},
    }


def test_write_then_read_back_with_relations_both_ways(session):
    group = {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
             "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []}}
    items = [PreparedEntity(e, "file:/x.yaml", "file:/x.yaml") for e in (component("svc"), group)]
    result = write_entities(session, items)
    session.commit()
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 0)
    rows = session.execute(select(CatalogEntity).order_by(CatalogEntity.entity_ref)).scalars().all()
    svc, team = assemble(session, rows)
    assert svc["metadata"]["namespace"] == "default"
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in svc["relations"]
    assert {"type": "ownerOf", "targetRef": "component:default/svc"} in team["relations"]

    again = write_entities(session, items)
    assert again.unchanged == 2


def test_a_second_location_claiming_an_entity_is_a_conflict(session):
    write_entities(session, [PreparedEntity(component("svc"), "file:/a.yaml", "file:/a.yaml")])
    result = write_entities(session, [PreparedEntity(component("svc"), "file:/b.yaml", "file:/b.yaml")])
    assert result.conflicts == [("component:default/svc", "file:/a.yaml", "file:/b.yaml")]
