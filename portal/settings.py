"""Settings read from FLOWPORT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic import field_validator


def _split_list(value: object) -> object:
    # Lists come from env vars as comma-separated text: FLOWPORT_CATALOG_PATHS=catalog,more
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the portal can be configured with; one instance per app."""

    model_config = SettingsConfigDict(env_prefix="FLOWPORT_", extra="ignore")

    env: Literal["development", "production", "test"] = "production"
    data_dir: Path = Path("data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None

    # Catalog-as-code folders loaded on start; empty list loads nothing.
    catalog_paths: Annotated[list[str], NoDecode] = Field(default_factory=list)
    template_paths: Annotated[list[str], NoDecode] = Field(default_factory=list)
    catalog_refresh_interval: float = 300.0
    # Hosts a `url` location may be read from; "*" allows any host.
    url_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    url_timeout: float = 10.0
    # -- reading locations safely (files, URLs, YAML) --

    secret_key: str = "flowport-development-key-change-me"
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    run_worker: bool = True
    webhook_max_bytes: int = 25 * 1024 * 1024
    # -- webhook intake limits --
    # Bytes of webhook bodies held at once across all deliveries being received (at least
    # webhook_max_bytes); a delivery that would go over it is answered 503 with Retry-After.
    webhook_body_budget_bytes: int = 128 * 1024 * 1024
    # Deliveries a second per tool connection (token bucket, per process); 0 turns the limit off.
    webhook_rate_per_second: float = 3000.0
    # Deliveries a connection may send at once above that rate before it is answered 429.
    webhook_rate_burst: float = 6000.0
    sync_interval: float = 900.0  # seconds between scheduled pull syncs of a connection
    # Catalog totals and facet lists remembered per catalog generation (portal/catalog/generation.py);
    # 0 computes every answer afresh, as the first request after a catalog write does.
    catalog_count_cache_entries: int = 1024
    # glibc malloc arenas of the server process (portal/memory.py); 0 keeps glibc's default.
    malloc_arenas: int = 2
    # Fernet key encrypting connection secrets at rest; derived from secret_key when unset.
    secrets_key: str | None = None
    # -- secrets, keys and admins --

    # -- request limits for pages and the API --

    _split = field_validator("catalog_paths", "template_paths", "url_allow_hosts", mode="before")(
        _split_list
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'flowport.db').resolve()}"

    @property
    def dev_sign_in_enabled(self) -> bool:
        """Acting as any catalog User is allowed only in development."""
        return self.env == "development"
