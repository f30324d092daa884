"""Schemathesis against the app's OpenAPI schema, in process (ASGI): generated inputs for
every operation, and every default check (no 5xx, documented status codes, content
types, response schemas). Bounded by a fixed number of examples per operation.

Schemathesis's pytest plugin (``from_fixture``) fails under pytest 9, so each operation
drives a Hypothesis test of its own.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

OPERATIONS = [("GET", "/api/health"), ("POST", "/api/predict"), ("GET", "/api/confusion"),
              ("GET", "/api/test-images"), ("GET", "/api/test-images/{index}"),
              ("GET", "/api/test-images/{index}/image.png")]


@pytest.fixture(scope="module")
def api_schema(tiny_app):
    return schemathesis.openapi.from_asgi("/openapi.json", tiny_app)


def test_schema_lists_every_operation(api_schema):
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == {f"{method} {path}" for method, path in OPERATIONS}


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_operation_conforms_to_the_schema(api_schema, method, path):
    operation = api_schema[path][method]
    # "a decodable photo" cannot be said in JSON Schema (the body is any binary string),
    # so schema-valid bytes that are not an image rightly get 400; the other checks stay
    excluded = []
    if path == "/api/predict":
        excluded.append(schemathesis.checks.positive_data_acceptance)

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(excluded_checks=excluded)

    run()
