"""A script payload in every string field a descriptor can carry never runs on a page: each field is
stored, shown, and stays text (in the catalog list, the entity page and its graph, products and
capabilities), checked in the HTML and in Chromium."""

from __future__ import annotations

import pytest

from portal.catalog.store import PreparedEntity, write_entities

MARK = "window.__xss"
PAYLOADS = [f"<script>{MARK}=1</script>", f"<img src=x onerror=\"{MARK}=1\">", f"\"><svg onload={MARK}=1>",
            f"'-{MARK}=1-'", f"{{{{7*7}}}}<b>{MARK}</b>"]
FLOWPORT = "flowport.dev/v1alpha1"


def _payload(n: int) -> str:
    return PAYLOADS[n % len(PAYLOADS)]


def hostile_entities() -> list[dict]:
    n = iter(range(1000))

    def p() -> str:
        return _payload(next(n))

    component = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                 "metadata": {"name": "xss-service", "title": p(), "description": p(), "tags": ["xss"],
                              "labels": {"team": "x"}, "annotations": {"example.com/note": p()},
                              "links": [{"url": "https://docs.example", "title": p(), "icon": p(), "type": p()}]},
                 "spec": {"type": p(), "lifecycle": p(), "owner": "group:default/xss-team", "system": "xss",
                          "providesApis": ["xss-api"]}}
    group = {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
             "metadata": {"name": "xss-team", "title": p(), "description": p()},
             "spec": {"type": "team", "children": [], "profile": {"displayName": p(), "email": p()}}}
    product = {"apiVersion": FLOWPORT, "kind": "PlatformProduct",
               "metadata": {"name": "xss-product", "title": p(), "description": p()},
               "spec": {"owner": "group:default/xss-team", "lifecycle": "production", "type": p(),
                        "objectives": [p(), p()]}}
    capability = {"apiVersion": FLOWPORT, "kind": "Capability",
                  "metadata": {"name": "xss-capability", "title": p(), "description": p()},
                  "spec": {"product": "platformproduct:default/xss-product", "owner": "group:default/xss-team",
                           "lifecycle": "ga", "targetLeadTime": "P2D", "timeSaved": "PT4H",
                           "fulfillment": {"mode": "manual"},
                           "inputs": {"type": "object", "properties": {"x": {"type": "string", "title": p(),
                                                                             "description": p()}}}}}
    return [component, group, product, capability]


PAGES = ["/catalog", "/catalog?kind=component", "/catalog?q=xss", "/catalog/default/component/xss-service",
         "/catalog/default/group/xss-team", "/catalog/default/component/xss-service/graph.svg", "/products",
         "/products/xss-product", "/products/xss-product/capabilities/xss-capability"]


@pytest.fixture
def hostile(session):
    write_entities(session, [PreparedEntity(e, "file:/srv/xss.yaml", "file:/srv/xss.yaml") for e in hostile_entities()])
    session.commit()


@pytest.mark.parametrize("path", PAGES)
def test_payloads_are_escaped_in_the_html(client, hostile, path):
    page = client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text[:300]
    for payload in ("<script>window.__xss", "<img src=x onerror", "<svg onload", "<b>window.__xss"):
        assert payload not in page.text, (path, payload)


@pytest.mark.browser
def test_no_payload_runs_in_the_browser(page, session, hostile):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__xss === undefined"), path
    assert dialogs == []
