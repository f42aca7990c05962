"""Counts read from the search index equal a brute-force count over the catalog, for every filter shape."""

import pytest

from portal.catalog import query_count
from portal.catalog.cursor import Cursor
from portal.catalog.query_filters import parse_filter_params
from portal.catalog.query_paging import PagePlan, count_matches, count_through_entities
from tests.catalog.query_oracle import brute_force_count, catalog  # noqa: F401 - catalog is a fixture

FILTERS = {
    "one value": ["kind=component"],
    "one value, two casings stored": ["spec.type=service"],
    "and": ["kind=component,spec.type=service"],
    "and of three": ["kind=component,spec.type=service,spec.lifecycle=production"],
    "and, nothing matches": ["kind=component,spec.type=openapi"],
    "or": ["kind=group", "spec.type=library"],
    "or of overlapping ands": ["kind=component,spec.type=service", "kind=component,metadata.tags=java"],
    "several values of one key": ["kind=api,kind=group"],
    "several values an entity has both of": ["metadata.tags=java,metadata.tags=go"],
    "several values and another key": ["metadata.tags=java,metadata.tags=go,spec.type=service"],
    "key exists": ["spec.providesApis"],
    "key exists and a value": ["metadata.tags,kind=component"],
    "key-only long value exists": ["metadata.description,metadata.name=go-tool"],
    "case-insensitive keys and values": ["KIND=Component,Spec.Type=SERVICE"],
    "empty value": ["metadata.namespace="],
    "unknown key": ["kind=component,no.such.key=x"],
    "two kinds and a value": ["kind=component,kind=api,spec.lifecycle=production"],
    "a kind and a value only other kinds have": ["kind=group,spec.type=service"],
    "a kind and a key": ["kind=API,spec.definition"],
    "relations": ["kind=component,relations.ownedBy=group:default/team-a"],
    "relations or plain": ["relations.partOf=system:default/podcast", "kind=user"],
}


@pytest.mark.parametrize("strategy", ["probe the smallest", "intersect dense ranges"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_count_equals_a_brute_force_count_and_the_entity_table_count(catalog, session, monkeypatch,
                                                                       name, strategy):
    # On a small catalog every range is "small"; SMALL_CONDITION = 0 sends every AND group through
    # the merge (SQLite) or join (PostgreSQL) that a large catalog's dense ranges take.
    monkeypatch.setattr(query_count, "SMALL_CONDITION", 10**6 if strategy == "probe the smallest" else 0)
    filters = parse_filter_params(FILTERS[name])
    plan = PagePlan(Cursor(filters=filters), None, True, probe=False)
    expected = brute_force_count(catalog, filters)
    assert count_matches(session, plan) == expected
    assert count_through_entities(session, plan) == expected


def test_the_index_counts_every_filter_without_relations_and_leaves_relations_to_the_entity_table(catalog, session):
    assert query_count.count_from_index(session, parse_filter_params(FILTERS["and"])) == brute_force_count(
        catalog, parse_filter_params(FILTERS["and"]))
    assert query_count.count_from_index(session, parse_filter_params(FILTERS["relations"])) is None
    assert query_count.count_from_index(session, []) is None


def test_a_range_with_two_original_casings_is_counted_whole(catalog, session, monkeypatch):
    monkeypatch.setattr(query_count, "SMALL_CONDITION", 0)
    service = query_count.Condition("spec.type", ("service",))
    ranges = query_count._ranges(session, [service, query_count.Condition("kind", ("component",))])
    assert ranges[service].original is None  # "service", "Service" and "SERVICE" are all stored
    assert ranges[query_count.Condition("kind", ("component",))].original == "Component"
    filters = parse_filter_params(["kind=component,spec.type=service"])
    assert query_count.count_from_index(session, filters) == brute_force_count(catalog, filters)


@pytest.mark.parametrize("term, fields", [("service", ["spec.type"]), ("A", ["metadata.name", "metadata.title"])])
def test_full_text_counts_equal_a_brute_force_count(catalog, session, term, fields):
    filters = parse_filter_params(["kind=component"])
    plan = PagePlan(Cursor(filters=filters, full_text_term=term, full_text_fields=fields), None, True, probe=False)
    assert count_matches(session, plan) == brute_force_count(catalog, filters, term, fields) > 0


def test_by_query_total_items_is_the_brute_force_count(catalog, client):
    params = [("filter", "kind=component,spec.type=service"), ("filter", "kind=api"), ("limit", "2")]
    body = client.get("/api/catalog/entities/by-query", params=params).json()
    expected = brute_force_count(catalog, parse_filter_params(["kind=component,spec.type=service", "kind=api"]))
    assert body["totalItems"] == expected and len(body["items"]) == 2
