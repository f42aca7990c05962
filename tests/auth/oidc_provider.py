"""A local OpenID Connect provider for the sign-in tests, built on Authlib's server parts
(AuthorizationServer, the authorization-code grant with the OpenID Connect and PKCE extensions),
served over real HTTP. Its login page lists the test people; choosing one signs them in."""

from __future__ import annotations

import html
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "flowport"
CLIENT_SECRET = "local-provider-secret"


@dataclass
class Person:
    sub: str
    email: str
    name: str
    email_verified: bool = True


@dataclass
class Client(ClientMixin):
    redirect_uris: list[str]

    def get_client_id(self):  # noqa: ANN201
        return CLIENT_ID

    def get_default_redirect_uri(self):  # noqa: ANN201
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):  # noqa: ANN001, ANN201
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri):  # noqa: ANN001, ANN201
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):  # noqa: ANN001, ANN201
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):  # noqa: ANN001, ANN201
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):  # noqa: ANN001, ANN201
        return response_type == "code"

    def check_grant_type(self, grant_type):  # noqa: ANN001, ANN201
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    redirect_uri: str
    scope: str
    sub: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):  # noqa: ANN201
        return self.redirect_uri

    def get_scope(self):  # noqa: ANN201
        return self.scope

    def get_nonce(self):  # noqa: ANN201
        return self.nonce

    def get_auth_time(self):  # noqa: ANN201
        return self.auth_time

    def get_acr(self):  # noqa: ANN201
        return None

    def get_amr(self):  # noqa: ANN201
        return None


class _Payload(OAuth2Payload):
    def __init__(self, values: list[tuple[str, str]]) -> None:
        self._values = values

    @property
    def data(self):  # noqa: ANN201
        return dict(self._values)

    @property
    def datalist(self):  # noqa: ANN201
        grouped = defaultdict(list)
        for key, value in self._values:
            grouped[key].append(value)
        return grouped


class _Request(OAuth2Request):
    def __init__(self, request: Request, form: list[tuple[str, str]]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = list(request.query_params.multi_items())
        self._form = form
        self.payload = _Payload(self._args + form)

    @property
    def args(self):  # noqa: ANN201
        return dict(self._args)

    @property
    def form(self):  # noqa: ANN201
        return dict(self._form)


class LocalProvider:
    """The provider's state: its clients, people, codes, tokens and signing key."""

    def __init__(self, issuer: str, redirect_uris: list[str], people: list[Person]) -> None:
        self.issuer = issuer
        self.client = Client(redirect_uris)
        self.people = {person.sub: person for person in people}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, str] = {}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        provider = self

        class OpenIDCodeForTests(OpenIDCode):
            def exists_nonce(self, nonce, request):  # noqa: ANN001, ANN201
                return any(code.nonce == nonce for code in provider.codes.values())

            def resolve_client_private_key(self, client):  # noqa: ANN001, ANN201
                return provider.key

            def get_client_algorithm(self, client):  # noqa: ANN001, ANN201
                return "RS256"

            def get_client_claims(self, client):  # noqa: ANN001, ANN201
                return {"iss": provider.issuer, "aud": [CLIENT_ID], "exp": int(time.time()) + 300}

            def get_encode_header(self, client):  # noqa: ANN001, ANN201
                return {"alg": "RS256", "kid": "test-key"}

            def generate_user_info(self, user, scope):  # noqa: ANN001, ANN201
                return provider.user_info(user, scope)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):  # noqa: ANN001, ANN201
                data = request.payload.data
                provider.codes[code] = Code(code, request.payload.redirect_uri, request.payload.scope,
                                            request.user.sub, data.get("nonce"), data.get("code_challenge"),
                                            data.get("code_challenge_method"))

            def query_authorization_code(self, code, client):  # noqa: ANN001, ANN201
                return provider.codes.get(code)

            def delete_authorization_code(self, authorization_code):  # noqa: ANN001, ANN201
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):  # noqa: ANN001, ANN201
                return provider.people[authorization_code.sub]

        class Server(AuthorizationServer):
            def query_client(self, client_id):  # noqa: ANN001, ANN201
                return provider.client if client_id == CLIENT_ID else None

            def save_token(self, token, request):  # noqa: ANN001, ANN201
                provider.tokens[token["access_token"]] = request.user.sub

            def send_signal(self, name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
                return None

            def create_oauth2_request(self, request):  # noqa: ANN001, ANN201
                return request

            def handle_response(self, status, body, headers):  # noqa: ANN001, ANN201
                headers = dict(headers)
                if status == 302:
                    return RedirectResponse(headers["Location"], status_code=302)
                return JSONResponse(body, status_code=status, headers={k: v for k, v in headers.items()
                                                                       if k.lower() != "content-type"})

        self.server = Server()
        self.server.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=lambda client, grant_type, user, scope: secrets.token_urlsafe(32)))
        self.server.register_grant(CodeGrant, [OpenIDCodeForTests(require_nonce=True), CodeChallenge(required=True)])

    def user_info(self, person: Person, scope: str) -> UserInfo:
        info = UserInfo(sub=person.sub, name=person.name)
        if "email" in scope:
            info["email"], info["email_verified"] = person.email, person.email_verified
        return info

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "email", "profile"],
            })

        async def authorize(request: Request) -> Response:
            form = list((await request.form()).multi_items()) if request.method == "POST" else []
            oauth_request = _Request(request, [(k, v) for k, v in form if isinstance(v, str)])
            if request.method == "GET":
                grant = self.server.get_consent_grant(oauth_request)
                buttons = "".join(
                    f'<button type="submit" name="sub" value="{html.escape(p.sub)}">Continue as {html.escape(p.name)}</button>'
                    for p in self.people.values())
                action = f"/authorize?{urlencode(list(request.query_params.multi_items()))}"
                return HTMLResponse(f'<html><body><h1>Local provider</h1><p>{html.escape(grant.client.get_client_id())} '
                                    f'asks who you are.</p><form method="post" action="{html.escape(action)}">'
                                    f'{buttons}</form></body></html>')
            person = self.people[dict(form)["sub"]]
            grant = self.server.get_consent_grant(oauth_request)
            return self.server.create_authorization_response(oauth_request, grant_user=person, grant=grant)

        async def token(request: Request) -> Response:
            form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
            return self.server.create_token_response(_Request(request, form))

        async def jwks(request: Request) -> Response:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def userinfo(request: Request) -> Response:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            sub = self.tokens.get(bearer)
            if sub is None:
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            return JSONResponse(dict(self.user_info(self.people[sub], "openid email profile")))

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery), Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]), Route("/jwks", jwks), Route("/userinfo", userinfo),
        ])
