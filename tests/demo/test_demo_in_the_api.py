"""The portal reads demo records exactly like real ones: the flow API finds them through the
component's annotations."""

from __future__ import annotations

from portal.demo.seed import seed_demo


def test_flow_api_links_demo_records_to_the_component(client, session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    session.commit()
    entity = "component:default/tracking-service"
    summary = client.get("/api/v1/flow/summary", params={"entity": entity})
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert {"annotation": "github.com/project-slug", "value": "northwind/tracking-service"} in body["links"]
    deployments = client.get("/api/v1/flow/deployments", params={"entity": entity, "limit": 500}).json()
    assert deployments["totalItems"] > 10
    assert {item["environment"] for item in deployments["items"]} == {"staging", "production"}
    incidents = client.get("/api/v1/flow/incidents", params={"entity": entity}).json()
    assert incidents["totalItems"] > 0  # tracking-service pages through PagerDuty service PTRK9A2
    items = client.get("/api/v1/flow/work-items", params={"entity": entity}).json()
    assert items["totalItems"] > 0 and all(item["key"].startswith("TRK-") for item in items["items"])
    first = items["items"][0]["id"]
    transitions = client.get(f"/api/v1/flow/work-items/{first}/transitions").json()
    assert transitions["items"] and transitions["items"][0]["fromStatus"] == "To Do"
