"""The floor for the webhook benchmark: a FastAPI endpoint that answers 202 without storing."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/github")
    async def accept(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "accepted"}, status_code=202)

    return app
