"""httpx transports that resolve a host, refuse it if any of its addresses is not public (unless an
allowed network holds it), and connect to the address they checked.

Connecting to the checked address, not to the name, is what defeats DNS rebinding: a name that
answers a public address to the check and 127.0.0.1 to the connect is never asked twice. TLS still
verifies the certificate against the name (httpcore passes the URL's host as `server_hostname`).
Proxies from the environment are not used: a proxy would connect on our behalf, unchecked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from portal.net.addresses import ALLOW_PRIVATE_SETTING, IPAddress, Network, address_refusal, as_networks

Resolver = Callable[[str, int], list[str]]
AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


class AddressRefused(httpx.TransportError):
    """A connection the guard refused; not retried (the answer will not change)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a TCP connection to host:port."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


async def resolve_async(host: str, port: int) -> list[str]:
    return [info[4][0] for info in await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def checked_addresses(host: str, addresses: list[str], allow_private: tuple[Network, ...]) -> list[str]:
    """The addresses to connect to, in resolver order; AddressRefused when any one is forbidden."""
    if not addresses:
        raise AddressRefused(f"{host} did not resolve to any address")
    for text in addresses:
        address: IPAddress = ipaddress.ip_address(text.split("%", 1)[0])
        refusal = address_refusal(address, allow_private)
        if refusal:
            where = "" if host == text else f"{host}: "
            raise AddressRefused(f"refused to connect to {where}{refusal}; only public addresses are reached "
                                 f"unless their network is listed in {ALLOW_PRIVATE_SETTING}")
    return addresses


def _refuse_unix_socket(path: str) -> None:
    raise AddressRefused(f"refused to connect to the Unix socket {path}")


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous network backend behind the address check."""

    def __init__(self, allow_private: Iterable[str | Network] = (), resolver: Resolver = resolve) -> None:
        self.allow_private = as_networks(allow_private)
        self.resolver = resolver
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001, ANN201
        try:
            resolved = self.resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        last_error: Exception | None = None
        for address in checked_addresses(host, resolved, self.allow_private):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        raise last_error  # type: ignore[misc]

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # noqa: ANN001, ANN201
        _refuse_unix_socket(path)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio network backend behind the address check."""

    def __init__(self, allow_private: Iterable[str | Network] = (),
                 resolver: AsyncResolver = resolve_async) -> None:
        self.allow_private = as_networks(allow_private)
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001, ANN201
        try:
            resolved = await self.resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        last_error: Exception | None = None
        for address in checked_addresses(host, resolved, self.allow_private):
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        raise last_error  # type: ignore[misc]

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # noqa: ANN001, ANN201
        _refuse_unix_socket(path)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting through GuardedBackend."""

    def __init__(self, allow_private: Iterable[str | Network] = (), resolver: Resolver = resolve) -> None:
        super().__init__(trust_env=False)
        # httpx builds its connection pool without a way to pass a network backend: build an equal one.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=GuardedBackend(allow_private, resolver))


class AsyncGuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's async transport, connecting through AsyncGuardedBackend."""

    def __init__(self, allow_private: Iterable[str | Network] = (),
                 resolver: AsyncResolver = resolve_async) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(),
                                                  network_backend=AsyncGuardedBackend(allow_private, resolver))


def guarded_client(timeout: float, allow_private: Iterable[str | Network] = ()) -> httpx.Client:
    """The client URL locations are read with: guarded connections and no automatic redirects
    (portal/net/fetch.py follows them hop by hop, checking each)."""
    return httpx.Client(transport=GuardedTransport(allow_private), timeout=timeout, follow_redirects=False,
                        trust_env=False)
