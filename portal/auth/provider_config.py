"""How one sign-in provider is configured: GitHub OAuth or any OpenID Connect issuer.

Providers are a map in Settings (`auth_providers`), set by environment variables such as
`FLOWPORT_AUTH_PROVIDERS__CORP__TYPE=oidc` and `FLOWPORT_AUTH_PROVIDERS__CORP__ISSUER=https://…`
(the provider id is the part between the double underscores), so several run at once.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
Resolver = Literal["email", "email-local-part", "github-username"]


class AuthProviderConfig(BaseModel):
    """One provider people can sign in with."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["oidc", "github"]
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: SecretStr
    # Shown on the sign-in button: "Sign in with <title>".
    title: str | None = Field(default=None, max_length=100)
    # OpenID Connect: the issuer; its discovery document is <issuer>/.well-known/openid-configuration.
    issuer: str | None = None
    scopes: str | None = None
    # How the provider's identity becomes a catalog User (as Backstage's sign-in resolvers do).
    resolver: Resolver | None = None
    # For the email resolvers: only these email domains may sign in, comma-separated (empty: any).
    allowed_domains: str = Field(default="", max_length=2000)
    # GitHub Enterprise Server: its web and API addresses.
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"

    @model_validator(mode="after")
    def _complete(self) -> AuthProviderConfig:
        if self.type == "oidc" and not self.issuer:
            raise ValueError("an oidc provider needs an issuer URL")
        for name in ("issuer", "github_url", "github_api_url"):
            url = getattr(self, name)
            if url is not None and not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{name} must be an http(s) URL")
        if self.resolver is None:
            self.resolver = "github-username" if self.type == "github" else "email"
        if self.type == "oidc" and self.resolver == "github-username":
            raise ValueError("the github-username resolver needs a github provider")
        return self

    @property
    def domains(self) -> set[str]:
        return {part.strip().lower() for part in self.allowed_domains.split(",") if part.strip()}

    @property
    def button_title(self) -> str:
        return self.title or ("GitHub" if self.type == "github" else "single sign-on")

    @property
    def scope(self) -> str:
        return self.scopes or ("read:user user:email" if self.type == "github" else "openid email profile")


def check_provider_ids(providers: dict[str, AuthProviderConfig]) -> dict[str, AuthProviderConfig]:
    for provider_id in providers:
        if not PROVIDER_ID.match(provider_id):
            raise ValueError(f"sign-in provider id {provider_id!r} must be lower-case letters, digits and '-'")
    return providers
