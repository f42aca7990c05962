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


def _index_rows(session, uid: str) -> tuple[int, int]:
    from sqlalchemy import func

    from portal.catalog.models import CatalogRelation, CatalogSearch
    search = session.execute(select(func.count()).where(CatalogSearch.entity_uid == uid)).scalar_one()
    relations = session.execute(
        select(func.count()).where(CatalogRelation.originating_uid == uid)).scalar_one()
    return search, relations


def test_a_large_write_prepared_in_a_thread_stores_everything_once_in_order(session):
    from portal.catalog.store import BATCH_SIZE

    # More than two batches, so preparing runs ahead in the helper thread; one duplicate ref
    # across batches (the later one wins) and one changed entity on the second write.
    names = [f"svc-{n:04d}" for n in range(BATCH_SIZE * 2 + 7)]
    items = [PreparedEntity(component(name), "file:/x.yaml", "file:/x.yaml") for name in names]
    items.append(PreparedEntity(component("svc-0003", lifecycle="deprecated"), "file:/x.yaml", "file:/x.yaml"))
    result = write_entities(session, items)
    session.commit()
    assert (result.inserted, result.updated, result.unchanged) == (len(names), 0, 0)
    stored = session.execute(select(CatalogEntity).order_by(CatalogEntity.name)).scalars().all()
    assert [row.name for row in stored] == names
    duplicate = next(row for row in stored if row.name == "svc-0003")
    assert '"lifecycle":"deprecated"' in duplicate.body
    assert all(_index_rows(session, row.uid)[0] > 10 and _index_rows(session, row.uid)[1] == 2  # ownedBy + ownerOf
               for row in stored[:3])

    items[5] = PreparedEntity(component("svc-0005", type="website"), "file:/x.yaml", "file:/x.yaml")
    again = write_entities(session, items)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, len(names) - 1)


def test_new_uids_are_version_7_and_ordered_by_creation():
    import time
    import uuid

    from portal.catalog.bulk_write import time_ordered_uid

    first = time_ordered_uid()
    time.sleep(0.002)
    later = [time_ordered_uid() for _ in range(50)]
    assert uuid.UUID(first).version == 7 and uuid.UUID(first).variant == uuid.RFC_4122
    assert all(first < uid for uid in later)
    assert len(set(later)) == 50


def test_deleting_entities_removes_their_search_and_relation_rows(session):
    from portal.catalog.store import delete_entities

    write_entities(session, [PreparedEntity(component("svc"), "file:/x.yaml", "file:/x.yaml")])
    uid = session.execute(select(CatalogEntity.uid)).scalar_one()
    assert _index_rows(session, uid) != (0, 0)
    # No foreign key cascades any more (migration 0017): the store removes derived rows itself.
    assert delete_entities(session, [uid]) == 1
    assert _index_rows(session, uid) == (0, 0)


def test_a_failure_while_preparing_reaches_the_writer(session, monkeypatch):
    import pytest

    from portal.catalog import store
    from portal.catalog.store import BATCH_SIZE

    original = store.search_rows

    def broken(entity):
        if entity["metadata"]["name"] == "svc-0700":
            raise RuntimeError("broken descriptor")
        return original(entity)

    monkeypatch.setattr(store, "search_rows", broken)
    items = [PreparedEntity(component(f"svc-{n:04d}"), "file:/x.yaml", "file:/x.yaml") for n in range(BATCH_SIZE * 3)]
    with pytest.raises(RuntimeError, match="broken descriptor"):
        write_entities(session, items)


def test_one_entity_read_in_one_statement_has_the_same_relations_as_assemble(session):
    from portal.catalog.query import get_by_ref

    group = {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
             "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []}}
    svc = component("svc", dependsOn=["resource:db", "resource:db", "component:other"], providesApis=["orders"])
    write_entities(session, [PreparedEntity(e, "file:/x.yaml", "file:/x.yaml")
                             for e in (svc, group, component("lonely", owner="nobody"))])
    rows = session.execute(select(CatalogEntity).order_by(CatalogEntity.entity_ref)).scalars().all()
    for row, assembled in zip(rows, assemble(session, rows)):
        single = get_by_ref(session, row.entity_ref)
        assert single == assembled
    svc_relations = get_by_ref(session, "component:default/svc")["relations"]
    assert svc_relations == sorted(svc_relations, key=lambda r: (r["type"], r["targetRef"]))
    assert {"type": "dependsOn", "targetRef": "resource:default/db"} in svc_relations
    assert len(svc_relations) == len({(r["type"], r["targetRef"]) for r in svc_relations})
