"""What every fake tool API in these tests shares: it records requests and lets a test script failures."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], "httpx.Response | None"]


class FakeTool:
    """Subclasses answer in `answer()`; `interceptors` run first (return a response, or raise, to fail)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        # The status answered to each request (same order), for tests asserting which answered 304.
        self.answered: list[int] = []
        self.interceptors: list[Handler] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self._respond(request)
        self.answered.append(response.status_code)
        return response

    def _respond(self, request: httpx.Request) -> httpx.Response:
        for interceptor in list(self.interceptors):
            response = interceptor(request)
            if response is not None:
                return response
        return self.answer(request)

    def clear(self) -> None:
        """Forget the requests seen so far (between two runs of a test)."""
        self.requests.clear()
        self.answered.clear()

    def answer(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError
