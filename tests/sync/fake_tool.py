"""What every fake tool API in these tests shares: it records requests and lets a test script failures."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], "httpx.Response | None"]


class FakeTool:
    """Subclasses answer in `answer()`; `interceptors` run first (return a response, or raise, to fail)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.interceptors: list[Handler] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for interceptor in list(self.interceptors):
            response = interceptor(request)
            if response is not None:
                return response
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError
