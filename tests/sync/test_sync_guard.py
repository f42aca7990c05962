"""Pull syncs connect through portal/net's guard: a tool URL resolving to a private address is refused
(without retries) unless FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS holds it."""

from __future__ import annotations

import asyncio

from flowport_github import GitHubConfig, GitHubPlugin
from portal.sync.runner import sync_connection
from tests.net.local_server import local_server


def test_a_connection_whose_api_url_is_loopback_is_refused_once_and_reported(engine, linked_repo, clock):
    with local_server(b"[]") as server:
        plugin = GitHubPlugin(GitHubConfig(name="internal", token="ghp_test_token",
                                           api_url=f"http://localhost:{server.port}"))
        report = asyncio.run(sync_connection(engine, plugin, sleep=clock.sleep, clock=clock))
        assert server.requested == []
    assert "127.0.0.1 is a loopback address" in report.error
    assert "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS" in report.error
    assert (report.requests, report.retries) == (1, 0)


def test_an_allowed_private_network_is_synced_from(engine, linked_repo, clock):
    with local_server(b"[]") as server:
        plugin = GitHubPlugin(GitHubConfig(name="internal", token="ghp_test_token",
                                           api_url=f"http://localhost:{server.port}"))
        asyncio.run(sync_connection(engine, plugin, sleep=clock.sleep, clock=clock,
                                    allow_private_networks=["127.0.0.0/8"]))
        assert server.requested and all(path.startswith("/repos/") for path in server.requested)
