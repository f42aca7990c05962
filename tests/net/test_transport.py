"""The guarded transports against a real server on 127.0.0.1: resolved addresses are checked when
connecting, on every hop, and the connection goes to the address that was checked."""

import asyncio

import httpx
import pytest

from portal.net import (
    AddressRefused, AsyncGuardedTransport, FetchRefused, FetchRules, GuardedTransport, fetch_text, guarded_client,
)
from tests.net.local_server import local_server

ANY_HOST = FetchRules.build(["*"])


def test_localhost_resolving_to_loopback_is_refused_before_connecting():
    with local_server() as server, guarded_client(5.0) as client:
        with pytest.raises(AddressRefused) as refused:
            client.get(f"http://localhost:{server.port}/catalog-info.yaml")
        assert server.requested == []
    assert "localhost: 127.0.0.1 is a loopback address" in str(refused.value)
    assert "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS" in str(refused.value)


def test_an_allowed_private_network_is_reached():
    with local_server(b"kind: Group\n") as server, guarded_client(5.0, ["127.0.0.0/8"]) as client:
        fetched = fetch_text(client, f"http://localhost:{server.port}/all.yaml", ANY_HOST)
        assert fetched.text == "kind: Group\n" and server.requested == ["/all.yaml"]


def redirecting_client(location: str) -> httpx.Client:
    """A guarded client whose allowed host git.example.com (a mock) redirects to `location`."""
    hop = httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": location}))
    return httpx.Client(transport=GuardedTransport(), mounts={"https://git.example.com": hop})


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_an_allowed_hop_redirecting_to_the_local_server_is_refused(name):
    with local_server() as server, redirecting_client(f"http://{name}:{server.port}/secret") as client:
        # A literal address is refused by the URL rules, a name by the transport once resolved.
        with pytest.raises((AddressRefused, FetchRefused), match="loopback"):
            fetch_text(client, "https://git.example.com/catalog-info.yaml", ANY_HOST)
        assert server.requested == []


def test_the_metadata_address_is_refused_without_connecting():
    asked = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return [host]

    with httpx.Client(transport=GuardedTransport(resolver=resolver)) as client:
        with pytest.raises(AddressRefused, match="169.254.169.254 is the cloud metadata address"):
            client.get("http://169.254.169.254/latest/meta-data/")
    assert asked == ["169.254.169.254"]


def test_a_name_with_any_forbidden_address_is_refused():
    def rebinding(host: str, port: int) -> list[str]:
        return ["140.82.112.3", "127.0.0.1"]

    with httpx.Client(transport=GuardedTransport(resolver=rebinding)) as client:
        with pytest.raises(AddressRefused, match="git.rebind.test: 127.0.0.1 is a loopback address"):
            client.get("http://git.rebind.test/")


def test_the_connection_goes_to_the_address_that_was_checked():
    # The name does not exist in DNS: reaching the server proves the checked address was used.
    with local_server(b"ok") as server:
        transport = GuardedTransport(["127.0.0.0/8"], resolver=lambda host, port: ["127.0.0.1"])
        with httpx.Client(transport=transport) as client:
            response = client.get(f"http://catalog.rebind.test:{server.port}/x")
        assert response.text == "ok" and server.requested == ["/x"]


def test_the_async_transport_refuses_loopback_and_reaches_an_allowed_network():
    async def get(transport: httpx.AsyncBaseTransport, url: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            return await client.get(url)

    with local_server(b"[]") as server:
        with pytest.raises(AddressRefused, match="loopback"):
            asyncio.run(get(AsyncGuardedTransport(), f"http://localhost:{server.port}/api"))
        assert server.requested == []
        response = asyncio.run(get(AsyncGuardedTransport(["127.0.0.0/8"]), f"http://localhost:{server.port}/api"))
        assert response.json() == [] and server.requested == ["/api"]
