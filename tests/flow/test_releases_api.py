"""GET /api/v1/flow/releases: releases in the flow API's paging shape."""

from datetime import timedelta

from tests.flow.factories import GITHUB, T0, all_pages, make_component, release, save

REPO = "Codertocat/Hello-World"


def test_releases_of_an_entity_newest_first_with_camel_case_fields(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    make_component(session, "other", {GITHUB: "octo/other"})
    save(session, [release(REPO, n, T0 + timedelta(days=n)) for n in range(1, 6)]
         + [release("octo/other", 99, T0 + timedelta(days=9))])
    body = client.get("/api/v1/flow/releases", params={"entity": "component:default/hello-world", "limit": 2}).json()
    assert body["totalItems"] == 5
    first, second = body["items"]
    assert [first["tag"], second["tag"]] == ["v5", "v4"]
    assert {key: first[key] for key in ("id", "source", "repository", "tag", "name", "sha", "target", "author",
                                         "draft", "prerelease", "deleted", "createdAt", "publishedAt",
                                         "entityRefs")} == {
        "id": f"github:{REPO}:release:5", "source": "github", "repository": REPO, "tag": "v5", "name": "Release 5",
        "sha": None, "target": "main", "author": "octocat", "draft": False, "prerelease": False, "deleted": False,
        "createdAt": "2024-05-06T11:00:00Z", "publishedAt": "2024-05-06T12:00:00Z",
        "entityRefs": ["component:default/hello-world"]}
    assert all_pages(client, "/api/v1/flow/releases", body, "tag", limit=2) == ["v5", "v4", "v3", "v2", "v1"]


def test_releases_filter_by_published_time_and_drafts_by_creation(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    save(session, [release(REPO, n, T0 + timedelta(days=n)) for n in range(1, 5)]
         + [release(REPO, 7, None, created_at=T0 + timedelta(days=2, hours=12))])
    body = client.get("/api/v1/flow/releases", params={
        "entity": "component:default/hello-world", "since": "2024-05-03T00:00:00Z", "until": "2024-05-04T12:00:00Z",
    }).json()
    # v2 was published on the 3rd at noon, v3 at the (exclusive) end; the draft v7, never published, counts
    # by when it was created (midnight of the 4th).
    assert [(item["tag"], item["draft"]) for item in body["items"]] == [("v7", True), ("v2", False)]
    assert body["totalItems"] == 2
    # Paging across the draft keeps every record once.
    first = client.get("/api/v1/flow/releases", params={"limit": 1}).json()
    assert all_pages(client, "/api/v1/flow/releases", first, "tag", limit=1) == ["v4", "v3", "v7", "v2", "v1"]


def test_a_deleted_release_is_listed_with_its_flag(client, session):
    make_component(session, "hello-world", {GITHUB: REPO})
    save(session, [release(REPO, 1, T0, deleted=True)])
    [item] = client.get("/api/v1/flow/releases?entity=component:default/hello-world").json()["items"]
    assert (item["tag"], item["deleted"]) == ("v1", True)
