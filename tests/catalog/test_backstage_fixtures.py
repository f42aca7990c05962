"""Real Backstage descriptors load unchanged and produce the relations Backstage derives."""

import glob
import shutil

import httpx
import pytest
from sqlalchemy import select

from portal.catalog.ingest import register_location, registered_entities
from portal.catalog.models import CatalogEntity
from portal.catalog.store import assemble
from tests.conftest import FIXTURES

BACKSTAGE = FIXTURES / "backstage"
CLEAN_SETS = ["backstage-catalog-model-examples", "create-app-0.9.2-default-app-examples", "software-templates"]


def any_url_serves_a_spec() -> httpx.Client:
    # `$text` definitions point at GitHub and demo.backstage.io; stub them with a small document.
    return httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, text=f"# fetched from {request.url}\nopenapi: 3.0.0\n")))


def relations(session, ref: str) -> list[dict]:
    row = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref == ref)).scalar_one()
    return assemble(session, [row])[0]["relations"]


def load(session, settings, folder: str):
    return register_location(session, settings, any_url_serves_a_spec(), "file", str(BACKSTAGE / folder))


def documents_in(folder: str) -> int:
    import yaml

    total = 0
    for path in glob.glob(str(BACKSTAGE / folder / "**" / "*.yaml"), recursive=True):
        with open(path) as handle:
            total += sum(1 for doc in yaml.safe_load_all(handle) if doc)
    return total


@pytest.mark.parametrize("folder", CLEAN_SETS)
def test_every_fixture_file_imports_without_errors(session, settings, folder):
    result = load(session, settings, folder)
    assert [str(p) for p in result.report.errors] == []
    # Every document of every file became an entity, plus the generated Location.
    assert result.report.read == documents_in(folder)
    assert len(registered_entities(session, result)) == documents_in(folder) + 1


def test_the_demo_catalog_loads_except_its_plugin_defined_kind(session, settings):
    # demo.backstage.io installs a catalog module for `kind: AiResource`; stock Backstage rejects it too.
    result = load(session, settings, "backstage-demo")
    assert {p.entity.split(":")[0] for p in result.report.errors} == {"airesource"}
    assert all(p.field == "kind" and "unknown kind 'AiResource'" in p.message for p in result.report.errors)
    assert len(result.report.errors) == 6
    # The MCP server API has `remotes` instead of a definition, as upstream Backstage allows.
    mcp = relations(session, "api:default/github-mcp-server")
    assert {"type": "ownedBy", "targetRef": "group:backstage/maintainers"} in mcp
    graphql = session.execute(
        select(CatalogEntity.body).where(CatalogEntity.entity_ref == "api:default/demo-graphql")).scalar_one()
    assert "fetched from https://demo.backstage.io/api/graphql/schema" in graphql


def test_the_acme_examples_produce_backstage_relations_in_both_directions(session, settings):
    load(session, settings, "backstage-catalog-model-examples")
    assert {"type": "memberOf", "targetRef": "group:default/team-a"} in relations(session, "user:default/breanna.davison")
    assert {"type": "hasMember", "targetRef": "user:default/breanna.davison"} in relations(session, "group:default/team-a")
    assert {"type": "hasMember", "targetRef": "user:development/guest"} in relations(session, "group:default/team-a")
    assert {"type": "ownedBy", "targetRef": "group:default/team-c"} in relations(session, "component:default/petstore")
    assert {"type": "ownerOf", "targetRef": "component:default/petstore"} in relations(session, "group:default/team-c")
    assert {"type": "apiProvidedBy", "targetRef": "component:default/wayback-search"} in relations(
        session, "api:default/wayback-search")
    assert {"type": "apiConsumedBy", "targetRef": "component:default/wayback-search"} in relations(
        session, "api:default/wayback-archive")
    assert {"type": "partOf", "targetRef": "domain:default/playback"} in relations(session, "system:default/audio-playback")
    assert {"type": "hasPart", "targetRef": "system:default/audio-playback"} in relations(session, "domain:default/playback")
    assert {"type": "childOf", "targetRef": "group:default/backstage"} in relations(session, "group:default/team-a")
    assert {"type": "parentOf", "targetRef": "group:default/team-a"} in relations(session, "group:default/backstage")
    assert {"type": "parentOf", "targetRef": "group:default/infrastructure"} in relations(session, "group:default/acme-corp")


def test_the_create_app_examples_link_website_api_and_system(session, settings):
    load(session, settings, "create-app-0.9.2-default-app-examples")
    website = relations(session, "component:default/example-website")
    assert {"type": "providesApi", "targetRef": "api:default/example-grpc-api"} in website
    assert {"type": "partOf", "targetRef": "system:default/examples"} in website
    assert {"type": "ownedBy", "targetRef": "group:default/guests"} in website
    assert {"type": "memberOf", "targetRef": "group:default/guests"} in relations(session, "user:default/guest")


def test_software_templates_are_v1beta3_templates(session, settings):
    load(session, settings, "software-templates")
    rows = session.execute(select(CatalogEntity).where(CatalogEntity.kind == "Template")).scalars().all()
    assert len(rows) == 4
    assert {assemble(session, [row])[0]["apiVersion"] for row in rows} == {"scaffolder.backstage.io/v1beta3"}


def test_a_fixture_location_whose_targets_are_missing_errs_on_that_location_only(session, settings, tmp_path):
    # Like upstream all.yaml: a Location listing the real examples and one file this copy lacks. The
    # examples are copied beside it: a location reads files inside its own folder only.
    index = tmp_path / "all.yaml"
    examples = tmp_path / "examples"
    shutil.copytree(BACKSTAGE / "backstage-catalog-model-examples", examples)
    index.write_text(f"""\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: example-index
spec:
  targets:
    - {examples}/all-systems.yaml
    - {examples}/apis/hello-world-api.yaml
""")
    result = register_location(session, settings, any_url_serves_a_spec(), "file", str(index))
    [problem] = result.report.errors
    assert (problem.entity, problem.field) == ("location:default/example-index", "spec.targets[1]")
    assert "hello-world-api.yaml: file not found" in problem.message
    assert session.execute(select(CatalogEntity).where(
        CatalogEntity.entity_ref == "system:default/podcast")).scalar_one_or_none() is not None
