"""GET /api/v1/flow/commits: pushed commits in the flow API's paging shape."""

from datetime import timedelta

from tests.flow.factories import GITHUB, T0, all_pages, commit, make_component, save

REPO = "Codertocat/Hello-World"


def test_commits_of_an_entity_newest_first_with_camel_case_fields(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    make_component(session, "other", {GITHUB: "octo/other"})
    save(session, [commit(REPO, f"{n:040x}", "main", T0 + timedelta(hours=n), T0 + timedelta(hours=n, minutes=5))
                   for n in range(1, 6)] + [commit("octo/other", "f" * 40, "main", T0)])
    body = client.get("/api/v1/flow/commits", params={"entity": "component:default/hello-world", "limit": 2}).json()
    assert body["totalItems"] == 5
    first, second = body["items"]
    assert [first["sha"], second["sha"]] == [f"{5:040x}", f"{4:040x}"]
    assert first["id"] == f"github:{REPO}:commit:{5:040x}"
    assert {key: first[key] for key in ("source", "repository", "branch", "title", "author", "authoredAt",
                                         "pushedAt", "entityRefs")} == {
        "source": "github", "repository": REPO, "branch": "main", "title": f"Commit {5:040x}", "author": "octocat",
        "authoredAt": "2024-05-01T17:00:00Z", "pushedAt": "2024-05-01T17:05:00Z",
        "entityRefs": ["component:default/hello-world"]}
    assert all_pages(client, "/api/v1/flow/commits", body, "sha", limit=2) == [f"{n:040x}" for n in range(5, 0, -1)]


def test_commits_filter_by_authored_time(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    save(session, [commit(REPO, f"{n:040x}", "main", T0 + timedelta(hours=n)) for n in range(1, 6)])
    body = client.get("/api/v1/flow/commits", params={
        "entity": "component:default/hello-world", "since": "2024-05-01T14:00:00Z", "until": "2024-05-01T16:00:00Z",
    }).json()
    assert [item["sha"] for item in body["items"]] == [f"{3:040x}", f"{2:040x}"]
    assert body["totalItems"] == 2


def test_a_changes_cursor_does_not_page_commits(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    save(session, [commit(REPO, f"{n:040x}", "main", T0 + timedelta(hours=n)) for n in range(1, 4)])
    cursor = client.get("/api/v1/flow/commits?limit=1").json()["pageInfo"]["nextCursor"]
    response = client.get("/api/v1/flow/changes", params={"cursor": cursor})
    assert response.status_code == 400
    assert "commits" in response.text
