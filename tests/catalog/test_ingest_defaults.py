"""Default catalog folders, `catalog validate`, start-up loading and the periodic refresher."""

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from portal.app import create_app
from portal.catalog.ingest import (
    CatalogRefresher,
    descriptor_files,
    ensure_default_locations,
    list_locations,
    register_location,
    validate_paths,
)
from portal.catalog.ingest import refresher as refresher_module
from portal.catalog.models import CatalogEntity
from tests.conftest import REPO_ROOT

GROUP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: {name}
spec:
  type: team
  children: []
"""


def no_network() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(599)))


def entity_count(session) -> int:
    return session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()


def test_a_folder_with_all_yaml_stands_for_that_file_and_others_for_all_their_yaml(tmp_path):
    indexed = tmp_path / "indexed"
    (indexed / "sub").mkdir(parents=True)
    (indexed / "all.yaml").write_text("x: 1\n")
    (indexed / "sub" / "a.yaml").write_text("x: 1\n")
    assert descriptor_files(indexed) == [indexed / "all.yaml"]

    plain = tmp_path / "plain"
    for relative in ("a.yaml", "deep/b.yml", "tpl/skeleton/catalog-info.yaml", ".hidden/c.yaml", "notes.txt"):
        (plain / relative).parent.mkdir(parents=True, exist_ok=True)
        (plain / relative).write_text("x: 1\n")
    assert descriptor_files(plain) == [plain / "a.yaml", plain / "deep" / "b.yml"]


def test_the_repository_catalog_and_templates_load_cleanly_and_idempotently(session, settings):
    configured = settings.model_copy(update={
        "catalog_paths": [str(REPO_ROOT / "catalog")], "template_paths": [str(REPO_ROOT / "templates")]})
    first = ensure_default_locations(session, configured, no_network())
    session.commit()
    assert [str(p) for report in first for p in report.errors] == []
    assert sum(report.inserted for report in first) == entity_count(session) > 10
    locations = list_locations(session)

    second = ensure_default_locations(session, configured, no_network())
    assert list_locations(session) == locations
    assert sum(report.inserted + report.updated for report in second) == 0


def test_a_plain_folder_picks_up_new_files_and_orphans_removed_ones(session, settings, tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.yaml").write_text(GROUP.format(name="team-a"))
    configured = settings.model_copy(update={"catalog_paths": [str(folder)]})
    ensure_default_locations(session, configured, no_network())

    (folder / "b.yaml").write_text(GROUP.format(name="team-b"))
    (folder / "a.yaml").unlink()
    [report] = ensure_default_locations(session, configured, no_network())
    assert (report.inserted, report.orphaned) == (1, 1)


def test_validate_paths_reports_every_problem_with_file_and_line(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GROUP.format(name="team-a"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(GROUP.format(name="Not Valid!") + "---\nkind: [\n")
    problems = validate_paths([str(good), str(bad), str(tmp_path / "missing.yaml")])
    texts = [str(problem) for problem in problems]
    assert texts[0].startswith(f"{bad}:4: ") and "metadata.name" in texts[0]
    assert texts[1].startswith(f"{bad}:") and "YAML syntax error" in texts[1]
    assert texts[2] == f"{tmp_path / 'missing.yaml'}: no such file or folder"
    assert len(problems) == 3

    index = tmp_path / "all.yaml"
    index.write_text("""\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: index
spec:
  targets: [./good.yaml, ./bad.yaml]
""")
    assert [str(p) for p in validate_paths([str(index)])] == texts[:2]  # targets are followed
    assert validate_paths([str(REPO_ROOT / "catalog"), str(REPO_ROOT / "templates")]) == []


def test_validate_paths_without_a_client_does_not_fetch_urls(tmp_path):
    api = tmp_path / "api.yaml"
    api.write_text("""\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: remote-spec
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: https://specs.example.com/openapi.yaml
""")
    assert validate_paths([str(api)]) == []


def test_start_up_loads_the_configured_paths_and_starts_the_refresher(settings, tmp_path, engine):
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "groups.yaml").write_text(GROUP.format(name="team-a"))
    configured = settings.model_copy(update={
        "catalog_paths": [str(folder)], "run_worker": True, "catalog_refresh_interval": 3600.0})
    app = create_app(configured)
    with TestClient(app):
        refresher = app.state.catalog_refresher
        assert isinstance(refresher, CatalogRefresher) and refresher._thread.is_alive()
        with Session(engine) as session:
            assert entity_count(session) == 2  # the group and the generated Location
    assert app.state.catalog_refresher is None
    assert refresher._thread is None  # stopped and joined on shutdown


def test_without_paths_or_worker_start_up_does_nothing(app, engine):
    with TestClient(app):
        assert app.state.catalog_refresher is None
    with Session(engine) as session:
        assert entity_count(session) == 0


def test_a_refresh_round_commits_each_location_and_survives_a_failing_one(settings, engine, tmp_path, monkeypatch):
    with Session(engine) as session:
        ids = []
        for name in ("team-a", "team-b"):
            path = tmp_path / f"{name}.yaml"
            path.write_text(GROUP.format(name=name))
            ids.append(register_location(session, settings, no_network(), "file", str(path)).location["id"])
        session.commit()
    (tmp_path / "team-b.yaml").write_text(GROUP.format(name="team-b").replace("type: team", "type: squad"))

    real_refresh = refresher_module.refresh_location

    def refresh_or_fail(session, settings, http, location_id):
        if location_id == ids[0]:
            raise RuntimeError("database hiccup")
        return real_refresh(session, settings, http, location_id)

    monkeypatch.setattr(refresher_module, "refresh_location", refresh_or_fail)
    refresher = CatalogRefresher(engine, settings, no_network(), interval=3600)
    assert refresher.run_once() == 1
    with Session(engine) as session:
        body = session.execute(select(CatalogEntity.body).where(
            CatalogEntity.entity_ref == "group:default/team-b")).scalar_one()
    assert '"type":"squad"' in body


def test_on_postgresql_a_location_another_worker_holds_is_skipped(settings, engine, tmp_path):
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite has a single writer")
    path = tmp_path / "a.yaml"
    path.write_text(GROUP.format(name="team-a"))
    with Session(engine) as session:
        location_id = register_location(session, settings, no_network(), "file", str(path)).location["id"]
        session.commit()
    with engine.connect() as other_worker, other_worker.begin():
        other_worker.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": refresher_module.lock_key(location_id)})
        assert CatalogRefresher(engine, settings, no_network(), interval=3600).run_once() == 0
    assert CatalogRefresher(engine, settings, no_network(), interval=3600).run_once() == 1


def test_the_refresher_thread_stops_promptly(settings, engine):
    refresher = CatalogRefresher(engine, settings, no_network(), interval=3600)
    refresher.start()
    refresher.stop(timeout=5)
    assert refresher._thread is None
