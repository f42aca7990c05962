"""Sign-in through the configured providers (GitHub OAuth, OpenID Connect) with Authlib.

/auth/{provider}/start sends the browser to the provider (state, nonce and PKCE kept in the session);
/auth/{provider}/callback takes the code back, reads who the person is, resolves the catalog User
(portal/auth/resolvers.py) and starts a fresh session: everything the browser's session held before
is dropped, so nothing planted in it before sign-in survives into the signed-in session.
"""

from __future__ import annotations

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from portal.audit.recorder import note_decision
from portal.auth.identity import GUEST_KEY, SESSION_USER_KEY
from portal.auth.session_rules import start_session
from portal.auth.provider_config import AuthProviderConfig
from portal.auth.resolvers import ProviderProfile, SignInRefused, guest_ref, resolve_user
from portal.logging_setup import get_logger

router = APIRouter(tags=["auth"], include_in_schema=False)
log = get_logger(__name__)
_NEXT_KEY = "sign_in_next"
_TIMEOUT = 10.0


def _safe_next(target: str | None) -> str:
    from portal.auth.views import _safe_next as safe

    return safe(target)


def oauth_registry(app) -> OAuth:  # noqa: ANN001
    """The Authlib clients of this app's providers, built on first use (tests may set a transport first)."""
    registry = getattr(app.state, "oauth", None)
    if registry is not None:
        return registry
    registry = OAuth()
    transport = getattr(app.state, "auth_http_transport", None)
    for provider_id, config in app.state.settings.auth_providers.items():
        client_kwargs = {"scope": config.scope, "timeout": _TIMEOUT,
                         **({"transport": transport} if transport is not None else {})}
        if config.type == "oidc":
            registry.register(
                provider_id, client_id=config.client_id, client_secret=config.client_secret.get_secret_value(),
                server_metadata_url=config.issuer.rstrip("/") + "/.well-known/openid-configuration",
                code_challenge_method="S256", client_kwargs=client_kwargs)
        else:
            github = config.github_url.rstrip("/")
            registry.register(
                provider_id, client_id=config.client_id, client_secret=config.client_secret.get_secret_value(),
                authorize_url=f"{github}/login/oauth/authorize", access_token_url=f"{github}/login/oauth/access_token",
                api_base_url=config.github_api_url.rstrip("/") + "/",
                client_kwargs={**client_kwargs, "headers": {"Accept": "application/json"}})
    app.state.oauth = registry
    return registry


def _problem(request: Request, status: int, message: str) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status)


def _provider(request: Request, provider_id: str) -> AuthProviderConfig | None:
    return request.app.state.settings.auth_providers.get(provider_id)


def _callback_url(request: Request, provider_id: str) -> str:
    base = request.app.state.settings.base_url
    path = f"/auth/{provider_id}/callback"
    return base.rstrip("/") + path if base else str(request.url_for("sign_in_callback", provider_id=provider_id))


@router.get("/auth/{provider_id}/start")
async def sign_in_start(provider_id: str, request: Request, next: str = "/"):  # noqa: ANN201
    """Send the browser to the provider's sign-in page."""
    config = _provider(request, provider_id)
    if config is None:
        return _problem(request, 404, f"There is no sign-in provider named {provider_id!r}.")
    client = oauth_registry(request.app).create_client(provider_id)
    request.session[_NEXT_KEY] = _safe_next(next)
    try:
        return await client.authorize_redirect(request, _callback_url(request, provider_id))
    except (OAuthError, httpx.HTTPError, ValueError, KeyError) as error:
        log.warning("sign-in provider unreachable", provider=provider_id, error=str(error))
        return _problem(request, 502, f"{config.button_title} cannot be reached right now; try again later.")


async def _profile(client, config: AuthProviderConfig, provider_id: str, token: dict) -> ProviderProfile:  # noqa: ANN001
    if config.type == "oidc":
        claims = token.get("userinfo") or await client.userinfo(token=token)
        return ProviderProfile(provider_id, str(claims["sub"]), email=claims.get("email"),
                               email_verified=claims.get("email_verified"),
                               login=claims.get("preferred_username"), name=claims.get("name"))
    user = (await client.get("user", token=token)).raise_for_status().json()
    email, verified = user.get("email"), None
    emails = await client.get("user/emails", token=token)
    if emails.status_code == 200:
        primary = next((e for e in emails.json() if isinstance(e, dict) and e.get("primary")), None)
        if primary:
            email, verified = primary.get("email"), bool(primary.get("verified"))
    return ProviderProfile(provider_id, str(user["id"]), email=email, email_verified=verified,
                           login=user.get("login"), name=user.get("name"))


@router.get("/auth/{provider_id}/callback", name="sign_in_callback")
async def sign_in_callback(provider_id: str, request: Request):  # noqa: ANN201
    """The provider sends the browser back here with a code; sign the person in, or say why not."""
    config = _provider(request, provider_id)
    if config is None:
        return _problem(request, 404, f"There is no sign-in provider named {provider_id!r}.")
    client = oauth_registry(request.app).create_client(provider_id)
    try:
        token = await client.authorize_access_token(request)
        profile = await _profile(client, config, provider_id, token)
    except OAuthError as error:
        note_decision(request, None, "auth.session.create", provider_id, allowed=False, reason=error.description)
        return _problem(request, 400, f"Sign-in with {config.button_title} did not complete: "
                        f"{error.description or error.error}. Start again from the sign-in page.")
    except (httpx.HTTPError, KeyError, ValueError, TypeError) as error:
        log.warning("sign-in failed", provider=provider_id, error=str(error))
        return _problem(request, 502, f"{config.button_title} did not answer as expected; try again later.")
    return await run_in_threadpool(_finish_sign_in, request, config, profile)


def _finish_sign_in(request: Request, config: AuthProviderConfig, profile: ProviderProfile):  # noqa: ANN202
    settings = request.app.state.settings
    try:
        with Session(request.app.state.engine) as session:
            user_ref = resolve_user(session, config, profile)
    except SignInRefused as refusal:
        note_decision(request, None, "auth.session.create", profile.provider_id, allowed=False, reason=str(refusal))
        return _problem(request, 403, f"You cannot sign in: {refusal}.")
    guest = None
    if user_ref is None:
        if settings.auth_unknown_users != "guest":
            who = (profile.login if config.type == "github" else profile.email) or profile.subject
            reason = f"no catalog User matches your {config.button_title} account ({who})"
            note_decision(request, None, "auth.session.create", profile.provider_id, allowed=False, reason=reason)
            return _problem(request, 403, f"You cannot sign in: {reason}. Ask a platform admin to add you.")
        user_ref = guest_ref(profile)
        guest = {"name": (profile.name or profile.login or "Guest")[:200], "email": (profile.email or "")[:254]}
    next_url = request.session.get(_NEXT_KEY, "/")
    # A new session: nothing the browser carried before sign-in (state, tokens, a planted value) survives.
    request.session.clear()
    request.session[SESSION_USER_KEY] = user_ref
    start_session(request.session)
    if guest:
        request.session[GUEST_KEY] = guest
    request.state.identity = None
    note_decision(request, user_ref, "auth.session.create", profile.provider_id, allowed=True)
    return RedirectResponse(_safe_next(next_url), status_code=303)
