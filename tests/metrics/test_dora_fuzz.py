"""Schemathesis over the metrics operations only: no input makes the DORA, value or impact API answer a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from portal.app import create_app
from tests.flow.factories import deployment, save
from tests.metrics.value_scenario import day, seed_catalog, seed_orders

EXAMPLES_PER_OPERATION = 60
OPERATIONS = ("/api/v1/metrics/dora", "/api/v1/metrics/value", "/api/v1/metrics/impact")


def test_metrics_operations_never_answer_a_server_error(settings, session):
    seed_catalog(session)
    seed_orders(session)
    save(session, [deployment("acme/web", n, "production", day(4, 1 + n)) for n in range(5)])
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    server_errors: list[str] = []
    answered: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in OPERATIONS:
            continue

        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                             print_blob=False)
        @given(case=operation.as_strategy())
        def call(case) -> None:  # noqa: ANN001
            try:
                response = case.call()
            except Exception as error:  # noqa: BLE001 - the test client re-raises what the app did not handle
                server_errors.append(f"{case.formatted_path} query={case.query!r:.200}: {type(error).__name__}: {error}")
                return
            answered.add(response.status_code)
            if response.status_code >= 500:
                server_errors.append(f"{response.status_code} {case.formatted_path} query={case.query!r:.200}: "
                                     f"{response.text[:200]}")

        call()
    assert server_errors == []
    assert answered and answered <= {200, 400, 404}, answered
