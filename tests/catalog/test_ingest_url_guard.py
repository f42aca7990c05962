"""Finding 5 as URL locations see it: every redirect hop is checked, private addresses are refused by
name and once resolved, and the app and the CLI read URLs through the guarded client."""

import httpx
import pytest

from portal.catalog.ingest import LocationError, register_location
from portal.cli_support import http_client
from portal.net import GuardedTransport
from tests.net.local_server import local_server

URL = "https://git.example.com/org/repo/catalog-info.yaml"


def redirecting_to(location: str) -> httpx.Client:
    """The allowed host (a mock) redirects; anything else goes through the real guarded transport."""
    hop = httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": location}))
    return httpx.Client(transport=GuardedTransport(), mounts={"https://git.example.com": hop})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_an_allowed_url_redirecting_to_the_server_itself_is_refused(session, settings, host):
    with local_server() as server:
        target = f"http://{host}:{server.port}/catalog-info.yaml"
        with redirecting_to(target) as http, pytest.raises(LocationError) as refused:
            register_location(session, settings, http, "url", URL)
        assert server.requested == []
    assert "loopback" in refused.value.message and "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS" in refused.value.message


def test_a_redirect_to_the_metadata_address_is_refused(session, settings):
    with redirecting_to("http://169.254.169.254/latest/meta-data/") as http, pytest.raises(LocationError) as refused:
        register_location(session, settings, http, "url", URL)
    assert "redirects to http://169.254.169.254/latest/meta-data/" in refused.value.message
    assert "cloud metadata address" in refused.value.message


def test_an_intranet_server_is_read_once_its_network_is_allowed(session, settings):
    intranet = settings.model_copy(update={"url_allow_private_networks": ["127.0.0.0/8"]})
    component = (b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: intranet\n"
                 b"spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n")
    with local_server(component) as server, http_client(intranet) as http:
        result = register_location(session, intranet, http, "url", f"http://localhost:{server.port}/c.yaml")
        assert result.report.errors == [] and server.requested == ["/c.yaml"]


def test_the_api_refuses_a_metadata_url_naming_the_setting(client):
    response = client.post("/api/catalog/locations", params={"dryRun": "true"},
                           json={"type": "url", "target": "http://169.254.169.254/latest/meta-data/"})
    assert response.status_code == 400
    assert "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS" in response.json()["error"]["message"]


def test_the_app_and_the_cli_read_urls_through_the_guard_without_automatic_redirects(app, settings):
    for http in (app.state.http, http_client(settings)):
        assert isinstance(http._transport, GuardedTransport) and http.follow_redirects is False
