"""Registering, refreshing and deleting file locations: errors, conflicts, orphans, dry runs."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from portal.catalog.ingest import (
    LocationError,
    LocationExistsError,
    delete_location,
    get_location,
    list_locations,
    location_of_entity,
    refresh_all,
    refresh_entity,
    refresh_location,
    register_location,
    registered_entities,
)
from portal.catalog.models import (
    CatalogEntity,
    CatalogLocation,
    CatalogProcessingError,
    CatalogRelation,
    CatalogSearch,
    CatalogSource,
)
from portal.catalog.store import assemble


def no_network() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(599)))


def component(name: str, owner: str = "team-a", extra: str = "") -> str:
    return f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
{extra}spec:
  type: service
  lifecycle: production
  owner: {owner}
"""


GROUP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
"""


def location(name: str, *targets: str, presence: str | None = None) -> str:
    """A Location descriptor listing `targets`."""
    listing = "".join(f"    - {target}\n" for target in targets)
    optional = f"  presence: {presence}\n" if presence else ""
    return f"""\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: {name}
spec:
{optional}  targets:
{listing}"""


def write(path: Path, *documents: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(documents))
    return path


def stored(session, ref: str) -> dict | None:
    row = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref == ref)).scalar_one_or_none()
    return assemble(session, [row])[0] if row is not None else None


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def register(session, settings, path: Path):
    return register_location(session, settings, no_network(), "file", str(path))


def test_registering_a_file_stores_its_entities_and_a_generated_location(session, settings, tmp_path):
    path = write(tmp_path / "catalog-info.yaml", component("svc"), GROUP)
    result = register(session, settings, path)
    session.commit()

    assert result.location["type"] == "file" and result.location["target"] == str(path)
    assert result.exists is False
    assert result.entities == []  # read back on request only
    entities = registered_entities(session, result)
    refs = [f"{e['kind']}:{e['metadata']['name']}" for e in entities]
    assert refs[1:] == ["Component:svc", "Group:team-a"]
    assert refs[0].startswith("Location:generated-")
    assert all(e["metadata"]["uid"] for e in entities)
    svc = stored(session, "component:default/svc")
    annotations = svc["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"file:{path}"
    assert annotations["backstage.io/managed-by-origin-location"] == f"file:{path}"
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in svc["relations"]
    assert location_of_entity(session, "component:default/svc") == result.location
    assert list_locations(session) == [result.location]
    assert get_location(session, result.location["id"]) == result.location


def test_registering_the_same_location_twice_is_refused_but_a_dry_run_says_it_exists(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("svc"))
    first = register(session, settings, path)
    with pytest.raises(LocationExistsError):
        register(session, settings, path)
    preview = register_location(session, settings, no_network(), "file", str(path), dry_run=True)
    assert preview.exists is True
    assert preview.location["id"] == first.location["id"]


def test_a_dry_run_reads_and_validates_but_writes_nothing(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("svc"), GROUP)
    preview = register_location(session, settings, no_network(), "file", str(path), dry_run=True)
    session.flush()
    assert preview.exists is False
    names = {e["metadata"]["name"] for e in preview.entities}
    assert {"svc", "team-a"} <= names
    svc = next(e for e in preview.entities if e["metadata"]["name"] == "svc")
    assert svc["metadata"]["annotations"]["backstage.io/managed-by-location"] == f"file:{path}"
    for model in (CatalogEntity, CatalogLocation, CatalogSource, CatalogProcessingError, CatalogSearch,
                  CatalogRelation):
        assert count(session, model) == 0, model.__tablename__


def test_bad_locations_are_refused_with_a_reason(session, settings, tmp_path):
    with pytest.raises(LocationError, match="Unsupported location type 'github'"):
        register_location(session, settings, no_network(), "github", "x")
    with pytest.raises(LocationError, match="does not exist"):
        register(session, settings, tmp_path / "missing.yaml")
    assert count(session, CatalogLocation) == 0


def test_an_invalid_entity_names_file_line_entity_and_field_and_the_others_load(session, settings, tmp_path):
    bad = component("broken", extra="  tags: [Not_A_Tag]\n").replace("  owner: team-a\n", "")
    path = write(tmp_path / "mixed.yaml", component("good-one"), bad, component("good-two"))
    result = register(session, settings, path)
    problems = sorted(result.report.errors, key=lambda p: p.field)

    assert [(p.line, p.entity, p.field) for p in problems] == [
        (14, "component:default/broken", "metadata.tags[0]"),
        (15, "component:default/broken", "spec.owner"),
    ]
    assert str(problems[1]) == f"{path}:15: component:default/broken: spec.owner: is required"
    assert stored(session, "component:default/good-one") is not None
    assert stored(session, "component:default/good-two") is not None
    assert stored(session, "component:default/broken") is None
    rows = session.execute(select(CatalogProcessingError)).scalars().all()
    assert {(r.location_key, r.line, r.entity_ref, r.field) for r in rows} == {
        (f"file:{path}", 14, "component:default/broken", "metadata.tags[0]"),
        (f"file:{path}", 15, "component:default/broken", "spec.owner"),
    }


def test_a_yaml_syntax_error_keeps_the_documents_before_it(session, settings, tmp_path):
    path = write(tmp_path / "broken.yaml", component("one"), component("two"), "kind: [oops\n", component("four"))
    result = register(session, settings, path)
    assert stored(session, "component:default/one") and stored(session, "component:default/two")
    [problem] = result.report.errors
    # Lines 1-18 are the first two documents; the unclosed list starts on line 19.
    assert problem.file == str(path) and problem.line == 20
    assert "YAML syntax error" in problem.message and "started at line 19" in problem.message


def test_location_targets_resolve_relative_to_their_file_and_cycles_end(session, settings, tmp_path):
    root = tmp_path / "catalog" / "all.yaml"
    write(root, """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: everything
spec:
  targets:
    - ./teams/groups.yaml
    - ./missing.yaml
""")
    write(tmp_path / "catalog" / "teams" / "groups.yaml", GROUP, """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: back-to-the-start
spec:
  target: ../all.yaml
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: maybe
spec:
  presence: optional
  target: ./not-there-yet.yaml
""")
    result = register(session, settings, root)
    session.commit()

    team = stored(session, "group:default/team-a")
    assert team["metadata"]["annotations"]["backstage.io/managed-by-location"] == (
        f"file:{tmp_path / 'catalog' / 'teams' / 'groups.yaml'}")
    assert team["metadata"]["annotations"]["backstage.io/managed-by-origin-location"] == f"file:{root}"
    [problem] = result.report.errors  # the optional target and the cycle are not errors
    assert (problem.file, problem.line, problem.entity, problem.field) == (
        str(root), 8, "location:default/everything", "spec.targets[1]")
    assert "missing.yaml: file not found" in problem.message
    location = stored(session, "location:default/everything")
    assert "missing.yaml" in location["status"]["items"][0]["error"]["message"]


def test_two_locations_claiming_one_entity_is_a_conflict_naming_both(session, settings, tmp_path):
    first = write(tmp_path / "one.yaml", component("shared"))
    second = write(tmp_path / "two.yaml", component("shared", owner="team-b"))
    register(session, settings, first)
    result = register(session, settings, second)

    [problem] = result.report.errors
    assert problem.entity == "component:default/shared"
    assert problem.message == (
        f"Detected conflicting entityRef component:default/shared already referenced by file:{first} "
        f"and now also file:{second}")
    assert stored(session, "component:default/shared")["spec"]["owner"] == "team-a"
    row = session.execute(select(CatalogProcessingError)).scalar_one()
    assert row.origin_location_id == result.location["id"] and row.line == 1


def test_an_entity_removed_from_its_file_is_flagged_orphan_and_comes_back(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("stays"), component("goes"))
    location_id = register(session, settings, path).location["id"]
    write(path, component("stays"))
    report = refresh_location(session, settings, no_network(), location_id)

    assert report.orphaned == 1
    gone = stored(session, "component:default/goes")
    assert gone["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert "backstage.io/orphan" not in stored(session, "component:default/stays")["metadata"]["annotations"]

    write(path, component("stays"), component("goes"))  # same content as before
    refresh_location(session, settings, no_network(), location_id)
    assert "backstage.io/orphan" not in stored(session, "component:default/goes")["metadata"]["annotations"]


def test_a_file_that_breaks_or_disappears_never_orphans_or_deletes_entities(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("one"), component("two"))
    location_id = register(session, settings, path).location["id"]

    path.write_text(component("one") + "---\nkind: [broken\n")
    report = refresh_location(session, settings, no_network(), location_id)
    assert report.orphaned == 0 and len(report.errors) == 1

    path.unlink()
    report = refresh_location(session, settings, no_network(), location_id)
    assert report.orphaned == 0
    assert "file not found" in report.errors[0].message
    for name in ("one", "two"):
        entity = stored(session, f"component:default/{name}")
        assert "backstage.io/orphan" not in entity["metadata"]["annotations"]


def test_an_entity_that_turns_invalid_keeps_its_good_copy_with_the_error_in_status(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("svc"))
    location_id = register(session, settings, path).location["id"]
    write(path, component("svc").replace("  owner: team-a\n", ""))
    refresh_location(session, settings, no_network(), location_id)

    entity = stored(session, "component:default/svc")
    assert entity["spec"]["owner"] == "team-a"
    [item] = entity["status"]["items"]
    assert item["type"] == "backstage.io/catalog-processing" and item["level"] == "error"
    assert item["error"]["name"] == "InputError"
    assert "spec.owner: is required" in item["error"]["message"]
    assert "backstage.io/orphan" not in entity["metadata"]["annotations"]

    write(path, component("svc"))
    refresh_location(session, settings, no_network(), location_id)
    assert "status" not in stored(session, "component:default/svc")
    assert count(session, CatalogProcessingError) == 0


def test_deleting_a_location_removes_the_entities_it_originated(session, settings, tmp_path):
    kept = register(session, settings, write(tmp_path / "keep.yaml", GROUP))
    dropped = register(session, settings, write(tmp_path / "drop.yaml", component("svc")))
    assert delete_location(session, dropped.location["id"]) is True
    session.commit()
    assert stored(session, "component:default/svc") is None
    assert stored(session, "group:default/team-a") is not None
    assert list_locations(session) == [kept.location]
    assert delete_location(session, dropped.location["id"]) is False


def test_refresh_entity_rereads_its_origin_location(session, settings, tmp_path):
    path = write(tmp_path / "a.yaml", component("svc"))
    register(session, settings, path)
    write(path, component("svc", owner="team-b"))
    report = refresh_entity(session, settings, no_network(), "component:default/svc")
    assert report is not None and report.updated == 1
    assert stored(session, "component:default/svc")["spec"]["owner"] == "team-b"
    assert refresh_entity(session, settings, no_network(), "component:default/nobody") is None
    with pytest.raises(LocationError):
        refresh_location(session, settings, no_network(), "no-such-id")


def test_refresh_all_reports_on_every_location(session, settings, tmp_path):
    first = write(tmp_path / "a.yaml", component("svc"))
    register(session, settings, first)
    register(session, settings, write(tmp_path / "b.yaml", GROUP))
    write(first, component("svc", owner="team-b"))
    reports = refresh_all(session, settings, no_network())
    assert sorted((Path(r.target).name, r.updated, r.unchanged) for r in reports) == [
        ("a.yaml", 1, 1), ("b.yaml", 0, 2)]
