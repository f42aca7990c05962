"""URL locations through a stubbed HTTP client: allow-list, last good copy, placeholders."""

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from portal.catalog.ingest import LocationError, refresh_location, register_location
from portal.catalog.models import CatalogEntity, CatalogLocation, CatalogSource
from portal.catalog.store import assemble
from tests.catalog.descriptors import COMPONENT, API

BASE = "https://git.example.com/org/repo/raw/main"


class FakeServer:
    """Serves a dict of URL -> text; a value may be an int status or an exception to raise."""

    def __init__(self, pages: dict) -> None:
        self.pages = pages
        self.requested: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requested.append(url)
        page = self.pages.get(url, 404)
        if isinstance(page, Exception):
            raise page
        if isinstance(page, int):
            return httpx.Response(page, text="error page")
        return httpx.Response(200, text=page)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def stored(session, ref: str) -> dict | None:
    row = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref == ref)).scalar_one_or_none()
    return assemble(session, [row])[0] if row is not None else None


def test_a_url_location_and_its_relative_targets_load(session, settings):
    server = FakeServer({
        f"{BASE}/catalog-info.yaml": COMPONENT.format(name="svc") + """---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: more
spec:
  targets: [./more/other.yaml]
""",
        f"{BASE}/more/other.yaml": COMPONENT.format(name="other"),
    })
    result = register_location(session, settings, server.client(), "url", f"{BASE}/catalog-info.yaml")
    assert result.report.errors == []
    other = stored(session, "component:default/other")
    annotations = other["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"url:{BASE}/more/other.yaml"
    assert annotations["backstage.io/managed-by-origin-location"] == f"url:{BASE}/catalog-info.yaml"
    assert session.get(CatalogSource, f"url:{BASE}/more/other.yaml").content == COMPONENT.format(name="other")


@pytest.mark.parametrize("failure", [500, httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused")])
def test_a_failing_url_keeps_its_last_good_copy_and_its_entities(session, settings, failure):
    url = f"{BASE}/catalog-info.yaml"
    server = FakeServer({url: COMPONENT.format(name="one") + "---\n" + COMPONENT.format(name="two")})
    location_id = register_location(session, settings, server.client(), "url", url).location["id"]
    session.commit()

    server.pages[url] = failure
    report = refresh_location(session, settings, server.client(), location_id)
    session.commit()

    assert report.orphaned == 0 and report.read == 2
    [problem] = report.errors
    assert problem.file == url and "kept the last good copy" in problem.message
    for name in ("one", "two"):
        entity = stored(session, f"component:default/{name}")
        assert "backstage.io/orphan" not in entity["metadata"]["annotations"]
    assert session.get(CatalogSource, f"url:{url}").content.count("kind: Component") == 2
    location = session.get(CatalogLocation, location_id)
    session.refresh(location)
    assert "kept the last good copy" in location.last_error


def test_a_url_failing_at_registration_is_refused_and_not_stored(session, settings):
    server = FakeServer({f"{BASE}/a.yaml": 503})
    with pytest.raises(LocationError, match="HTTP 503"):
        register_location(session, settings, server.client(), "url", f"{BASE}/a.yaml")
    session.flush()
    assert session.execute(select(func.count()).select_from(CatalogLocation)).scalar_one() == 0


def test_hosts_outside_the_allow_list_are_refused_naming_the_setting(session, settings, tmp_path):
    narrow = settings.model_copy(update={"url_allow_hosts": ["*.example.com", "docs.internal"]})
    server = FakeServer({"https://api.example.com/a.yaml": COMPONENT.format(name="allowed")})
    register_location(session, narrow, server.client(), "url", "https://api.example.com/a.yaml")
    assert stored(session, "component:default/allowed") is not None

    with pytest.raises(LocationError) as refused:
        register_location(session, narrow, server.client(), "url", "https://evil.test/a.yaml")
    assert "'evil.test'" in refused.value.message and "FLOWPORT_URL_ALLOW_HOSTS" in refused.value.message

    local = tmp_path / "all.yaml"
    local.write_text("""\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: remote
spec:
  type: url
  target: https://evil.test/catalog.yaml
""")
    result = register_location(session, narrow, server.client(), "file", str(local))
    [problem] = result.report.errors
    assert problem.entity == "location:default/remote" and problem.field == "spec.target"
    assert "FLOWPORT_URL_ALLOW_HOSTS" in problem.message
    assert "https://evil.test/a.yaml" not in server.requested
    assert "https://evil.test/catalog.yaml" not in server.requested


def test_text_json_and_yaml_placeholders_are_replaced(session, settings, tmp_path):
    (tmp_path / "openapi.yaml").write_text("openapi: 3.0.0\n")
    (tmp_path / "meta.json").write_text(json.dumps({"team": "a", "tier": 1}))
    (tmp_path / "meta.yaml").write_text("team: b\ntier: 2\n")
    descriptor = tmp_path / "apis.yaml"
    descriptor.write_text(
        API.format(name="from-file", placeholder="$text", target="./openapi.yaml")
        + "---\n" + API.format(name="from-url", placeholder="$text", target="https://specs.example.com/x.graphql")
        + "  extra:\n    json:\n      $json: ./meta.json\n    yaml:\n      $yaml: meta.yaml\n"
    )
    server = FakeServer({"https://specs.example.com/x.graphql": "type Query { ok: Boolean }"})
    result = register_location(session, settings, server.client(), "file", str(descriptor))

    assert result.report.errors == []
    assert stored(session, "api:default/from-file")["spec"]["definition"] == "openapi: 3.0.0\n"
    from_url = stored(session, "api:default/from-url")["spec"]
    assert from_url["definition"] == "type Query { ok: Boolean }"
    assert from_url["extra"] == {"json": {"team": "a", "tier": 1}, "yaml": {"team": "b", "tier": 2}}


def test_a_placeholder_that_cannot_be_read_is_an_error_on_that_field(session, settings, tmp_path: Path):
    descriptor = tmp_path / "apis.yaml"
    descriptor.write_text(
        API.format(name="missing-spec", placeholder="$text", target="./nope.yaml")
        + "---\n" + API.format(name="bad-json", placeholder="$json", target="./broken.json")
        + "---\n" + API.format(name="odd", placeholder="$file", target="./x")
        + "---\n" + API.format(name="fine", placeholder="$text", target="./broken.json")
    )
    (tmp_path / "broken.json").write_text("{not json")
    result = register_location(session, settings, FakeServer({}).client(), "file", str(descriptor))

    by_entity = {p.entity: p for p in result.report.errors}
    assert len(result.report.errors) == 3  # no second "must be a string" for the same field
    assert set(by_entity) == {"api:default/missing-spec", "api:default/bad-json", "api:default/odd"}
    missing = by_entity["api:default/missing-spec"]
    assert (missing.line, missing.field) == (9, "spec.definition")
    assert "$text ./nope.yaml could not be read: file not found" in missing.message
    assert "is not valid JSON" in by_entity["api:default/bad-json"].message
    assert "unknown placeholder '$file'" in by_entity["api:default/odd"].message
    assert stored(session, "api:default/fine")["spec"]["definition"] == "{not json"
