"""Lists and queues read a fixed number of statements however many rows they show: no query per row."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.requests.factories import OWNER, REQUESTER
from tests.requests.page_clients import HTML, involved_app, move, person, raise_idea, raise_order  # noqa: F401


@contextmanager
def counted(engine):  # noqa: ANN001, ANN201
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(app, client, path: str) -> int:  # noqa: ANN001
    with counted(app.state.engine) as statements:
        assert client.get(path, headers=HTML).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/requests/mine", "/requests/team", "/queues", "/ideas"])
def test_statement_count_does_not_grow_with_the_rows_shown(involved_app, person, path):
    requester, owner = person(REQUESTER), person(OWNER)
    viewer = owner if path == "/queues" else requester

    def add_some() -> None:
        for _ in range(3):
            order = raise_order(requester, "feature-flags")
            move(owner, order, "fulfilling")
            raise_idea(requester)

    add_some()
    few = statements_for(involved_app, viewer, path)
    for _ in range(4):
        add_some()
    assert statements_for(involved_app, viewer, path) == few
