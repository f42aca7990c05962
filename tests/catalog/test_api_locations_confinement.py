"""Finding 3: dry runs need permission, and file locations sent through the API stay inside
FLOWPORT_FILE_LOCATION_ROOTS (symlinks and `..` resolved), answering the same whether a path exists."""

import os

import pytest
from sqlalchemy import func, select

from portal.catalog.ingest import ensure_default_locations, register_location
from portal.catalog.models import CatalogLocation
from tests.web.csrf_support import assert_refused_for_nul
from tests.catalog.descriptors import COMPONENT

API = "/api/catalog"


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "roots" / "catalogs"
    folder.mkdir(parents=True)
    (folder / "catalog-info.yaml").write_text(COMPONENT.format(name="inside"))
    return folder


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.yaml").write_text(COMPONENT.format(name="secret"))
    return folder


@pytest.fixture
def settings(settings, root):
    return settings.model_copy(update={"file_location_roots": [str(root)]})


def post(client, target: str, dry_run: bool = True):
    return client.post(f"{API}/locations", params={"dryRun": "true"} if dry_run else {},
                       json={"type": "file", "target": target})


def assert_refused(response, target: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["name"] == "InputError"
    assert error["message"] == (
        f"File location {target!r} is not inside a folder that file locations may be registered from; "
        "an operator can add its folder to FLOWPORT_FILE_LOCATION_ROOTS")


def test_a_dry_run_inside_a_root_previews_its_entities(client, root):
    response = post(client, str(root / "catalog-info.yaml"))
    assert response.status_code == 201
    assert "inside" in {e["metadata"]["name"] for e in response.json()["entities"]}


@pytest.mark.parametrize("dry_run", [True, False])
def test_paths_outside_the_roots_answer_the_same_whether_they_exist_or_not(client, outside, dry_run):
    existing, missing = "/etc/shadow", "/etc/no-such-file-here"
    assert_refused(post(client, existing, dry_run), existing)
    assert_refused(post(client, missing, dry_run), missing)
    assert_refused(post(client, str(outside / "secret.yaml"), dry_run), str(outside / "secret.yaml"))
    assert client.get(f"{API}/locations").json() == []


@pytest.mark.parametrize("target", ["/", "/proc/self/environ", "~/.ssh", "relative/catalog-info.yaml"])
def test_the_file_system_root_and_other_odd_targets_are_refused_unread(client, target):
    assert_refused(post(client, target), target)


def test_dot_dot_out_of_a_root_is_refused(client, root, outside):
    target = f"{root}/../../elsewhere/secret.yaml"
    assert os.path.exists(target)
    assert_refused(post(client, target), target)


@pytest.mark.parametrize("link_to", ["file", "folder"])
def test_a_symlink_inside_a_root_that_leads_outside_is_refused(client, root, outside, link_to):
    link = root / "innocent.yaml"
    link.symlink_to(outside / "secret.yaml" if link_to == "file" else outside)
    assert_refused(post(client, str(link)), str(link))
    assert_refused(post(client, str(link), dry_run=False), str(link))


def test_a_nul_byte_in_the_target_is_an_input_error(client, root):
    target = f"{root}/catalog-info.yaml\x00.txt"
    # Through the API, the request guards refuse the NUL before the location code sees it.
    assert_refused_for_nul(post(client, target))
    assert_refused_for_nul(post(client, target, dry_run=False))


def test_a_dry_run_needs_the_permission_registering_needs(client, app, root):
    app.state.policy.allow_anonymous_changes = False
    response = post(client, str(root / "catalog-info.yaml"))
    assert response.status_code == 401 and "entities" not in response.json()


def test_without_configured_roots_the_catalog_and_template_folders_are_the_roots(client, app, root, outside):
    app.state.settings = app.state.settings.model_copy(update={
        "file_location_roots": [], "catalog_paths": [str(root / "catalog-info.yaml")]})
    assert post(client, str(root / "catalog-info.yaml")).status_code == 201
    assert_refused(post(client, str(outside / "secret.yaml")), str(outside / "secret.yaml"))
    app.state.settings = app.state.settings.model_copy(update={"catalog_paths": []})
    assert_refused(post(client, str(root / "catalog-info.yaml")), str(root / "catalog-info.yaml"))


def test_configured_catalog_paths_and_the_cli_still_read_outside_the_roots(session, settings, outside):
    configured = settings.model_copy(update={"catalog_paths": [str(outside)]})
    [report] = ensure_default_locations(session, configured, None)
    assert report.errors == [] and report.read == 1
    session.rollback()
    # `flowport catalog import` registers without the confinement (whoever runs it has the shell).
    result = register_location(session, settings, None, "file", str(outside / "secret.yaml"))
    assert result.report.errors == []
    assert session.execute(select(func.count()).select_from(CatalogLocation)).scalar_one() == 1


def test_a_tilde_inside_a_root_is_a_folder_name_not_the_home_folder(client, root, monkeypatch):
    monkeypatch.chdir(root)
    (root / "~").mkdir()
    (root / "~" / "team.yaml").write_text(COMPONENT.format(name="tilde"))
    response = post(client, "~/team.yaml")
    assert response.status_code == 201, response.text
    assert response.json()["location"]["target"] == str(root / "~" / "team.yaml")
