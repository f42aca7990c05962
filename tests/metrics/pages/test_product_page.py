"""GET /products/{name}/metrics on the hand-checked value scenario (tests/metrics/value_scenario.py):
the page, its JSON twin, the HTMX partial, chart downloads and hostile input."""

from __future__ import annotations

import csv
import io

import pytest

from tests.metrics.value_scenario import CI, DB, PRODUCT, seed_catalog, seed_orders
from tests.requests.factories import product, store

MAY_AND_JUNE = {"window": "custom", "from": "2024-05-01", "until": "2024-07-01"}
HOUR = 3600
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
URL = "/products/delivery-platform/metrics"


@pytest.fixture
def scenario(session):  # noqa: ANN001, ANN201
    seed_catalog(session)
    seed_orders(session)
    return session


def twin(client, **params) -> dict:  # noqa: ANN001
    response = client.get(URL, params={**MAY_AND_JUNE, **params}, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def test_json_twin_has_hand_checked_value_figures(client, scenario) -> None:  # noqa: ANN001
    body = twin(client)
    assert body["product"] == PRODUCT
    assert body["window"] == {"window": "custom", "from": "2024-05-01T00:00:00Z", "until": "2024-07-01T00:00:00Z"}
    # Delivered in May and June: O1, O6 (CI, 6 h credited each) and O2, O3 (postgres, 16 h each).
    assert body["value"]["timeSaved"]["credited"] == 44 * HOUR
    # Within target: O1 (20 min of 30) and O3 (12 h of 24); breached: O2 (48 h) and O6 (40 min).
    assert (body["value"]["sla"]["withinTarget"], body["value"]["sla"]["orders"]) == (2, 4)
    assert body["headline"]["sla_compliance"] == 0.5
    # Ratings 5, 3 and 4.
    assert body["headline"]["satisfaction"] == 4
    assert [item["ref"] for item in body["capabilities"]] == [CI, DB]
    assert body["previous"] is None and body["trends"] == {}


def test_json_twin_matches_the_flow_and_value_stream_apis(client, scenario) -> None:  # noqa: ANN001
    body = twin(client)
    window = {"from": "2024-05-01T00:00:00Z", "until": "2024-07-01T00:00:00Z"}
    flow = client.get("/api/v1/metrics/flow", params={"product": PRODUCT, **window}).json()
    stream = client.get("/api/v1/metrics/value-stream", params={"product": PRODUCT, **window}).json()
    assert body["flow"]["flowTime"] == flow["flowTime"]
    assert body["flow"]["load"]["wip"] == flow["load"]["wip"]
    assert body["valueStream"]["totals"] == stream["totals"]
    capability_flow = client.get("/api/v1/metrics/flow", params={"capability": DB, **window}).json()
    assert body["capabilities"][1]["flow"]["flowTime"] == capability_flow["flowTime"]


def test_compare_with_the_previous_window_gives_trends(client, scenario) -> None:  # noqa: ANN001
    body = twin(client, compare="previous")
    assert body["window"]["previous"] == {"from": "2024-03-01T00:00:00Z", "until": "2024-05-01T00:00:00Z"}
    # March and April: only O5 (CI, delivered in 10 minutes of 30): 6 h credited, 100 % within target.
    assert body["previous"]["headline"]["time_saved"] == 6 * HOUR
    assert body["previous"]["headline"]["sla_compliance"] == 1.0
    assert body["trends"]["time_saved"] == {"direction": "up", "verdict": "better", "change": pytest.approx(44 / 6 - 1)}
    assert body["trends"]["sla_compliance"]["direction"] == "down"
    assert body["trends"]["sla_compliance"]["verdict"] == "worse"


def test_page_shows_sections_picker_and_charts(client, scenario) -> None:  # noqa: ANN001
    response = client.get(URL, params={**MAY_AND_JUNE, "compare": "previous"}, headers=HTML)
    assert response.status_code == 200, response.text
    page = response.text
    assert "<html" in page and 'id="metrics-body"' in page
    for heading in ("Delivery (DORA)", "Flow of orders", "Value stream", "Value realized", "Capabilities"):
        assert heading in page
    assert "2 of 4 orders within target" in page
    assert 'rel="alternate" type="application/json"' in page
    # The picker's links keep the page's path, switch through HTMX and push the URL.
    assert f'hx-get="{URL}?window=7d&amp;compare=previous"' in page
    assert 'hx-push-url="true"' in page and 'hx-target="#metrics-body"' in page
    assert f'href="{URL}?window=90d&amp;compare=previous"' in page  # a plain link without JavaScript
    for chart in ("cfd", "distribution", "value-stream", "adoption"):
        assert f'id="figure-{chart}"' in page
        assert f"chart={chart}&amp;format=csv" in page
    assert page.count("trend trend-") >= 2  # arrows against the previous window


def test_htmx_request_gets_only_the_partial(client, scenario) -> None:  # noqa: ANN001
    response = client.get(URL, params=MAY_AND_JUNE, headers={**HTML, "HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and "<header" not in response.text
    assert 'class="window-picker"' in response.text and "Value realized" in response.text
    assert {"Accept", "HX-Request"} <= {part.strip() for part in response.headers["vary"].split(",")}


def test_chart_csv_download_keeps_the_window(client, scenario) -> None:  # noqa: ANN001
    response = client.get(URL, params={**MAY_AND_JUNE, "chart": "adoption", "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="adoption.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["period", "components", "teams"]
    # Weekly steps in a 61-day window; web adopted CI in April, api postgres on 12 May, worker on 5 June.
    assert [row[0] for row in rows[1:]] == ["2024-05-01", "2024-05-08", "2024-05-15", "2024-05-22", "2024-05-29",
                                            "2024-06-05", "2024-06-12", "2024-06-19", "2024-06-26"]
    assert [float(row[1]) for row in rows[1:]] == [1, 2, 2, 2, 2, 3, 3, 3, 3]
    body = client.get(URL, params={**MAY_AND_JUNE, "chart": "cfd", "format": "json"}).json()
    assert body["columns"][0] == "day" and len(body["rows"]) == 61


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"window": "13d"}, 400, "window must be one of"),
    ({"window": "custom", "from": "2024-07-01", "until": "2024-05-01"}, 400, ""),
    ({"window": "custom", "from": "not-a-date"}, 400, ""),
    ({"window": "custom", "from": "9999999999-01-01"}, 400, ""),
    ({"compare": "next"}, 400, "compare must be"),
    ({"format": "xlsx", "chart": "cfd"}, 400, "format must be one of"),
    ({"format": "csv", "chart": "../../etc/passwd"}, 404, "no such chart"),
    ({"window": "x" * 41}, 400, ""),
])
def test_bad_input_is_a_readable_4xx_page(client, scenario, params, status, words) -> None:  # noqa: ANN001
    response = client.get(URL, params=params, headers=HTML)
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    assert words in response.text
    assert "text/html" in response.headers["content-type"]


def test_bad_window_is_json_for_a_json_caller(client, scenario) -> None:  # noqa: ANN001
    response = client.get(URL, params={"window": "13d"}, headers=JSON)
    assert response.status_code == 400
    assert "window must be one of" in response.json()["error"]["message"]


def test_unknown_product_is_a_404_page(client, scenario) -> None:  # noqa: ANN001
    response = client.get("/products/no-such-product/metrics", headers=HTML)
    assert response.status_code == 404
    assert "There is no platform product called" in response.text
    assert client.get("/products/no-such-product/metrics", headers=JSON).status_code == 404


def test_product_title_is_escaped(client, session) -> None:  # noqa: ANN001
    entity = product("xss-product")
    entity["metadata"]["title"] = '<script>alert("x")</script>'
    store(session, [entity])
    session.commit()
    response = client.get("/products/xss-product/metrics", headers=HTML)
    assert response.status_code == 200, response.text
    assert '<script>alert("x")</script>' not in response.text
    assert "&lt;script&gt;alert(" in response.text


def test_a_product_without_capabilities_or_data_renders(client, session) -> None:  # noqa: ANN001
    store(session, [product("empty-product")])
    session.commit()
    assert client.get("/products/empty-product/metrics", headers=HTML).status_code == 200
    body = client.get("/products/empty-product/metrics", headers=JSON).json()
    assert body["capabilities"] == [] and body["headline"]["flow_load"] == 0



def test_production_needs_a_sign_in_and_comments_follow_request_visibility(settings, scenario) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from tests.auth.people import production_settings, sign_in

    production = production_settings(settings)
    with TestClient(create_app(production)) as anonymous:
        for path in (URL, "/portfolio"):
            page = anonymous.get(path, headers=HTML)
            assert page.status_code == 401, page.text
            assert "Sign in to metrics dora read" in page.text
            assert anonymous.get(path, headers=JSON).status_code == 401
    with TestClient(create_app(production)) as outsider:
        sign_in(outsider, production, "user:default/otto")
        body = outsider.get(URL, params=MAY_AND_JUNE, headers=JSON).json()
        assert body["value"]["satisfaction"]["ratings"] == 3 and body["value"]["satisfaction"]["comments"] == []
    with TestClient(create_app(production)) as requester:
        sign_in(requester, production, "user:default/rui.requester")
        body = requester.get(URL, params=MAY_AND_JUNE, headers=JSON).json()
        assert {item["comment"] for item in body["value"]["satisfaction"]["comments"]} == {
            "Pipeline in minutes", "Took two days"}


def test_impact_of_each_capability_is_the_impact_apis_answer(client, scenario) -> None:  # noqa: ANN001
    response = client.get(f"{URL}/impact", headers=JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["product"] == PRODUCT
    assert [item["ref"] for item in body["capabilities"]] == [CI, DB]
    for item in body["capabilities"]:
        api = client.get("/api/v1/metrics/impact", params={"capability": item["ref"]}).json()
        assert item["impact"] == api
    # postgres: api adopted it on 12 May, worker on 5 June (the orders date the adoptions).
    postgres = body["capabilities"][1]["impact"]["components"]
    assert [(item["component"], item["adoptedAt"][:10]) for item in postgres] == [
        ("component:default/api", "2024-05-12"), ("component:default/worker", "2024-06-05")]


def test_impact_page_partial_and_the_link_on_the_metrics_page(client, scenario) -> None:  # noqa: ANN001
    page = client.get(URL, params=MAY_AND_JUNE, headers=HTML).text
    impact_url = f"{URL}/impact?window=custom&amp;from=2024-05-01T00%3A00%3A00Z&amp;until=2024-07-01T00%3A00%3A00Z"
    assert f'hx-get="{impact_url}" hx-trigger="load"' in page and f'<a href="{impact_url}">' in page
    full = client.get(f"{URL}/impact", params=MAY_AND_JUNE, headers=HTML)
    assert full.status_code == 200 and "<html" in full.text and "component:default/worker" in full.text
    partial = client.get(f"{URL}/impact", headers={**HTML, "HX-Request": "true"})
    assert "<html" not in partial.text and "component:default/api" in partial.text
    # Neither postgres adopter has changes on both sides: nothing to compare yet.
    assert "0 improved, 0 worsened, 0 unchanged of 0 components" in partial.text
    assert "Delivery (DORA) per capability" in partial.text and "Impact of adoption" in partial.text
    assert client.get("/products/nothing-here/metrics/impact", headers=HTML).status_code == 404
    assert client.get(f"{URL}/impact", params={"window": "13d"}, headers=HTML).status_code == 400


def test_capability_dora_counts_each_capabilitys_adopters(client, scenario) -> None:  # noqa: ANN001
    body = client.get(f"{URL}/impact", params=MAY_AND_JUNE, headers=JSON).json()
    postgres = body["capabilities"][1]
    assert postgres["dora"]["components"] == 2  # api and worker ordered it
    # The scenario has no deployments: no frequency sample, no tier.
    assert postgres["dora"]["deploymentFrequency"]["samples"] == 0
    assert postgres["dora"]["leadTimeForChanges"]["tier"] is None


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "x" * 5000, "%E2%80%AEevil", "javascript:alert(1)"])
def test_hostile_product_names_are_a_404_page(client, scenario, name) -> None:  # noqa: ANN001
    response = client.get(f"/products/{name}/metrics", headers=HTML)
    assert response.status_code == 404, response.text
    assert "Traceback" not in response.text and "<html" in response.text
    if "%2F" not in name:  # an encoded slash reaches no route at all: the portal's own 404 page
        assert "There is no platform product called" in response.text


def test_nul_in_the_query_is_refused_by_the_guards(client, scenario) -> None:  # noqa: ANN001
    response = client.get(URL, params={"window": "7d\x00"}, headers=HTML)
    assert response.status_code == 400


@pytest.mark.parametrize("params", [
    {"window": "custom", "from": "1970-01-02", "until": "1971-01-01", "compare": "previous"},  # previous before 1970
    {"window": "custom", "from": "8999-01-01", "until": "8999-12-31", "compare": "previous"},
    {"window": "365d", "compare": "previous"},
])
def test_windows_at_the_edges_render(client, scenario, params) -> None:  # noqa: ANN001
    for path in (URL, "/portfolio"):
        response = client.get(path, params=params, headers=HTML)
        assert response.status_code == 200, (path, response.text[-500:])
        assert 'class="window-picker"' in response.text
