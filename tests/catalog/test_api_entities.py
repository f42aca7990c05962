"""Catalog API: by-name, by-uid, delete, by-refs, facets, validate-entity and legacy /entities."""

import pytest

from tests.compat.catalog_seed import component, seed

API = "/api/catalog"


@pytest.fixture
def seeded(client, session):
    seed(session)
    return client


def test_by_name_is_case_insensitive_and_404_names_the_entity(seeded):
    entity = seeded.get(f"{API}/entities/by-name/component/DEFAULT/web-SHOP").json()
    assert entity["metadata"]["name"] == "web-shop"
    missing = seeded.get(f"{API}/entities/by-name/component/default/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "name": "NotFoundError",
        "message": "No entity named 'nope' found, with kind 'component' in namespace 'default'",
    }


def test_by_uid_and_delete_by_uid(seeded):
    entity = seeded.get(f"{API}/entities/by-name/component/default/search").json()
    uid = entity["metadata"]["uid"]
    assert seeded.get(f"{API}/entities/by-uid/{uid}").json()["metadata"]["name"] == "search"
    assert seeded.delete(f"{API}/entities/by-uid/{uid}").status_code == 204
    assert seeded.get(f"{API}/entities/by-uid/{uid}").status_code == 404
    team = seeded.get(f"{API}/entities/by-name/group/default/team-a").json()
    assert {"type": "ownerOf", "targetRef": "component:default/search"} not in team["relations"]
    assert seeded.delete(f"{API}/entities/by-uid/{uid}").status_code == 204  # deleting twice is harmless


def test_delete_goes_through_the_authorization_gate(seeded, app):
    uid = seeded.get(f"{API}/entities/by-name/component/default/search").json()["metadata"]["uid"]
    app.state.policy.allow_anonymous_changes = False
    response = seeded.delete(f"{API}/entities/by-uid/{uid}")
    assert response.status_code == 401 and response.json()["error"]["name"] == "AuthenticationError"
    assert seeded.get(f"{API}/entities/by-uid/{uid}").status_code == 200


def test_by_refs_keeps_input_order_with_null_for_missing(seeded):
    body = {"entityRefs": ["component:default/orders", "component:default/missing", "Group:team-b",
                           "not a ref::"], "fields": ["metadata.name"]}
    response = seeded.post(f"{API}/entities/by-refs", json=body)
    assert response.status_code == 200
    assert response.json() == {"items": [{"metadata": {"name": "orders"}}, None, {"metadata": {"name": "team-b"}},
                                         None]}


def test_by_refs_accepts_fields_and_filter_query_parameters(seeded):
    response = seeded.post(f"{API}/entities/by-refs", params={"fields": "kind", "filter": "kind=group"},
                           json={"entityRefs": ["group:default/team-a", "component:default/orders"]})
    assert response.json() == {"items": [{"kind": "Group"}, None]}


def test_by_refs_rejects_a_body_without_refs(seeded):
    response = seeded.post(f"{API}/entities/by-refs", json={"refs": []})
    assert response.status_code == 400 and "entityRefs" in response.json()["error"]["message"]


def test_facets_count_original_values_under_the_filter(seeded):
    response = seeded.get(f"{API}/entity-facets", params=[("facet", "kind"), ("facet", "spec.type"),
                                                          ("facet", "metadata.tags"), ("filter", "kind=component")])
    facets = response.json()["facets"]
    assert facets["kind"] == [{"value": "Component", "count": 9}]
    assert facets["spec.type"] == [{"value": "service", "count": 6}, {"value": "website", "count": 2},
                                   {"value": "library", "count": 1}]
    tags = {item["value"]: item["count"] for item in facets["metadata.tags"]}
    assert tags["java"] == 3 and tags["kafka"] == 3 and tags["React"] == 1 and tags["react"] == 1


def test_facets_over_relations_and_unknown_keys(seeded):
    facets = seeded.get(f"{API}/entity-facets", params=[("facet", "relations.ownedBy"), ("facet", "spec.nothing"),
                                                        ("filter", "kind=component")]).json()["facets"]
    assert facets["relations.ownedBy"] == [{"value": "group:default/team-a", "count": 5},
                                           {"value": "group:default/team-b", "count": 4}]
    assert facets["spec.nothing"] == []


def test_facets_need_a_facet(seeded):
    assert seeded.get(f"{API}/entity-facets").status_code == 400


def test_validate_entity_answers_errors_for_invalid_descriptors(client):
    ok = client.post(f"{API}/validate-entity", json={"entity": component("fine", "team-a"),
                                                     "location": "url:https://example.com/catalog-info.yaml"})
    assert ok.status_code == 200 and ok.json() == {"errors": []}
    broken = component("Not Valid!", "team-a")
    del broken["spec"]["lifecycle"]
    bad = client.post(f"{API}/validate-entity", json={"entity": broken, "location": "url:https://example.com/x"})
    assert bad.status_code == 400
    messages = " ".join(error["message"] for error in bad.json()["errors"])
    assert "metadata.name" in messages and "spec.lifecycle" in messages


def test_validate_entity_accepts_only_url_locations(client):
    response = client.post(f"{API}/validate-entity", json={"entity": component("fine", "team-a"),
                                                           "location": "file:/tmp/x.yaml"})
    assert response.status_code == 400 and response.json()["errors"][0]["name"] == "TypeError"


def test_legacy_entities_streams_everything_or_pages_with_a_link_header(seeded):
    everything = seeded.get(f"{API}/entities", params={"filter": "kind=component", "fields": "metadata.name"})
    assert everything.status_code == 200 and len(everything.json()) == 9
    page = seeded.get(f"{API}/entities", params={"filter": "kind=component", "order": "asc:metadata.name",
                                                 "limit": 4, "fields": "metadata.name"})
    assert [e["metadata"]["name"] for e in page.json()] == ["Admin-Console", "billing", "checkout", "inventory"]
    link = page.headers["link"]
    assert link.endswith('>; rel="next"') and "after=" in link
    after = seeded.get(link[1 : link.index(">")].replace("/api/catalog", API, 1))
    assert [e["metadata"]["name"] for e in after.json()] == ["orders", "payments", "search", "shared-utils"]


def test_legacy_entities_rejects_a_bad_filter_before_streaming(seeded):
    response = seeded.get(f"{API}/entities", params={"filter": "=x"})
    assert response.status_code == 400 and response.json()["error"]["name"] == "InputError"
