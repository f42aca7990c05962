"""Fixtures for pull-sync tests: a catalog component linked to the stub repository, a GitHub connection."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from flowport_github import GitHubConfig, GitHubPlugin
from portal.catalog.store import PreparedEntity, write_entities
from tests.sync.fake_github import SLUG, FakeClock, FakeGitHub


def link_component(engine, name: str, annotations: dict[str, str]) -> None:
    """Store a Component whose annotations point at a tool (what the sync reads its targets from)."""
    entity = {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"},
    }
    with Session(engine) as session:
        write_entities(session, [PreparedEntity(entity=entity, location_key="file:/test/catalog-info.yaml",
                                                origin_location_key="file:/test/catalog-info.yaml")])
        session.commit()


@pytest.fixture
def linked_repo(engine) -> str:
    link_component(engine, "hello-world", {"github.com/project-slug": SLUG})
    return SLUG


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub(page_size=2)


@pytest.fixture
def github_plugin() -> GitHubPlugin:
    return GitHubPlugin(GitHubConfig(name="default", token="ghp_test_token"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
