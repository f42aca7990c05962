"""Facet counts equal a brute-force count over the catalog, whichever way the database reads them."""

import pytest

from portal.catalog import query_count, query_facets
from portal.catalog.query import entity_facets
from portal.catalog.query_filters import parse_filter_params
from tests.catalog.query_oracle import brute_force_facet, catalog  # noqa: F401 - catalog is a fixture

KEYS = ["kind", "spec.type", "metadata.tags", "spec.lifecycle", "spec.owner", "metadata.namespace"]


def as_dict(values: list[dict]) -> dict[str, int]:
    assert len({item["value"] for item in values}) == len(values)
    return {item["value"]: item["count"] for item in values}


@pytest.mark.parametrize("skipping", ["skip through the index", "group in one pass"])
def test_unfiltered_facets_equal_a_brute_force_count(catalog, session, monkeypatch, skipping):
    # One pass is what a key with more than MAX_SKIPPED_VALUES distinct values takes.
    monkeypatch.setattr(query_facets, "MAX_SKIPPED_VALUES", 300 if skipping.startswith("skip") else 2)
    facets = query_facets.facet_counts(session, KEYS, [])
    for key in KEYS:
        assert as_dict(facets[key]) == brute_force_facet(catalog, key, []), key
    # "service", "Service" and "SERVICE" stay three facet values, as Backstage reports them.
    assert {"service", "Service", "SERVICE"} <= set(as_dict(facets["spec.type"]))


def test_values_come_most_common_first_in_the_casing_asked_for(catalog, session):
    facets = query_facets.facet_counts(session, ["Spec.Type", "metadata.TAGS"], [])
    assert list(facets) == ["Spec.Type", "metadata.TAGS"]
    counts = [item["count"] for item in facets["Spec.Type"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1


@pytest.mark.parametrize("few", ["few entities, read one by one", "many entities, grouped"])
@pytest.mark.parametrize("filters", [["kind=component"], ["kind=component,spec.type=service"],
                                     ["kind=group", "metadata.tags=java,metadata.tags=go"],
                                     ["metadata.tags"], ["kind=component,relations.ownedBy=group:default/team-a"],
                                     ["kind=nothing"], ["kind=component,kind=api"],
                                     ["kind=group", "kind=api,spec.lifecycle=production"]])
def test_filtered_facets_equal_a_brute_force_count(catalog, session, monkeypatch, filters, few):
    monkeypatch.setattr(query_count, "SMALL_CONDITION", 10**6 if few.startswith("few") else 0)
    parsed = parse_filter_params(filters)
    facets = query_facets.facet_counts(session, KEYS, parsed)
    for key in KEYS:
        assert as_dict(facets[key]) == brute_force_facet(catalog, key, parsed), key


def test_relation_facets_count_each_source_entity_once(catalog, session):
    facets = entity_facets(session, ["relations.ownedBy"], parse_filter_params(["kind=component"]))
    owners = as_dict(facets["relations.ownedBy"])
    by_owner: dict[str, int] = {}
    for entity in catalog:
        if entity["kind"] == "Component":
            for target in {r["targetRef"] for r in entity["relations"] if r["type"] == "ownedBy"}:
                by_owner[target] = by_owner.get(target, 0) + 1
    assert owners == by_owner and sum(owners.values()) >= 13


def test_entity_facets_api_answers_the_brute_force_count(catalog, client):
    body = client.get("/api/catalog/entity-facets",
                      params=[("facet", "kind"), ("facet", "metadata.tags"), ("filter", "kind=component")]).json()
    filters = parse_filter_params(["kind=component"])
    assert as_dict(body["facets"]["metadata.tags"]) == brute_force_facet(catalog, "metadata.tags", filters)
    assert as_dict(body["facets"]["kind"]) == {"Component": brute_force_facet(catalog, "kind", filters)["Component"]}
