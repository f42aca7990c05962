"""X-Forwarded-Proto and -For are believed only from FLOWPORT_TRUSTED_PROXIES (what `flowport serve`
passes to uvicorn): behind a trusted proxy the portal knows it is served over HTTPS (HSTS, Secure
cookies, sign-in callback URLs); from anyone else the headers change nothing."""

from __future__ import annotations

import httpx
import pytest

from portal.app import create_app
from portal.cli import proxy_options
from portal.settings import Settings
from tests.live_server import serve_in_thread

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@pytest.mark.slow
@pytest.mark.parametrize("trusted, believed", [(["127.0.0.1"], True), (["10.0.0.0/8"], False), ([], False)])
def test_forwarded_headers_count_only_from_trusted_proxies(settings, trusted, believed):
    configured = settings.model_copy(update={"trusted_proxies": trusted})
    with serve_in_thread(create_app(configured), **proxy_options(configured)) as base:
        response = httpx.get(f"{base}/healthz", headers=FORWARDED, timeout=10)
    assert response.status_code == 200
    assert ("strict-transport-security" in response.headers) is believed


def test_the_setting_takes_addresses_and_networks_only():
    assert Settings(trusted_proxies="10.0.0.0/8, 192.0.2.7").trusted_proxies == ["10.0.0.0/8", "192.0.2.7"]
    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        Settings(trusted_proxies="proxy.internal")
    assert proxy_options(Settings(trusted_proxies="")) == {"proxy_headers": False}
