"""Settings read from FLOWPORT_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic import field_validator
from pydantic import SecretStr

from portal.auth.provider_config import AuthProviderConfig, check_provider_ids


def _split_list(value: object) -> object:
    # Lists come from env vars as comma-separated text: FLOWPORT_CATALOG_PATHS=catalog,more
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the portal can be configured with; one instance per app."""

    # `__` nests: FLOWPORT_AUTH_PROVIDERS__CORP__ISSUER sets auth_providers["corp"].issuer.
    model_config = SettingsConfigDict(env_prefix="FLOWPORT_", extra="ignore", env_nested_delimiter="__")

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
    # Folders a `file` location registered through the API must lie in (symlinks resolved); empty means
    # the folders of catalog_paths and template_paths. The CLI and the configured paths are not confined.
    file_location_roots: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Networks (CIDR) whose private, loopback or link-local addresses URLs and syncs may reach.
    url_allow_private_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    url_max_redirects: int = Field(default=5, ge=0)
    # Bytes one catalog file, URL body or placeholder target may hold.
    location_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Nodes YAML aliases may add to one document when expanded (a billion-laughs file adds 10**9).
    yaml_max_alias_nodes: int = Field(default=10_000, ge=0)
    _split_reading = field_validator("file_location_roots", "url_allow_private_networks", mode="before")(
        _split_list
    )

    @field_validator("url_allow_private_networks")
    @classmethod
    def _networks_parse(cls, value: list[str]) -> list[str]:
        from portal.net.addresses import parse_networks

        parse_networks(value)  # a typo stops start-up here, naming the entry
        return value

    secret_key: str = "flowport-development-key-change-me"
    # Sign-in providers by id (docs/authentication.md); none configured: only development sign-in.
    auth_providers: dict[str, AuthProviderConfig] = Field(default_factory=dict)
    # Someone the provider vouches for but who has no catalog User: refused, or signed in as a guest.
    auth_unknown_users: Literal["deny", "guest"] = "deny"
    # A browser session ends after this long without a request, and this long after sign-in at most.
    session_idle_minutes: int = Field(default=720, ge=1, le=60 * 24 * 30)
    session_max_age_hours: int = Field(default=168, ge=1, le=24 * 365)
    # Who sees a request: `involved` (its requester, their team, the owners and approvers of what it asks
    # for, admins) or `everyone` signed in (portal/requests/visibility.py).
    requests_visible_to: Literal["involved", "everyone"] = "involved"
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-Proto/-For are believed; empty: none.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1"])
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
    # Seconds between passes that move requests from flow data (deployments → in-use, tracker items →
    # idea stages; portal/requests/follow_flow.py); 0 turns it off.
    request_follow_interval: float = 60.0
    # Seconds between passes that keep the DORA rollup current (portal/metrics/dora_refresher.py); reads
    # bring what they read up to date themselves, so this only saves them the work. 0 turns it off.
    dora_rollup_interval: float = 30.0
    # A processing scaffolder task whose worker sent no heartbeat for this long is failed (and may be retried).
    task_heartbeat_timeout: float = Field(default=60.0, gt=0)
    # Catalog totals and facet lists remembered per catalog generation (portal/catalog/generation.py);
    # 0 computes every answer afresh, as the first request after a catalog write does.
    catalog_count_cache_entries: int = 1024
    # glibc malloc arenas of the server process (portal/memory.py); 0 keeps glibc's default.
    malloc_arenas: int = 2
    # Fernet keys (comma-separated) encrypting connection secrets at rest: the first encrypts, all decrypt.
    # Required in production; derived from secret_key in development and test when unset.
    secrets_key: str | None = None
    # -- secrets, keys and admins --
    # A connection's `env:NAME` secret may only name variables starting with this prefix.
    secret_env_prefix: str = "FLOWPORT_SECRET_"
    # Catalog refs of the admins: `user:default/alice`, `group:default/platform-admins` (members of
    # the group and of its child groups).
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    _split_admins = field_validator("admins", mode="before")(_split_list)

    @field_validator("secret_env_prefix", "admins")
    @classmethod
    def _check_secrets_settings(cls, value: object, info) -> object:  # noqa: ANN001
        from portal.auth.admins import check_admin_refs, check_env_prefix

        return check_env_prefix(value) if info.field_name == "secret_env_prefix" else check_admin_refs(value)

    # -- request limits for pages and the API --
    # Largest request body outside /webhooks, in bytes; a larger one is answered 413.
    request_max_bytes: int = 1024 * 1024
    # Requests to /api/... per minute per client (the signed-in user, else the address), counted in
    # each process on its own; 0 switches the limit off.
    api_rate_limit: int = 600
    # Sign-in attempts (POST /auth/...) per minute per client address in each process; 0 switches it off.
    sign_in_rate_limit: int = 10
    # Origins other than the portal's own allowed to send changes, e.g. https://portal.example.com.
    trusted_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    _split_origins = field_validator("trusted_origins", mode="before")(_split_list)

    _provider_ids = field_validator("auth_providers")(check_provider_ids)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, entries: list[str]) -> list[str]:
        import ipaddress

        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8)") from None
        return entries
    _split = field_validator("catalog_paths", "template_paths", "url_allow_hosts", "trusted_proxies", mode="before")(
        _split_list
    )

    # -- scaffolder actions with side effects (docs/scaffolder-actions.md) --
    # Hosts publish:git may push to over https ("*.suffix" or "*"); empty: none.
    git_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Folders local git remotes may live in (bare repositories are created there); empty: <data_dir>/git.
    git_local_roots: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A git config file every git command of the scaffolder reads (e.g. url.<base>.insteadOf for a mirror).
    git_config_file: Path | None = None
    git_timeout: float = Field(default=120.0, gt=0)
    # Hosts http:request may call; empty: none. Also passes portal/net (private addresses refused).
    http_request_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Base URL a relative `path` of http:request is joined to; unset: only absolute `url`s.
    http_request_base_url: str | None = None
    # Standard Webhooks secret (`whsec_<base64>`) http:request signs its payloads with; unset: unsigned.
    http_request_signing_secret: SecretStr | None = None
    http_request_max_bytes: int = Field(default=1024 * 1024, ge=1)
    http_request_timeout: float = Field(default=30.0, gt=0)
    _split_actions = field_validator("git_allow_hosts", "git_local_roots", "http_request_allow_hosts",
                                     mode="before")(_split_list)

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
