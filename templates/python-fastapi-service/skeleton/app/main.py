"""${{ values.name }}

${{ values.description }}
"""

from fastapi import FastAPI

app = FastAPI(title="${{ values.name }}", version="0.1.0")


@app.get("/healthz", tags=["operations"])
def healthz() -> dict[str, str]:
    """Liveness probe used by Kubernetes."""
    return {"status": "ok"}


@app.get("/", tags=["service"])
def index() -> dict[str, str]:
    """Who this service is and who to talk to about it."""
    return {"service": "${{ values.name }}", "owner": "${{ values.owner }}"}
