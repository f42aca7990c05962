"""Location routes of the catalog API, backed by the ingestion package."""

import pytest

API = "/api/catalog"

DESCRIPTORS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
"""


@pytest.fixture
def settings(settings, tmp_path):
    """File locations may be registered from the test's own folder (FLOWPORT_FILE_LOCATION_ROOTS)."""
    return settings.model_copy(update={"file_location_roots": [str(tmp_path)]})


@pytest.fixture
def catalog_file(tmp_path):
    path = tmp_path / "catalog-info.yaml"
    path.write_text(DESCRIPTORS)
    return path


def test_dry_run_previews_without_registering(client, catalog_file):
    response = client.post(f"{API}/locations", params={"dryRun": "true"},
                           json={"type": "file", "target": str(catalog_file)})
    assert response.status_code == 201
    body = response.json()
    assert body["exists"] is False and body["location"]["target"] == str(catalog_file)
    assert {"ledger", "team-a"} <= {e["metadata"]["name"] for e in body["entities"]}
    assert client.get(f"{API}/locations").json() == []


def test_register_list_read_by_entity_refresh_and_delete(client, catalog_file):
    created = client.post(f"{API}/locations", json={"type": "file", "target": str(catalog_file)})
    assert created.status_code == 201
    location = created.json()["location"]
    assert "exists" not in created.json()
    assert {"data": location} in client.get(f"{API}/locations").json()
    assert client.get(f"{API}/locations/{location['id']}").json() == location
    assert client.get(f"{API}/locations/by-entity/component/default/ledger").json() == location
    assert client.get(f"{API}/entities/by-name/component/default/ledger").status_code == 200

    again = client.post(f"{API}/locations", json={"type": "file", "target": str(catalog_file)})
    assert again.status_code == 409 and again.json()["error"]["name"] == "ConflictError"

    assert client.post(f"{API}/refresh", json={"entityRef": "component:default/ledger"}).status_code == 200

    assert client.delete(f"{API}/locations/{location['id']}").status_code == 204
    assert client.get(f"{API}/entities/by-name/component/default/ledger").status_code == 404
    assert client.delete(f"{API}/locations/{location['id']}").status_code == 404
    assert client.get(f"{API}/locations/{location['id']}").status_code == 404


def test_bad_locations_are_input_errors(client, tmp_path):
    missing = client.post(f"{API}/locations", json={"type": "file", "target": str(tmp_path / "nope.yaml")})
    assert missing.status_code == 400 and "nope.yaml" in missing.json()["error"]["message"]
    odd = client.post(f"{API}/locations", json={"type": "ftp", "target": "ftp://x"})
    assert odd.status_code == 400 and odd.json()["error"]["name"] == "InputError"
    no_target = client.post(f"{API}/locations", json={"type": "url"})
    assert no_target.status_code == 400


def test_refresh_of_an_unknown_entity_is_not_found(client):
    response = client.post(f"{API}/refresh", json={"entityRef": "component:default/ghost"})
    assert response.status_code == 404 and response.json()["error"]["name"] == "NotFoundError"
    assert client.get(f"{API}/locations/by-entity/component/default/ghost").status_code == 404


def test_registering_and_a_dry_run_both_need_permission(client, app, catalog_file):
    app.state.policy.allow_anonymous_changes = False
    denied = client.post(f"{API}/locations", json={"type": "file", "target": str(catalog_file)})
    assert denied.status_code == 401
    preview = client.post(f"{API}/locations", params={"dryRun": "true"},
                          json={"type": "file", "target": str(catalog_file)})
    assert preview.status_code == 401 and "entities" not in preview.json()
