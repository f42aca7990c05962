"""The team page and the component tab on the demo organisation's data (catalog/ and 90 seeded days):
every team's page and its components' tabs answer, and the numbers agree with the DORA API."""

from __future__ import annotations

from sqlalchemy import select

from portal.catalog.models import CatalogEntity
from portal.demo.seed import seed_demo
from tests.demo.conftest import demo_catalog, short_year  # noqa: F401 - fixtures

WINDOW = {"window": "custom", "from": "2026-09-02", "until": "2026-12-01", "compare": "previous"}
JSON = {"Accept": "application/json"}


def test_every_team_page_and_component_tab_answers(client, session, demo_catalog, short_year):  # noqa: F811
    seed_demo(session, short_year)
    session.commit()
    groups = session.execute(select(CatalogEntity.entity_ref).where(
        CatalogEntity.entity_ref.like("group:%"))).scalars().all()
    assert groups
    measured = 0
    for ref in groups:
        name = ref.split("/", 1)[1]
        assert client.get(f"/teams/{name}", params=WINDOW, headers={"Accept": "text/html"}).status_code == 200
        body = client.get(f"/teams/{name}", params=WINDOW, headers=JSON).json()
        api = client.get("/api/v1/metrics/dora", params={"entity": ref, "from": "2026-09-02", "until": "2026-12-01"})
        assert body["dora"]["deploymentFrequency"] == api.json()["deploymentFrequency"]
        for row in body["components"][:2]:
            component = row["component"].split("/", 1)[1]
            tab = client.get(f"/catalog/default/component/{component}/metrics", params=WINDOW, headers=JSON)
            assert tab.status_code == 200
            assert tab.json()["dora"]["leadTimeForChanges"] == row["leadTimeForChanges"]
            assert sum(item["deployments"] for item in tab.json()["deploymentsPerWeek"]) == \
                row["deploymentFrequency"]["samples"]
            measured += row["deploymentFrequency"]["samples"]
    assert measured > 0  # the demo deploys: the pages are not all empty
