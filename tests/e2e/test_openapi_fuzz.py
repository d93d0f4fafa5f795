"""The OpenAPI document describes the live app: a bounded schemathesis run sends generated
requests (valid and invalid) to every operation and finds no 5xx and no response that
contradicts the document."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from server.api.openapi import DOCUMENT, PATHS


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Negative cases (requests the document forbids) exist only where the document constrains
# something beyond a free-form path segment.
RUNS = [(path, method, mode) for path, ops in PATHS.items() for method, op in ops.items()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode == GenerationMode.POSITIVE or "requestBody" in op
        or any(p["in"] != "path" for p in op.get("parameters", []))]


@pytest.mark.parametrize("path, method, mode", RUNS, ids=str)
def test_api_conforms_and_never_fails(app, path, method, mode):
    # Driven through hypothesis directly: schemathesis's own pytest plugin does not run
    # under this pytest version.
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operation = schema[path][method.upper()]
    seen = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def fuzz(case):
        response = case.call()
        seen.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
        case.validate_response(response, checks=CHECKS)

    fuzz()
    assert seen                       # requests really went out


def test_document_serves_and_lists_every_route(client, app):
    assert client.get("/openapi.json").json == DOCUMENT
    documented = {p.replace("{", "<").replace("}", ">") for p in PATHS}
    public = {r.rule.replace("<path:key>", "<key>") for r in app.url_map.iter_rules()
              if r.rule.startswith("/public/") or r.rule == "/healthz"}
    assert public == documented
