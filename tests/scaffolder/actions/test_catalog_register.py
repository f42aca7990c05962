"""catalog:register and catalog:fetch against the real test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogLocation
from portal.scaffolder.actions import ActionError, validate_action_input
from portal.scaffolder.actions.catalog_fetch import CatalogFetch
from portal.scaffolder.actions.catalog_register import CatalogRegister
from portal.scaffolder.actions.contract import ActionInputError
from portal.scaffolder.actions.git_publish import PublishGit
from tests.scaffolder.actions.git_support import action_settings, services
from tests.scaffolder.actions.helpers import make_context

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: returns-service
  description: Handles parcel returns.
spec:
  type: service
  lifecycle: experimental
  owner: group:default/team-returns
"""


def run(action, tmp_path, engine, settings, http=None, **inputs):
    validate_action_input(action, inputs, "step")
    ctx, lines = make_context(tmp_path, input=inputs, services=services(settings, engine=engine, http=http))
    action.run(ctx)
    return ctx.outputs, lines


def stored_refs(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.execute(select(CatalogEntity.entity_ref)).scalars())


def published(tmp_path: Path, settings) -> dict:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "catalog-info.yaml").write_text(COMPONENT)
    ctx, _ = make_context(workspace, input={"remoteUrl": "northwind/returns-service.git"},
                          services=services(settings))
    PublishGit().run(ctx)
    return ctx.outputs


def test_a_repository_published_here_is_registered_from_its_checkout(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    answer, lines = run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"],
                        catalogInfoPath="/catalog-info.yaml")
    assert answer["entityRef"] == "component:default/returns-service"
    assert answer["catalogInfoUrl"] == f"{outputs['repoContentsUrl']}/catalog-info.yaml"
    assert "component:default/returns-service" in stored_refs(engine)
    with Session(engine) as session:
        [location] = session.execute(select(CatalogLocation)).scalars().all()
    assert (location.type, location.target) == ("file", answer["catalogInfoUrl"])
    assert lines[-1] == "Registered component:default/returns-service"


def test_the_new_component_is_served_by_the_catalog_api(tmp_path, engine, settings, client):
    outputs = published(tmp_path, settings)
    run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"])
    answer = client.get("/api/catalog/entities/by-name/component/default/returns-service")
    assert answer.status_code == 200
    assert answer.json()["spec"]["owner"] == "group:default/team-returns"


def test_files_outside_the_roots_and_the_checkout_area_are_still_refused(tmp_path, engine, settings):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "catalog-info.yaml").write_text(COMPONENT)
    for target in (str(elsewhere / "catalog-info.yaml"), f"file://{elsewhere}/catalog-info.yaml",
                   f"{settings.data_dir}/git-checkouts/../../elsewhere/catalog-info.yaml"):
        with pytest.raises(ActionError, match="not inside a folder that file locations may be registered from"):
            run(CatalogRegister(), tmp_path, engine, settings, catalogInfoUrl=target)
    assert stored_refs(engine) == []


def test_a_catalog_info_path_may_not_leave_the_repository(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    with pytest.raises(ActionError, match="leaves its folder"):
        run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"],
            catalogInfoPath="../../../etc/passwd")


def test_a_url_is_read_through_the_outbound_client(tmp_path, engine, settings):
    url = "https://git.northwind.example/returns/raw/main/catalog-info.yaml"
    http = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, text=COMPONENT) if str(request.url) == url else httpx.Response(404)))
    answer, _ = run(CatalogRegister(), tmp_path, engine, settings, http=http, catalogInfoUrl=url)
    assert answer == {"catalogInfoUrl": url, "entityRef": "component:default/returns-service"}


def test_an_unreadable_location_fails_unless_optional(tmp_path, engine, settings):
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(404)))
    url = "https://git.northwind.example/missing/catalog-info.yaml"
    with pytest.raises(ActionError, match="git.northwind.example/missing/catalog-info.yaml"):
        run(CatalogRegister(), tmp_path, engine, settings, http=http, catalogInfoUrl=url)
    answer, lines = run(CatalogRegister(), tmp_path, engine, settings, http=http, catalogInfoUrl=url, optional=True)
    assert answer == {"catalogInfoUrl": url}
    assert lines[-1].startswith("Not registered, and the step is optional:")
    assert stored_refs(engine) == []


def test_registering_the_same_location_twice_is_a_clear_error(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"])
    with pytest.raises(ActionError, match="already exists"):
        run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"])


@pytest.mark.parametrize(("inputs", "reason"), [
    ({"catalogInfoUrl": "relative/catalog-info.yaml"}, "neither an http\\(s\\) URL nor an absolute path"),
    ({"catalogInfoUrl": "javascript:alert(1)"}, "neither an http\\(s\\) URL nor an absolute path"),
    ({"catalogInfoUrl": "/tmp/a\x00b"}, "NUL"),
    ({"catalogInfoUrl": "file://fileserver/share/catalog-info.yaml"}, "names a file on another host"),
    ({"catalogInfoUrl": "http://169.254.169.254/latest/meta-data"}, "Cannot register"),
    ({"repoContentsUrl": "/srv", "catalogInfoPath": "/"}, "must name a file"),
])
def test_hostile_targets_are_refused(tmp_path, engine, settings, inputs, reason):
    with pytest.raises(ActionError, match=reason):
        run(CatalogRegister(), tmp_path, engine, settings, **inputs)


@pytest.mark.parametrize("inputs", [{}, {"catalogInfoUrl": "", "optional": True},
                                    {"catalogInfoUrl": "https://x/y", "repoContentsUrl": "https://x"},
                                    {"catalogInfoUrl": 7}, {"catalogInfoUrl": "https://x/y", "optional": "yes"}])
def test_register_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    with pytest.raises(ActionInputError):
        validate_action_input(CatalogRegister(), inputs, "step")


# -- catalog:fetch --

@pytest.fixture
def registered(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=outputs["repoContentsUrl"])


def test_fetch_reads_one_entity_with_defaults(tmp_path, engine, settings, registered):
    answer, _ = run(CatalogFetch(), tmp_path, engine, settings, entityRef="returns-service", defaultKind="Component")
    assert answer["entity"]["metadata"]["name"] == "returns-service"
    assert answer["entity"]["spec"]["owner"] == "group:default/team-returns"
    assert answer["entity"]["metadata"]["uid"]


def test_fetch_reads_several_in_order_and_optional_gives_null_for_unknown(tmp_path, engine, settings, registered):
    answer, _ = run(CatalogFetch(), tmp_path, engine, settings, optional=True,
                    entityRefs=["component:default/nope", "Component:returns-service"])
    assert answer["entities"][0] is None
    assert answer["entities"][1]["metadata"]["name"] == "returns-service"


def test_fetch_of_an_unknown_entity_fails_unless_optional(tmp_path, engine, settings):
    with pytest.raises(ActionError, match="no entity 'component:default/ghost' in the catalog"):
        run(CatalogFetch(), tmp_path, engine, settings, entityRef="component:default/ghost")
    answer, _ = run(CatalogFetch(), tmp_path, engine, settings, entityRef="component:default/ghost", optional=True)
    assert answer == {}


@pytest.mark.parametrize(("inputs", "reason"), [
    ({"entityRef": "returns-service"}, "has no kind and none could be assumed"),
    ({"entityRef": "a:b/c/d"}, "is malformed"),
])
def test_fetch_refuses_bad_references(tmp_path, engine, settings, inputs, reason):
    with pytest.raises(ActionError, match=reason):
        run(CatalogFetch(), tmp_path, engine, settings, **inputs)


@pytest.mark.parametrize("inputs", [{}, {"entityRef": ""}, {"entityRefs": ["a"] * 101}, {"entityRef": 5},
                                    {"entityRef": "a", "entityRefs": ["b"]}])
def test_fetch_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    with pytest.raises(ActionInputError):
        validate_action_input(CatalogFetch(), inputs, "step")


def test_with_optional_a_malformed_reference_does_not_fail_the_good_ones(tmp_path, engine, settings, registered):
    answer, lines = run(CatalogFetch(), tmp_path, engine, settings, optional=True,
                        entityRefs=["a:b/c/d", "component:default/returns-service"])
    assert answer["entities"][0] is None
    assert answer["entities"][1]["metadata"]["name"] == "returns-service"
    assert lines[0] == "Skipping: Entity reference 'a:b/c/d' is malformed"


def test_a_descriptor_that_gives_no_entity_is_not_registered(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    checkout = Path(outputs["repoContentsUrl"])
    (checkout / "broken.yaml").write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n")
    with pytest.raises(ActionError, match="broken.yaml gives no entity: .*name"):
        run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=str(checkout), catalogInfoPath="broken.yaml")
    with Session(engine) as session:
        assert session.execute(select(CatalogLocation)).scalars().all() == []
    assert stored_refs(engine) == []


def test_one_bad_document_beside_a_good_one_is_logged_and_the_good_one_registered(tmp_path, engine, settings):
    outputs = published(tmp_path, settings)
    checkout = Path(outputs["repoContentsUrl"])
    (checkout / "two.yaml").write_text(COMPONENT + "---\napiVersion: backstage.io/v1alpha1\nkind: Component\n"
                                                  "metadata: {name: 'Not Valid!'}\n")
    answer, lines = run(CatalogRegister(), tmp_path, engine, settings, repoContentsUrl=str(checkout),
                        catalogInfoPath="two.yaml")
    assert answer["entityRef"] == "component:default/returns-service"
    assert any(line.startswith("Registered with a problem:") for line in lines)
