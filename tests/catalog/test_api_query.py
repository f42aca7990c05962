"""GET /api/catalog/entities/by-query: filters, fields, ordering, full text and cursor paging."""

import pytest

from tests.compat.catalog_seed import seed

URL = "/api/catalog/entities/by-query"


@pytest.fixture(params=["dense", "sparse"])
def seeded(request, client, session, monkeypatch):
    """Seeded catalog, queried both ways the engine can plan a page (per-entity probes or IN lists)."""
    from portal.catalog import query

    monkeypatch.setattr(query, "DENSE_MATCH_RATIO", 10**9 if request.param == "dense" else 0)
    seed(session)
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["metadata"]["name"] for item in response.json()["items"]]


def test_filter_and_inside_a_group_or_across_groups(seeded):
    both = names(seeded.get(URL, params={"filter": "kind=component,spec.type=website", "limit": 50}))
    assert sorted(both) == ["Admin-Console", "web-shop"]
    either = names(seeded.get(URL, params=[("filter", "kind=group"), ("filter", "spec.type=library"),
                                           ("limit", 50)]))
    assert sorted(either) == ["shared-utils", "team-a", "team-b"]


def test_filter_values_and_keys_are_case_insensitive_and_a_key_takes_several_values(seeded):
    assert sorted(names(seeded.get(URL, params={"filter": "KIND=Api", "limit": 50}))) == ["billing-api", "orders-api"]
    several = names(seeded.get(URL, params={"filter": "kind=api,kind=group", "limit": 50}))
    assert len(several) == 4


def test_bare_key_matches_entities_having_it(seeded):
    having = names(seeded.get(URL, params={"filter": "spec.providesApis", "limit": 50}))
    assert sorted(having) == ["billing", "orders"]


def test_array_items_match_by_value_and_by_item_key(seeded):
    java = sorted(names(seeded.get(URL, params={"filter": "metadata.tags=JAVA", "limit": 50})))
    assert java == ["Admin-Console", "billing", "orders"]
    assert sorted(names(seeded.get(URL, params={"filter": "metadata.tags.java", "limit": 50}))) == java
    go_and_kafka = names(seeded.get(URL, params={"filter": "metadata.tags=go,metadata.tags.kafka=true"}))
    assert go_and_kafka == ["payments"]


def test_relations_filter_uses_the_relations_table_with_any_type_casing(seeded):
    owned = names(seeded.get(URL, params={"filter": "kind=component,relations.ownedBy=group:default/team-a",
                                          "limit": 50}))
    assert sorted(owned) == ["checkout", "inventory", "orders", "search", "web-shop"]
    lower = names(seeded.get(URL, params={"filter": "relations.ownedby=GROUP:default/team-a,kind=component",
                                          "limit": 50}))
    assert sorted(lower) == sorted(owned)
    consumers = names(seeded.get(URL, params={"filter": "relations.consumesApi=api:default/orders-api"}))
    assert sorted(consumers) == ["billing", "checkout"]
    assert names(seeded.get(URL, params={"filter": "relations.noSuchType=group:default/team-a"})) == []


def test_fields_returns_only_those_parts(seeded):
    response = seeded.get(URL, params={"filter": "metadata.name=orders", "fields": "kind,metadata.name,spec.owner"})
    assert response.json()["items"] == [{"kind": "Component", "metadata": {"name": "orders"},
                                         "spec": {"owner": "team-a"}}]


def test_full_items_carry_uid_etag_and_relations(seeded):
    item = seeded.get(URL, params={"filter": "metadata.name=orders"}).json()["items"][0]
    assert item["metadata"]["uid"] and item["metadata"]["etag"]
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in item["relations"]


def test_default_order_is_by_uid_and_default_limit_is_twenty(seeded, session):
    seed(session, [{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": f"g{i:02}"},
                    "spec": {"type": "team", "children": []}} for i in range(30)])
    body = seeded.get(URL).json()
    uids = [item["metadata"]["uid"] for item in body["items"]]
    assert len(uids) == 20 and uids == sorted(uids)
    assert body["totalItems"] == 43 and "nextCursor" in body["pageInfo"] and "prevCursor" not in body["pageInfo"]


def walk(client, params, limit):
    """Follow nextCursor to the end, then prevCursor back to the start; return both name sequences."""
    forward, pages, body = [], [], client.get(URL, params={**params, "limit": limit}).json()
    while True:
        pages.append([i["metadata"]["name"] for i in body["items"]])
        forward += pages[-1]
        if "nextCursor" not in body["pageInfo"]:
            break
        body = client.get(URL, params={"cursor": body["pageInfo"]["nextCursor"], "limit": limit}).json()
    backward_pages = [pages[-1]]
    while "prevCursor" in body["pageInfo"]:
        body = client.get(URL, params={"cursor": body["pageInfo"]["prevCursor"], "limit": limit}).json()
        backward_pages.append([i["metadata"]["name"] for i in body["items"]])
    return forward, pages, backward_pages


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_paging_forward_and_back_through_all_pages(seeded, direction):
    forward, pages, backward_pages = walk(seeded, {"orderField": f"metadata.name,{direction}"}, limit=3)
    expected = sorted(["team-a", "team-b", "orders-api", "billing-api", "orders", "billing", "checkout",
                       "web-shop", "Admin-Console", "payments", "search", "shared-utils", "inventory"],
                      key=str.lower, reverse=direction == "desc")
    assert forward == expected  # no duplicates, none missing, case-insensitive order
    assert [len(p) for p in pages] == [3, 3, 3, 3, 1]
    assert backward_pages == list(reversed(pages))


def test_entities_without_the_order_key_come_last_in_both_directions(seeded):
    params = {"filter": "kind=component", "orderField": "spec.consumesApis,asc"}
    forward, _, back = walk(seeded, params, limit=2)
    assert forward[:2] == ["checkout", "billing"]  # smallest consumed API first: billing-api, then orders-api
    assert len(forward) == len(set(forward)) == 9
    desc, _, _ = walk(seeded, {**params, "orderField": "spec.consumesApis,desc"}, limit=2)
    assert desc[:2] == ["billing", "checkout"] and sorted(desc[2:]) == sorted(forward[2:])
    assert [name for page in reversed(back) for name in page] == forward


def test_total_items_is_counted_once_and_carried_by_cursors(seeded):
    first = seeded.get(URL, params={"filter": "kind=component", "limit": 4}).json()
    assert first["totalItems"] == 9
    second = seeded.get(URL, params={"cursor": first["pageInfo"]["nextCursor"], "limit": 4}).json()
    assert second["totalItems"] == 9
    excluded = seeded.get(URL, params={"filter": "kind=component", "totalItems": "exclude"}).json()
    assert excluded["totalItems"] == 0 and len(excluded["items"]) == 9


def test_cursor_ignores_other_query_parameters(seeded):
    first = seeded.get(URL, params={"filter": "kind=api", "limit": 1}).json()
    rest = seeded.get(URL, params={"cursor": first["pageInfo"]["nextCursor"], "filter": "kind=group",
                                   "limit": 5}).json()
    assert [i["kind"] for i in rest["items"]] == ["API"]


def test_full_text_filter_on_given_fields_is_a_case_insensitive_substring(seeded):
    params = {"fullTextFilterTerm": "SHOP", "fullTextFilterFields": "metadata.name,metadata.title"}
    assert names(seeded.get(URL, params=params)) == ["web-shop"]
    by_title = names(seeded.get(URL, params={"fullTextFilterTerm": "admin con",
                                             "fullTextFilterFields": "metadata.title"}))
    assert by_title == ["Admin-Console"]


def test_full_text_defaults_to_the_order_field_and_treats_wildcards_literally(seeded):
    found = names(seeded.get(URL, params={"fullTextFilterTerm": "-api", "orderField": "metadata.name,asc"}))
    assert found == ["billing-api", "orders-api"]
    assert names(seeded.get(URL, params={"fullTextFilterTerm": "%", "orderField": "metadata.name,asc"})) == []
    assert names(seeded.get(URL, params={"fullTextFilterTerm": "_", "orderField": "metadata.name,asc"})) == []


def test_offset_skips_rows_on_the_first_request(seeded):
    all_names = names(seeded.get(URL, params={"orderField": "metadata.name,asc", "limit": 50}))
    assert names(seeded.get(URL, params={"orderField": "metadata.name,asc", "offset": 10})) == all_names[10:]


@pytest.mark.parametrize("params, fragment", [
    ({"limit": "ten"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"cursor": "garbage"}, "cursor"),
    ({"orderField": "metadata.name,upwards"}, "orderField"),
    ({"filter": "=component"}, "filter"),
    ({"fields": "metadata.tags[0]"}, "fields"),
])
def test_bad_input_is_a_backstage_input_error(seeded, params, fragment):
    response = seeded.get(URL, params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["name"] == "InputError" and fragment in body["error"]["message"]
    assert body["response"] == {"statusCode": 400}
