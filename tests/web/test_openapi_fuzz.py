"""Schemathesis over the app's OpenAPI document, in-process: no operation answers any input with a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from portal.app import create_app
from portal.auth.tokens import issue_token
from tests.web.catalog_data import seed_catalog

# Enough to reach every parameter's edge cases (huge and negative numbers, NUL, odd Unicode) without
# making the suite slow; derandomized, so every run sends the same requests.
EXAMPLES_PER_OPERATION = 30
# Webhooks are fuzzed by their own tests (portal/webhooks); registering a location reads files and URLs.
EXCLUDED = [("POST", "/api/catalog/locations")]
EXCLUDED_PREFIXES = ("/webhooks",)


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(EXCLUDED_PREFIXES) or (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        yield operation


def test_no_operation_answers_with_a_server_error(settings, session):
    """Signed in as an admin with an admin-scoped API token, so every operation runs its whole path."""
    seed_catalog(session)
    token = issue_token(session, kind="personal", subject_ref="user:default/alice.andersen", name="fuzz",
                        scopes=("read", "request", "admin"), created_by="test").token
    session.commit()
    app = create_app(settings.model_copy(update={"env": "production", "admins": ["user:default/alice.andersen"],
                                                 "secret_key": "q7Vd2mXk9LpR4tWz8NcB1yHs6FgJ3uEa0OiKxQvZrTnMbY5lCwDhSjUeAoPfG",
                                                 "secrets_key": "3fQ0pR2yJ1x6Uq3w9cVh8kL5mN7bZ4tA0sD2fG6hJ8k="}))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    signed_in = {"Authorization": f"Bearer {token}"}
    server_errors: list[str] = []
    refused_sign_ins: list[str] = []
    for operation in _operations(schema):
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                             print_blob=False)
        @given(case=operation.as_strategy())
        def call(case) -> None:  # noqa: ANN001
            try:
                response = case.call(headers=signed_in)
            except Exception as error:  # noqa: BLE001 - the test client re-raises what the app did not handle
                server_errors.append(f"{case.method} {case.formatted_path} query={case.query!r:.200} "
                                     f"body={case.body!r:.200}: {type(error).__name__}: {error}"[:600])
                return
            if response.status_code == 401:
                refused_sign_ins.append(f"{case.method} {case.formatted_path}")
            if response.status_code >= 500:
                server_errors.append(f"{response.status_code} {case.method} {case.formatted_path} "
                                     f"query={case.query!r:.200} body={case.body!r:.200}: {response.text[:200]}")

        call()
    assert server_errors == []
    # The token really signed every request in: nothing was refused for want of a sign-in.
    assert refused_sign_ins == []
