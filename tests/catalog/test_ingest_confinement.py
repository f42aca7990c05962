"""Finding 6: placeholders and Location targets of a file location read only inside the location's
folder (the folder it was registered as, or the folder of the file), symlinks resolved."""

import os

import httpx
import pytest
from sqlalchemy import select

from portal.catalog.ingest import register_location
from portal.catalog.models import CatalogEntity
from tests.catalog.descriptors import COMPONENT, API_QUOTED_TARGET as API


@pytest.fixture
def location(tmp_path):
    folder = tmp_path / "team" / "catalog"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text('{"openapi": "3.0.0"}')
    (tmp_path / "team" / "private.txt").write_text("SECRET=outside-the-root\n")
    return folder


def load(session, settings, descriptor, text: str, http=None):
    descriptor.write_text(text)
    return register_location(session, settings, http, "file", str(descriptor))


def stored_names(session) -> set[str]:
    return set(session.execute(select(CatalogEntity.name)).scalars())


@pytest.mark.parametrize("target", [
    "/proc/self/environ", "../../../../../../../../etc/hostname", "../private.txt", "/etc/passwd",
    "~/.bashrc", "./sub/../../private.txt",
])
def test_a_placeholder_outside_the_location_folder_is_refused_unread(session, settings, location, target):
    result = load(session, settings, location / "api.yaml", API.format(name="leak", placeholder="$text", target=target))
    [problem] = result.report.errors
    assert (problem.entity, problem.field) == ("api:default/leak", "spec.definition")
    assert "outside this location's folder" in problem.message or "'~' is not expanded" in problem.message
    assert "outside-the-root" not in problem.message and "PATH=" not in problem.message
    assert "leak" not in stored_names(session)


def test_a_symlink_inside_the_folder_that_leads_out_is_refused(session, settings, location):
    (location / "link.txt").symlink_to(location.parent / "private.txt")
    result = load(session, settings, location / "api.yaml", API.format(name="linked", placeholder="$text",
                                                                       target="./link.txt"))
    [problem] = result.report.errors
    assert "it is outside this location's folder" in problem.message
    assert "outside-the-root" not in str(result.report.errors)


def test_a_nul_byte_in_a_placeholder_path_is_a_field_error(session, settings, location):
    result = load(session, settings, location / "api.yaml", API.format(name="nul", placeholder="$text",
                                                                       target="spec.yaml\\0.txt"))
    [problem] = result.report.errors
    assert "NUL byte" in problem.message


def test_placeholders_inside_the_folder_still_resolve_also_from_a_subfolder(session, settings, location):
    (location / "apis").mkdir()
    result = load(session, settings, location / "apis" / "api.yaml",
                  API.format(name="fine", placeholder="$text", target="../spec.json"))
    # Registered as the file apis/api.yaml: its root is apis/, so ../spec.yaml is outside it.
    assert "../spec.json is outside this location's folder" in result.report.errors[0].message
    session.rollback()
    (location / "apis" / "api.yaml").unlink()
    (location / "apis" / "api.yaml").write_text(API.format(name="fine", placeholder="$text", target="../spec.json"))
    # Registered as the folder: every file under it may name every other.
    folder = register_location(session, settings, None, "file", str(location))
    assert folder.report.errors == []
    assert "fine" in stored_names(session)


def test_location_targets_and_globs_stay_inside_the_folder(session, settings, location, tmp_path):
    (tmp_path / "team" / "other.yaml").write_text(COMPONENT.format(name="outsider"))
    result = load(session, settings, location / "all.yaml", """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: index
spec:
  targets: [../other.yaml, /**/*.yaml, ./mine.yaml]
""")
    (location / "mine.yaml").write_text(COMPONENT.format(name="mine"))
    messages = [problem.message for problem in result.report.errors]
    assert any(m.startswith("../other.yaml is outside this location's folder") for m in messages)
    assert any(m.startswith("/**/*.yaml is outside this location's folder") for m in messages)
    assert "outsider" not in stored_names(session)


def test_a_folder_location_skips_a_symlinked_file_that_leads_out(session, settings, location):
    (location / "good.yaml").write_text(COMPONENT.format(name="good"))
    (location / "stolen.yaml").symlink_to(location.parent / "private.txt")
    result = register_location(session, settings, None, "file", str(location))
    [problem] = [p for p in result.report.errors if "stolen" in p.message or "stolen" in p.file]
    assert "is outside this location's folder" in problem.message
    assert "good" in stored_names(session)


def test_a_url_location_resolves_a_path_placeholder_against_its_url_not_the_disk(session, settings):
    asked = []

    def serve(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path == "/catalog-info.yaml":
            return httpx.Response(200, text=API.format(name="remote", placeholder="$text", target="/etc/hostname"))
        return httpx.Response(200, text="from the server")

    http = httpx.Client(transport=httpx.MockTransport(serve))
    result = register_location(session, settings, http, "url", "https://git.example.com/catalog-info.yaml")
    assert result.report.errors == []
    assert asked == ["https://git.example.com/catalog-info.yaml", "https://git.example.com/etc/hostname"]
    definition = session.execute(select(CatalogEntity).where(CatalogEntity.name == "remote")).scalar_one()
    assert "from the server" in definition.body
