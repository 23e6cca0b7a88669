"""The whole API fuzzed from its own OpenAPI schema (schemathesis): no input makes it fail."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from attrap.store.db import Database
from attrap.web.app import create_app
from test_web import TODAY, fill


@pytest.fixture
def api_schema(database: Database):
    fill(database)
    app = create_app(database, today=lambda: TODAY)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails(case):
    case.call_and_validate()
