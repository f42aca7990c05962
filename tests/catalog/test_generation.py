"""Counts and facets are computed once per catalog generation and never outlive a write."""

from portal.catalog import query as query_module
from portal.catalog.generation import current_generation
from portal.catalog.query import EntityQuery, entity_facets, query_entities
from portal.catalog.store import PreparedEntity, delete_entities, set_orphan, write_entities


def component(name: str, lifecycle: str = "production") -> PreparedEntity:
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": name},
              "spec": {"type": "service", "lifecycle": lifecycle, "owner": "team-a"}}
    return PreparedEntity(entity, "file:/c.yaml", "file:/c.yaml")


def count(session) -> int:
    return query_entities(session, EntityQuery(filters=[{"kind": ["component"]}], limit=1)).total_items


def test_every_kind_of_write_moves_the_generation(session):
    assert current_generation(session) is None
    write_entities(session, [component("a"), component("b")])
    first = current_generation(session)
    write_entities(session, [component("a"), component("b")])  # unchanged: nothing to invalidate
    assert current_generation(session) == first
    set_orphan(session, [query_module.get_by_ref(session, "component:a")["metadata"]["uid"]])
    second = current_generation(session)
    assert second[1] > first[1] and second[0] != first[0]
    delete_entities(session, [query_module.get_by_ref(session, "component:b")["metadata"]["uid"]])
    assert current_generation(session)[1] > second[1]


def test_a_rolled_back_write_never_leaves_a_stale_count(session):
    write_entities(session, [component("a")])
    session.commit()
    write_entities(session, [component("b")])
    assert count(session) == 2  # seen inside the writing transaction…
    session.rollback()
    write_entities(session, [component("c"), component("d")])
    session.commit()
    assert count(session) == 3  # …and never served for the next, different catalog


def test_a_count_is_computed_once_per_generation_and_fresh_after_a_write(session, monkeypatch):
    write_entities(session, [component("a"), component("b")])
    session.commit()
    calls = []
    real_count = query_module.count_matches
    monkeypatch.setattr(query_module, "count_matches", lambda *a: calls.append(1) or real_count(*a))
    assert count(session) == 2 and count(session) == 2
    assert len(calls) == 1
    write_entities(session, [component("c")])
    session.commit()
    assert count(session) == 3
    assert len(calls) == 2


def test_facets_follow_the_catalog(session):
    write_entities(session, [component("a"), component("b", "experimental")])
    facets = entity_facets(session, ["spec.lifecycle"])
    assert {f["value"]: f["count"] for f in facets["spec.lifecycle"]} == {"production": 1, "experimental": 1}
    write_entities(session, [component("c", "experimental")])
    facets = entity_facets(session, ["spec.lifecycle"])
    assert {f["value"]: f["count"] for f in facets["spec.lifecycle"]} == {"production": 1, "experimental": 2}


def test_a_cache_of_no_entries_computes_every_answer(session, monkeypatch):
    from portal.catalog.generation import MAX_ENTRIES, install_cache

    write_entities(session, [component("a")])
    session.commit()
    calls = []
    real_count = query_module.count_matches
    monkeypatch.setattr(query_module, "count_matches", lambda *a: calls.append(1) or real_count(*a))
    install_cache(session.get_bind(), 0)  # FLOWPORT_CATALOG_COUNT_CACHE_ENTRIES=0
    try:
        assert count(session) == 1 and count(session) == 1
        assert len(calls) == 2
    finally:
        install_cache(session.get_bind(), MAX_ENTRIES)
