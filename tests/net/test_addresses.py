"""Which addresses and URLs the guard refuses before any connection."""

import ipaddress

import pytest

from portal.net import address_refusal, literal_ip, parse_networks, refuse_reason


@pytest.mark.parametrize(("host", "address"), [
    ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"), ("0", "0.0.0.0"), ("169.254.169.254.", "169.254.169.254"),
    ("[::1]", "::1"), ("8.8.8.8", "8.8.8.8"),
])
def test_odd_ip_spellings_are_read_as_the_address_the_resolver_would_use(host, address):
    assert literal_ip(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "08.1", "4294967296", "1.2.3.4.5", "git-1.example"])
def test_names_are_not_addresses(host):
    assert literal_ip(host) is None


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"), ("169.254.1.1", "link-local"), ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"), ("100.64.0.1", "public"), ("::1", "loopback"),
    ("fc00::1", "private"), ("fd12::1", "private"), ("fe80::1", "link-local"), ("::", "unspecified"),
    ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "metadata"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a9fe:a9fe", "metadata"),
])
def test_addresses_that_are_not_public_are_refused_with_the_reason(address, why):
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None and why in refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "140.82.112.3", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_an_allowed_network_opens_its_private_addresses_but_never_unspecified_or_multicast():
    allowed = parse_networks(["10.20.0.0/16", "127.0.0.0/8", "0.0.0.0/0", "fd00::/8"])
    assert address_refusal(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert address_refusal(ipaddress.ip_address("::ffff:10.20.3.4"), allowed) is None
    assert address_refusal(ipaddress.ip_address("fd00::5"), allowed) is None
    assert address_refusal(ipaddress.ip_address("0.0.0.0"), allowed) is not None
    assert address_refusal(ipaddress.ip_address("224.0.0.1"), allowed) is not None
    assert address_refusal(ipaddress.ip_address("10.21.0.1"), parse_networks(["10.20.0.0/16"])) is not None


def test_a_network_that_does_not_parse_is_named():
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks(["10.0.0.0/8", "10.0.0.0/33"])


@pytest.mark.parametrize("url", [
    "http://2130706433/", "http://0x7f.1/", "http://127.0.0.1:8080/x", "http://[::1]/", "http://169.254.169.254/latest",
    "http://[::ffff:169.254.169.254]/", "http://allowed.example@127.0.0.1/", "http://10.0.0.1/", "http://0/",
])
def test_urls_naming_a_private_address_are_refused_naming_the_setting(url):
    refusal = refuse_reason(url, ["*"])
    assert refusal is not None and "FLOWPORT_URL_ALLOW_PRIVATE_NETWORKS" in refusal


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "http:///x",
                                 "javascript:alert(1)", "not a url"])
def test_only_http_urls_with_a_host_may_be_fetched(url):
    assert refuse_reason(url, ["*"]) is not None


def test_the_host_allow_list_names_its_setting_and_matches_suffixes():
    assert refuse_reason("https://raw.git.example.com/a.yaml", ["*.example.com"]) is None
    assert refuse_reason("https://GIT.example.com./a.yaml", ["git.example.com"]) is None
    refusal = refuse_reason("https://evil.test/a.yaml", ["*.example.com"])
    assert "'evil.test'" in refusal and "FLOWPORT_URL_ALLOW_HOSTS" in refusal
    named = refuse_reason("https://evil.test/", [], allow_hosts_setting="FLOWPORT_CONNECTION_HOSTS")
    assert "FLOWPORT_CONNECTION_HOSTS" in named


def test_an_allowed_private_network_opens_a_literal_address():
    assert refuse_reason("http://10.20.0.5/catalog.yaml", ["*"], ["10.20.0.0/16"]) is None
    assert refuse_reason("http://10.20.0.5/catalog.yaml", ["*"], []) is not None
