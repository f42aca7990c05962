"""by-name and by-uid read through hand-written point reads: the same documents as the paged read
path, and a read survives a connection the database dropped."""

import json

import pytest
from sqlalchemy import select, text, update

from portal.catalog.models import CatalogEntity
from portal.catalog.store import assemble
from tests.compat.catalog_seed import seed

API = "/api/catalog"


@pytest.fixture
def seeded(client, session):
    seed(session)
    return client


def _mark_orphan_with_error(session, ref: str) -> None:
    error = [{"type": "backstage.io/catalog-processing", "level": "error",
              "message": "InputError: spec.owner: is required",
              "error": {"name": "InputError", "message": "spec.owner: is required"}}]
    session.execute(update(CatalogEntity).where(CatalogEntity.entity_ref == ref)
                    .values(orphan=True, errors=json.dumps(error)))
    session.commit()


def test_point_reads_answer_the_documents_the_paged_reads_assemble(seeded, session):
    _mark_orphan_with_error(session, "component:default/orders")
    rows = session.execute(select(CatalogEntity)).scalars().all()
    assert len(rows) == 13
    for row, expected in zip(rows, assemble(session, rows), strict=True):
        kind, rest = row.entity_ref.split(":", 1)
        namespace, name = rest.split("/", 1)
        by_name = seeded.get(f"{API}/entities/by-name/{kind}/{namespace}/{name}")
        by_uid = seeded.get(f"{API}/entities/by-uid/{row.uid}")
        assert by_name.status_code == by_uid.status_code == 200
        assert by_name.headers["content-type"] == "application/json"
        assert by_name.json() == by_uid.json() == expected

    orders = seeded.get(f"{API}/entities/by-name/component/default/orders").json()
    assert orders["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert orders["status"]["items"][0]["error"]["name"] == "InputError"
    assert {"type": "providesApi", "targetRef": "api:default/orders-api"} in orders["relations"]
    assert seeded.get(f"{API}/entities/by-name/group/default/team-a").json()["relations"]


def test_a_malformed_name_is_a_backstage_404(seeded):
    response = seeded.get(f"{API}/entities/by-name/component/default/a:b:c")
    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFoundError"


def test_a_read_after_the_database_dropped_its_connection_is_answered(seeded, app, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("terminating a server backend is PostgreSQL's; SQLite has no connection to lose")
    assert seeded.get(f"{API}/entities/by-name/component/default/orders").status_code == 200
    read_engine = app.state.read_database.engine
    with read_engine.connect() as connection:
        pooled_pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled_pid}).scalar_one()

    response = seeded.get(f"{API}/entities/by-name/component/default/orders")
    assert response.status_code == 200 and response.json()["metadata"]["name"] == "orders"
    with read_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pooled_pid


def test_point_reads_are_prepared_on_the_server_and_the_search_queries_are_not(seeded, app, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")
    read_engine = app.state.read_database.engine
    # Leave one connection in the pool, so the requests below and the check after share it.
    read_engine.dispose()
    for name in ("orders", "orders", "payments"):
        assert seeded.get(f"{API}/entities/by-name/component/default/{name}").status_code == 200
    with read_engine.connect() as connection:
        prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert any("FROM catalog_entities e" in statement for statement in prepared)

    # The main engine's search queries stay unprepared: a generic plan is wrong for skewed values.
    for _ in range(3):
        assert seeded.get(f"{API}/entities/by-query?filter=kind=component&limit=2").status_code == 200
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one() == 0
