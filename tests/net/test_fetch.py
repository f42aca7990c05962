"""fetch_text: redirects followed hop by hop and re-checked, bodies capped, through httpx.MockTransport."""

import httpx
import pytest

from portal.net import FetchRefused, FetchRules, fetch_text

RULES = FetchRules.build(["*.example.com"], max_bytes=1000, max_redirects=3)


class Endless(httpx.SyncByteStream):
    """A chunked body without a length that never ends; counts the chunks it was asked for."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self):
        while True:
            self.sent += 1
            yield b"a" * 100


def serve(routes: dict):
    """A client whose transport answers each URL from `routes` (a response or a callable) and logs it."""
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        answer = routes.get(str(request.url), httpx.Response(404))
        return answer() if callable(answer) else answer

    return httpx.Client(transport=httpx.MockTransport(handle), follow_redirects=True), asked


def redirect(to: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": to})


def test_an_allowed_public_hop_is_followed_to_its_text():
    client, asked = serve({"https://git.example.com/a": redirect("/b", 301),
                           "https://git.example.com/b": redirect("https://raw.example.com/c", 307),
                           "https://raw.example.com/c": httpx.Response(200, text="kind: Component\n")})
    fetched = fetch_text(client, "https://git.example.com/a", RULES)
    assert (fetched.url, fetched.status, fetched.text) == ("https://raw.example.com/c", 200, "kind: Component\n")
    assert asked == ["https://git.example.com/a", "https://git.example.com/b", "https://raw.example.com/c"]


@pytest.mark.parametrize("target", ["http://127.0.0.1:8000/", "http://169.254.169.254/latest/meta-data/",
                                    "http://2130706433/", "http://[::1]/", "file:///etc/passwd"])
def test_a_redirect_to_a_private_address_or_another_scheme_is_refused_without_a_request(target):
    client, asked = serve({"https://git.example.com/a": redirect(target)})
    with pytest.raises(FetchRefused) as refused:
        fetch_text(client, "https://git.example.com/a", RULES)
    assert refused.value.message.startswith("https://git.example.com/a redirects to")
    assert asked == ["https://git.example.com/a"]


def test_a_redirect_to_a_host_off_the_allow_list_is_refused_naming_the_setting():
    client, asked = serve({"https://git.example.com/a": redirect("https://evil.test/x")})
    with pytest.raises(FetchRefused, match="'evil.test' is not allowed; add it to FLOWPORT_URL_ALLOW_HOSTS"):
        fetch_text(client, "https://git.example.com/a", RULES)
    assert asked == ["https://git.example.com/a"]


def test_a_redirect_loop_is_named():
    client, _ = serve({"https://git.example.com/a": redirect("https://git.example.com/b"),
                       "https://git.example.com/b": redirect("https://git.example.com/a")})
    with pytest.raises(FetchRefused, match="redirect loop: https://git.example.com/b redirects back to "
                                           "https://git.example.com/a"):
        fetch_text(client, "https://git.example.com/a", RULES)


def test_too_many_redirects_name_the_setting():
    client, asked = serve({f"https://git.example.com/{n}": redirect(f"/{n + 1}") for n in range(10)})
    with pytest.raises(FetchRefused, match="more than 3 times; FLOWPORT_URL_MAX_REDIRECTS"):
        fetch_text(client, "https://git.example.com/0", RULES)
    assert len(asked) == 4


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    body = Endless()
    client, _ = serve({"https://git.example.com/big": lambda: httpx.Response(
        200, headers={"Content-Length": str(2 * 1024 ** 3)}, stream=body)})
    with pytest.raises(FetchRefused, match="sends more than 1000 bytes; FLOWPORT_LOCATION_MAX_BYTES"):
        fetch_text(client, "https://git.example.com/big", RULES)
    assert body.sent == 0


def test_a_chunked_body_without_length_stops_at_the_limit():
    body = Endless()
    client, _ = serve({"https://git.example.com/endless": lambda: httpx.Response(200, stream=body)})
    with pytest.raises(FetchRefused, match="sends more than 1000 bytes"):
        fetch_text(client, "https://git.example.com/endless", RULES)
    assert body.sent == 11  # 1,100 bytes read: the first chunk past the limit ends it


def test_a_body_at_the_limit_is_read():
    client, _ = serve({"https://git.example.com/a": httpx.Response(200, content=b"x" * 1000)})
    assert fetch_text(client, "https://git.example.com/a", RULES).text == "x" * 1000


def test_an_error_status_is_returned_without_its_body():
    client, _ = serve({"https://git.example.com/a": httpx.Response(503, text="down")})
    fetched = fetch_text(client, "https://git.example.com/a", RULES)
    assert (fetched.status, fetched.text) == (503, None)


def test_a_fetch_past_its_deadline_is_refused_naming_the_setting():
    now = [0.0]

    class Slow(httpx.SyncByteStream):
        def __iter__(self):
            for _ in range(3):
                now[0] += 4.0  # each chunk arrives four seconds after the last
                yield b"a"

    client, _ = serve({"https://git.example.com/slow": lambda: httpx.Response(200, stream=Slow())})
    rules = FetchRules.build(["*"], deadline_seconds=10.0)
    with pytest.raises(FetchRefused, match="longer than 10 s to read; FLOWPORT_URL_TIMEOUT"):
        fetch_text(client, "https://git.example.com/slow", rules, clock=lambda: now[0])
