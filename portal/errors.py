"""Error responses: Backstage's shape for the catalog API, JSON for /api, readable pages for people."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.logging_setup import get_logger

log = get_logger(__name__)

_ERROR_NAMES = {
    400: "InputError", 401: "AuthenticationError", 403: "NotAllowedError", 404: "NotFoundError",
    409: "ConflictError", 413: "PayloadTooLargeError", 415: "UnsupportedMediaTypeError",
    422: "InputError", 429: "TooManyRequestsError", 500: "Error", 503: "ServiceUnavailableError",
}


class CatalogApiError(Exception):
    """An error to report in Backstage's error shape with a specific name."""

    def __init__(self, status: int, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.name = name or _ERROR_NAMES.get(status, "Error")


def backstage_error(request: Request, status: int, message: str, name: str | None = None) -> JSONResponse:
    """`{"error": {"name", "message"}, "request": {...}, "response": {"statusCode"}}`."""
    return JSONResponse(
        {
            "error": {"name": name or _ERROR_NAMES.get(status, "Error"), "message": message},
            "request": {"method": request.method, "url": str(request.url.path)},
            "response": {"statusCode": status},
        },
        status_code=status,
    )


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.startswith("/webhooks/") or "text/html" not in request.headers.get("accept", "")


def _render(request: Request, status: int, message: str, headers: dict | None = None) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status, headers=headers
    )


def error_response(request: Request, status: int, message: str, headers: dict | None = None):  # noqa: ANN201
    """An error in the caller's shape: Backstage's for /api/catalog, JSON for other API callers, else a page."""
    if request.url.path.startswith("/api/catalog"):
        response = backstage_error(request, status, message)
        response.headers.update(headers or {})
        return response
    if _is_api(request):
        return JSONResponse({"error": {"name": _ERROR_NAMES.get(status, "Error"), "message": message},
                             "response": {"statusCode": status}}, status_code=status, headers=headers)
    return _render(request, status, message, headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CatalogApiError)
    async def _catalog_error(request: Request, error: CatalogApiError):
        return backstage_error(request, error.status, error.message, error.name)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: HTTPException):
        return error_response(request, error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError):
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}" for e in error.errors()
        )
        if request.url.path.startswith("/api/catalog") or _is_api(request):
            return backstage_error(request, 400, details or "invalid request")
        return _render(request, 400, details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        log.exception("unhandled error", path=request.url.path)
        message = "Something went wrong on our side; the error has been logged."
        if _is_api(request):
            return backstage_error(request, 500, message)
        return _render(request, 500, message)
