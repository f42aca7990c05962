"""The store keeps facet counts equal to a recount of the search rows, through inserts, updates,
deletes and concurrent writers, and facets and totals read from them match the index's answer."""

import threading

from sqlalchemy import func, select
from sqlmodel import Session

from portal.catalog import kept_counts
from portal.catalog.models import CatalogEntity, CatalogFacetCount, CatalogSearch
from portal.catalog.query import EntityQuery, entity_facets, query_entities
from portal.catalog.query_filters import parse_filter_params
from portal.catalog.store import BATCH_SIZE, PreparedEntity, delete_entities, write_entities


def entity(kind: str, name: str, tags: list[str], **spec) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": name, "tags": tags}, "spec": {"owner": "team-a", **spec}}


def stored(items: list[dict], location: str = "file:/c.yaml") -> list[PreparedEntity]:
    return [PreparedEntity(item, location, location) for item in items]


def kept(session) -> dict:
    rows = session.execute(select(CatalogFacetCount.key, CatalogFacetCount.kind, CatalogFacetCount.value,
                                  CatalogFacetCount.original_value, CatalogFacetCount.entities)).all()
    return {tuple(row[:4]): row[4] for row in rows}


def recounted(session) -> dict:
    search = CatalogSearch
    rows = session.execute(
        select(search.key, search.kind, search.value, search.original_value, func.count())
        .where(search.key.in_(sorted(kept_counts.COUNTED_KEYS)), search.original_value.is_not(None))
        .group_by(search.key, search.kind, search.value, search.original_value)
    ).all()
    return {tuple(row[:4]): row[4] for row in rows}


def test_counts_follow_inserts_updates_and_deletes(session):
    write_entities(session, stored([
        entity("Component", "web", ["java", "Java"], type="service", lifecycle="production"),
        entity("Component", "api-gw", ["go"], type="Service", lifecycle="experimental"),
        entity("API", "orders", ["java"], type="openapi", lifecycle="production", definition="x"),
    ]))
    before = kept(session)
    assert before == recounted(session)
    assert before[("spec.type", "component", "service", "service")] == 1
    assert before[("spec.type", "component", "service", "Service")] == 1
    assert before[("kind", "api", "api", "API")] == 1

    # web changes its type and drops a tag; api-gw is unchanged
    write_entities(session, stored([
        entity("Component", "web", ["java"], type="website", lifecycle="production"),
        entity("Component", "api-gw", ["go"], type="Service", lifecycle="experimental"),
        entity("API", "orders", ["java"], type="openapi", lifecycle="production", definition="x"),
    ]))
    after = kept(session)
    assert after == recounted(session)
    assert ("spec.type", "component", "service", "service") not in after  # no rows of zero are kept
    assert after[("spec.type", "component", "website", "website")] == 1

    api_uid = session.execute(select(CatalogEntity.uid).where(CatalogEntity.kind == "API")).scalar_one()
    delete_entities(session, [api_uid])
    assert kept(session) == recounted(session)
    assert not [key for key in kept(session) if key[1] == "api"]


def test_a_large_write_in_batches_keeps_exact_counts(session):
    items = [entity("Component", f"svc-{n:04d}", ["java"] if n % 3 else ["go", "java"],
                    type="service" if n % 2 else "library", lifecycle="production")
             for n in range(BATCH_SIZE * 2 + 7)]
    write_entities(session, stored(items))
    counts = kept(session)
    assert counts == recounted(session)
    assert counts[("metadata.tags", "component", "java", "java")] == len(items)
    assert counts[("kind", "component", "component", "Component")] == len(items)


def test_concurrent_writers_of_two_locations_keep_exact_counts(engine):
    # Two writers in their own transactions, each in several batches that touch the same count rows.
    # On PostgreSQL both run at once and meet on the generation row; SQLite takes them in turn.
    errors: list[BaseException] = []

    def writer(location: str) -> None:
        try:
            with Session(engine) as own:
                items = [entity("Component", f"{location}-{n}", ["java", "go"], type="service", lifecycle="production")
                         for n in range(BATCH_SIZE * 2)]
                write_entities(own, stored(items, f"file:/{location}.yaml"))
                own.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(engine) as session:
        counts = kept(session)
        assert counts == recounted(session)
        assert counts[("metadata.tags", "component", "go", "go")] == BATCH_SIZE * 4


def test_facets_and_totals_from_the_kept_counts_equal_the_index_answer(session, monkeypatch):
    write_entities(session, stored(
        [entity("Component", f"c{n}", ["java", "go"][: 1 + n % 2], type=["service", "Service", "library"][n % 3],
                lifecycle="production") for n in range(30)]
        + [entity("API", f"a{n}", ["java"], type="openapi", lifecycle="production", definition="x")
           for n in range(5)]
    ))
    questions = [([], None), (["kind=component"], None), (["kind=api", "kind=component"], None),
                 (["kind=Component,kind=api"], None), (["kind=component"], "spec.type=service")]
    keys = ["kind", "spec.type", "metadata.tags", "spec.lifecycle", "spec.owner", "metadata.namespace"]

    def answers() -> list:
        result = []
        for filters, extra in questions:
            parsed = parse_filter_params(filters)
            result.append(entity_facets(session, keys, parsed))
            counted = parse_filter_params([f"{filters[0]},{extra}"] if extra else filters)
            result.append(query_entities(session, EntityQuery(filters=counted, limit=1)).total_items)
        return result

    from_kept = answers()
    monkeypatch.setattr(kept_counts, "COUNTED_KEYS", frozenset())  # every answer from the search index
    import portal.catalog.generation as generation
    monkeypatch.setattr(generation.GenerationCache, "get_or_compute", lambda self, s, q, compute: compute())
    assert answers() == from_kept
    assert from_kept[1] == 35 and from_kept[3] == 30


def test_facets_of_counted_keys_are_read_from_the_kept_counts(session, monkeypatch):
    write_entities(session, stored([entity("Component", "web", ["java"], type="service", lifecycle="production")]))
    import portal.catalog.generation as generation
    monkeypatch.setattr(generation.GenerationCache, "get_or_compute", lambda self, s, q, compute: compute())
    # A count only the kept table holds shows up in the answer: the search rows were not read.
    row = session.get(CatalogFacetCount, ("spec.type", "component", "service", "service"))
    row.entities = 7
    session.flush()
    assert entity_facets(session, ["spec.type"], parse_filter_params(["kind=component"])) == {
        "spec.type": [{"value": "service", "count": 7}]}
    total = query_entities(session, EntityQuery(filters=parse_filter_params(["kind=component,spec.type=service"])))
    assert total.total_items == 7
