"""The requests API's route class: bounded bodies, and refusals as JSON that names each bad field."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request as HttpRequest, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from portal.requests.inputs import FieldProblem, RequestProblem, join_path

MAX_BODY_BYTES = 256 * 1024  # parameters may take 64 KiB; the rest of a body is a few short texts
ERROR_NAMES = {400: "InputError", 404: "NotFoundError", 409: "ConflictError", 413: "PayloadTooLargeError",
               422: "InputError"}
# Pydantic puts the tag of a discriminated union (`kind`) into error paths; callers never wrote it.
UNION_TAGS = {"order", "idea"}
UNION_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


class BoundedBodyRequest(HttpRequest):
    """A request whose body is read up to MAX_BODY_BYTES, however it is sent (chunked bodies too)."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise HTTPException(413, f"The body is larger than {MAX_BODY_BYTES:,} bytes")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


def problem_response(http: HttpRequest, problem: RequestProblem) -> JSONResponse:
    """Backstage's error shape, plus `details` with each field's path and problem."""
    error: dict = {"name": ERROR_NAMES.get(problem.status, "Error"), "message": problem.message}
    if problem.details:
        error["details"] = [detail.as_json() for detail in problem.details]
    return JSONResponse({"error": error, "request": {"method": http.method, "url": http.url.path},
                         "response": {"statusCode": problem.status}}, status_code=problem.status)


def _path(error: dict) -> str:
    location = tuple(error.get("loc", ("body",)))
    if error.get("type") in UNION_TAG_ERRORS:
        return "kind"
    parts = list(location[1:])
    if parts and parts[0] in UNION_TAGS:
        parts = parts[1:]
    path = ""
    for part in parts:
        path = join_path(path, part)
    return path or location[0]


def validation_problem(error: RequestValidationError) -> RequestProblem:
    """Malformed JSON and bad query parameters are 400; a well-formed body with bad fields is 422."""
    errors = error.errors()
    details = [FieldProblem(_path(item), str(item.get("msg", "is invalid"))) for item in errors[:50]]
    if any(item.get("type") == "json_invalid" for item in errors):
        return RequestProblem(400, "The body is not valid JSON")
    if all(tuple(item.get("loc", ("body",)))[:1] == ("body",) for item in errors):
        summary = "; ".join(f"{detail.path}: {detail.message}" for detail in details[:5])
        return RequestProblem(422, f"The request body is not valid: {summary}", details)
    summary = "; ".join(f"{detail.path}: {detail.message}" for detail in details if detail.path)
    return RequestProblem(400, f"Invalid query or path: {summary}", details)


class RequestsRoute(APIRoute):
    def get_route_handler(self) -> Callable[[HttpRequest], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded_handler(http: HttpRequest) -> Response:
            length = http.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                raise HTTPException(413, f"The body is larger than {MAX_BODY_BYTES:,} bytes")
            http = BoundedBodyRequest(http.scope, http.receive)
            try:
                return await handler(http)
            except RequestValidationError as error:
                return problem_response(http, validation_problem(error))
            except RequestProblem as problem:
                return problem_response(http, problem)

        return bounded_handler
