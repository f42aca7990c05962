"""GET /api/v1/metrics/dora on a real database: the contract, what counts, scopes and hostile input."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.auth.people import production_settings, sign_in
from tests.flow.factories import GITHUB, PAGERDUTY, change, commit, deployment, incident, make_component, save
from tests.requests.factories import store

START = datetime(2024, 5, 6, tzinfo=UTC)  # a Monday
WINDOW = {"from": "2024-05-06T00:00:00Z", "until": "2024-05-20T00:00:00Z"}
SHOP = "acme/shop"
HOUR = 3600


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=UTC)


def dora(client, entity: str, **params) -> dict:
    response = client.get("/api/v1/metrics/dora", params={"entity": entity, **WINDOW, **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def shop(session):
    """The shop component with deployments to production and elsewhere, an incident and two changes."""
    make_component(session, "shop", {GITHUB: SHOP, PAGERDUTY: "PSHOP"})
    save(session, [
        # Deployments finish 5 minutes after they start (the factory).
        deployment(SHOP, 1, "production", at(6, 10)),                      # counts, 6 May
        deployment(SHOP, 2, "prod-eu", at(7, 10)),                         # counts, 7 May
        deployment(SHOP, 3, "production", at(7, 12), status="failure"),   # failed: never counts
        deployment(SHOP, 4, "staging", at(8, 10)),                         # staging: never counts
        deployment(SHOP, 5, "production", at(19, 23, ) + timedelta(minutes=56)),  # finishes 20 May 00:01: next window
        deployment("acme/other", 6, "production", at(9, 10)),              # another repository's entity
        # Created 7 May 11:00, after deployment 2 finished (10:05): fails it; resolved 13:05,
        # so recovery 3 h and restore 2 h 5 min.
        incident("PSHOP", 1, at(7, 11), status="resolved", resolved_at=at(7, 13) + timedelta(minutes=5)),
        # Merged 6 May 09:00 with deployment 1's sha: first commit 5 May 10:05 → 6 May 10:05 = 24 h.
        change(SHOP, 1, at(5, 12), state="merged", merged_at=at(6, 9), merge_sha=f"{1:040x}",
               first_commit_at=at(5, 10) + timedelta(minutes=5)),
        # Opened 7 May 08:05 (first commit unknown), merged 09:00: first deployment after is 2 → 2 h.
        change(SHOP, 2, at(7, 8) + timedelta(minutes=5), state="merged", merged_at=at(7, 9), merge_sha="f" * 40),
    ])
    return session


def test_the_answer_follows_the_contract(client, shop):
    body = dora(client, "component:default/shop")
    assert list(body) == ["entity", "from", "until", "benchmark", "deploymentFrequency", "leadTimeForChanges",
                          "changeFailureRate", "failedDeploymentRecoveryTime", "timeToRestore"]
    assert (body["entity"], body["from"], body["until"], body["benchmark"]) == (
        "component:default/shop", "2024-05-06T00:00:00Z", "2024-05-20T00:00:00Z", "2023")
    for name in list(body)[4:]:
        assert {"value", "unit", "samples", "tier"} <= set(body[name])


def test_only_successful_production_deployments_finished_in_the_window_count(client, shop):
    frequency = dora(client, "shop")["deploymentFrequency"]
    # Deployments 1 and 2 on two days in two weeks: 1 a week, 1 deploy day a week.
    assert frequency == {"value": 1.0, "unit": "perWeek", "samples": 2, "tier": "high", "deployDaysPerWeek": 1.0}


def test_failure_rate_recovery_and_restore(client, shop):
    body = dora(client, "shop")
    assert body["changeFailureRate"] == {"value": 0.5, "unit": "ratio", "samples": 2, "tier": "low",
                                         "failedDeployments": 1}
    assert body["failedDeploymentRecoveryTime"] == {"value": 3 * HOUR, "unit": "seconds", "samples": 1,
                                                    "tier": "high"}
    assert body["timeToRestore"] == {"value": 2 * HOUR + 300, "unit": "seconds", "samples": 1, "tier": "high"}


def test_lead_time_uses_the_merge_sha_or_the_next_deployment(client, shop):
    lead = dora(client, "shop")["leadTimeForChanges"]
    # 24 h and 2 h → median 13 h: elite in 2023 (less than a day), high in 2021 (not less than an hour).
    assert (lead["value"], lead["samples"], lead["tier"]) == (13 * HOUR, 2, "elite")
    assert dora(client, "shop", benchmark="2021")["leadTimeForChanges"]["tier"] == "high"
    # Deploy part: 6 May 09:00 → 10:05 and 7 May 09:00 → 10:05, 65 minutes each.
    assert lead["breakdown"]["deploy"]["value"] == 65 * 60


def test_a_window_after_everything_has_no_samples(client, shop):
    body = client.get("/api/v1/metrics/dora", params={"entity": "shop", "from": "2025-01-01T00:00:00Z",
                                                       "until": "2025-02-01T00:00:00Z"}).json()
    assert body["deploymentFrequency"]["value"] is None and body["deploymentFrequency"]["tier"] is None
    assert body["leadTimeForChanges"]["samples"] == 0


def test_a_reopened_incident_counts_only_at_its_final_resolution(client, shop):
    # Resolved 8 May, then reopened: the record shows it triggered again, so no recovery yet ...
    save(shop, [incident("PSHOP", 2, at(8, 1), status="triggered", resolved_at=at(8, 2))])
    assert dora(client, "shop")["timeToRestore"]["samples"] == 1
    # ... until it is resolved for good on 9 May 01:00: restore 24 h; recovery from deployment 2 (7 May 10:05).
    save(shop, [incident("PSHOP", 2, at(8, 1), status="resolved", resolved_at=at(9, 1))])
    body = dora(client, "shop")
    assert body["timeToRestore"]["samples"] == 2
    assert body["timeToRestore"]["value"] == (2 * HOUR + 300 + 24 * HOUR) / 2
    assert body["failedDeploymentRecoveryTime"]["value"] == (3 * HOUR + (38 * HOUR + 55 * 60)) / 2


def test_a_system_group_and_product_cover_their_components(client, session):
    store(session, [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "platform"},
         "spec": {"type": "department", "children": ["team-a"]}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-a"},
         "spec": {"type": "team", "children": []}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "shop-system"},
         "spec": {"owner": "group:default/team-a"}},
        {"apiVersion": "flowport.dev/v1alpha1", "kind": "PlatformProduct", "metadata": {"name": "delivery"},
         "spec": {"type": "platform-product", "lifecycle": "production", "owner": "group:default/platform"}},
        {"apiVersion": "flowport.dev/v1alpha1", "kind": "Capability", "metadata": {"name": "ci"},
         "spec": {"product": "platformproduct:default/delivery", "owner": "group:default/platform",
                  "lifecycle": "ga", "fulfillment": {"mode": "automated"}}},
    ])
    for name, repo, extra in (("web", "acme/web", {"flowport.dev/uses-capabilities": "capability:default/ci"}),
                              ("api", "acme/api", {})):
        store(session, [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                         "metadata": {"name": name, "annotations": {GITHUB: repo, **extra}},
                         "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a",
                                  "system": "shop-system"}}])
    save(session, [deployment("acme/web", 1, "production", at(6, 10)),
                   deployment("acme/api", 2, "production", at(6, 11)),
                   deployment("acme/api", 3, "production", at(8, 11))])
    # The system and the parent group cover both components (3 deployments on 2 days in 2 weeks) ...
    for entity in ("system:default/shop-system", "group:default/platform", "group:team-a"):
        frequency = dora(client, entity)["deploymentFrequency"]
        assert (frequency["samples"], frequency["value"], frequency["deployDaysPerWeek"]) == (3, 1.5, 1.0), entity
    # ... the product only the component using its capability.
    assert dora(client, "platformproduct:default/delivery")["deploymentFrequency"]["samples"] == 1


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"entity": "component:"}, 400, "not an entity reference"),
    ({"entity": "component:default/../../etc/passwd"}, 400, "malformed"),
    ({"entity": "component:default/nobody"}, 404, "No entity"),
    ({"entity": "x" * 401}, 400, "400"),
    ({"entity": "shop", "from": "yesterday"}, 400, "from="),
    ({"entity": "shop", "from": "2024-05-20T00:00:00Z", "until": "2024-05-06T00:00:00Z"}, 400, "before"),
    ({"entity": "shop", "from": "2000-01-01T00:00:00Z", "until": "2024-05-06T00:00:00Z"}, 400, "at most"),
    ({"entity": "shop", "from": "99999999999999999999"}, 400, "from="),
    ({"entity": "shop", "benchmark": "2022"}, 400, "2021, 2023"),
    ({"entity": "shop", "benchmark": "javascript:alert(1)"}, 400, "benchmark"),
    ({"entity": "user:default/someone"}, 400, "DORA metrics cover"),
    ({}, 400, "entity"),
])
def test_hostile_queries_get_a_readable_4xx(client, shop, params, status, says):
    if params.get("entity") == "user:default/someone":
        store(shop, [{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "someone"},
                      "spec": {"memberOf": []}}])
    response = client.get("/api/v1/metrics/dora", params=params)
    assert response.status_code == status, response.text
    assert says in response.text


def test_a_nul_byte_in_the_entity_is_refused(client, shop):
    response = client.get("/api/v1/metrics/dora?entity=component:default/sh%00op")
    assert response.status_code == 400


def test_reads_need_a_signed_in_caller_in_production(settings, session):
    make_component(session, "shop", {GITHUB: SHOP})
    store(session, [{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "reader"},
                     "spec": {"memberOf": []}}])
    production = production_settings(settings)
    with TestClient(create_app(production)) as anonymous:
        assert anonymous.get("/api/v1/metrics/dora", params={"entity": "shop"}).status_code == 401
    with TestClient(create_app(production)) as reader:
        sign_in(reader, production, "user:default/reader")
        assert reader.get("/api/v1/metrics/dora", params={"entity": "shop"}).status_code == 200


def test_lead_time_starts_at_the_first_pushed_commit_when_the_tool_sends_none(client, shop):
    # Change 3: no first commit from the tool; commits pushed to its branch on 8 May 06:00 and 07:00.
    # Merged 8 May 09:00 with an unknown sha: shipped by the next production deployment, 9 May 10:05
    # (deployment 7): 28 h 5 min from the first commit. Samples now 24 h, 2 h, 28 h 5 min → 24 h.
    save(shop, [
        commit(SHOP, "a" * 40, "feature/three", at(8, 6), pushed=at(8, 6)),
        commit(SHOP, "b" * 40, "feature/three", at(8, 7), pushed=at(8, 7)),
        change(SHOP, 3, at(8, 8), state="merged", merged_at=at(8, 9), merge_sha="e" * 40, head_branch="feature/three"),
        deployment(SHOP, 7, "production", at(9, 10)),
    ])
    lead = dora(client, "shop")["leadTimeForChanges"]
    assert (lead["samples"], lead["value"]) == (3, 24 * HOUR)
    # Coding: change 1 took 1 h 55 min (first commit 10:05, opened 12:00); change 3 2 h (06:00 → 08:00).
    assert lead["breakdown"]["coding"] == {"value": (115 * 60 + 2 * HOUR) / 2, "unit": "seconds", "samples": 2}


def test_an_incident_after_the_window_fails_a_window_deployment_only_if_none_came_between(client, shop):
    # Deployment 8 on 15 May is the last in the window; deployment 5 finishes 20 May 00:01, just after.
    save(shop, [deployment(SHOP, 8, "production", at(15, 10))])
    assert dora(client, "shop")["changeFailureRate"]["failedDeployments"] == 1  # deployment 2 only
    # An incident on 21 May follows deployment 5, so it is not deployment 8's: still 1 of 3.
    save(shop, [incident("PSHOP", 3, at(21, 0))])
    assert dora(client, "shop")["changeFailureRate"]["failedDeployments"] == 1
    # One on 19 May, before deployment 5, is deployment 8's, though it is resolved after the window: 2 of 3.
    save(shop, [incident("PSHOP", 4, at(19, 12), status="resolved", resolved_at=at(21, 0))])
    failure = dora(client, "shop")["changeFailureRate"]
    assert (failure["failedDeployments"], failure["samples"]) == (2, 3)


def test_changes_merged_before_the_window_count_when_a_window_deployment_ships_them(client, shop):
    save(shop, [
        deployment(SHOP, 20, "production", at(3, 0), sha="d" * 40),      # before the window
        deployment(SHOP, 21, "production", at(9, 0), sha="d" * 40),      # the same sha again, in the window
        # Merged 4 May, after deployment 20: shipped by deployment 1 (6 May 10:05): 70 h 5 min from opening.
        change(SHOP, 10, at(3, 12), state="merged", merged_at=at(4, 0), merge_sha="1" * 40),
        # Merged 2 May: deployment 20 shipped it before the window. No sample.
        change(SHOP, 11, at(1, 0), state="merged", merged_at=at(2, 0), merge_sha="2" * 40),
        # Merged 2 May, but its merge sha is deployment 1's: shipped in the window, 130 h 5 min from opening.
        change(SHOP, 12, at(1, 0), state="merged", merged_at=at(2, 0), merge_sha=f"{1:040x}"),
        # Its sha was first deployed by deployment 20, before the window; the redeploy ships nothing. No sample.
        change(SHOP, 13, at(1, 0), state="merged", merged_at=at(2, 12), merge_sha="d" * 40),
    ])
    lead = dora(client, "shop")["leadTimeForChanges"]
    # 2 h, 24 h, 70 h 5 min, 130 h 5 min → (24 h + 70 h 5 min) / 2 = 47 h 2 min 30 s.
    assert (lead["samples"], lead["value"]) == (4, 47 * HOUR + 150)


@pytest.mark.parametrize("cut", ["2024-05-06T10:05:00Z", "2024-05-07T00:00:00Z", "2024-05-07T10:05:00Z",
                                 "2024-05-19T23:59:59Z"])
def test_two_halves_of_a_window_count_the_deployments_of_the_whole(client, shop, cut):
    def count(start: str, end: str) -> int:
        return client.get("/api/v1/metrics/dora", params={"entity": "shop", "from": start, "until": end}
                          ).json()["deploymentFrequency"]["samples"]
    whole = count(WINDOW["from"], WINDOW["until"])
    assert whole == 2
    assert count(WINDOW["from"], cut) + count(cut, WINDOW["until"]) == whole


def test_a_domain_covers_the_components_of_its_systems_and_an_empty_scope_has_no_samples(client, session):
    store(session, [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": "commerce"},
         "spec": {"owner": "group:default/team-a"}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": "empty"},
         "spec": {"owner": "group:default/team-a"}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "checkout"},
         "spec": {"owner": "group:default/team-a", "domain": "commerce"}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": {"name": "cart", "annotations": {GITHUB: "acme/cart"}},
         "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a", "system": "checkout"}},
    ])
    save(session, [deployment("acme/cart", 1, "production", at(6, 10)), deployment("acme/cart", 2, "production", at(13, 10))])
    assert dora(client, "domain:default/commerce")["deploymentFrequency"]["value"] == 1.0
    empty = dora(client, "domain:default/empty")
    assert empty["entity"] == "domain:default/empty"
    assert all(empty[name]["samples"] == 0 and empty[name]["value"] is None for name in list(empty)[4:])
