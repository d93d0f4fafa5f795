"""The OpenAPI document describes the live app: a bounded schemathesis run sends generated
requests (valid and invalid) to every operation and finds no 5xx and no response that
contradicts the document. Responses are checked strictly: every response object in the
document forbids undeclared properties."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from server.api.openapi import document


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _runs():
    """Every documented operation; negative cases (requests the document forbids) only
    where the document constrains something beyond a free-form path segment."""
    from flask import Flask

    from server import api
    routes = Flask("routes")            # the routes alone: no database needed to list them
    api.register(routes)
    for path, ops in document(routes)["paths"].items():
        for method, op in ops.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode == GenerationMode.POSITIVE or "requestBody" in op \
                        or any(p["in"] != "path" for p in op.get("parameters", [])):
                    yield path, method, mode


@pytest.mark.parametrize("path, method, mode", list(_runs()), ids=str)
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


def test_document_lists_every_route_and_responses_are_closed(client, app):
    doc = client.get("/openapi.json").json
    assert doc == document(app)
    documented = {p.replace("{", "<").replace("}", ">") for p in doc["paths"]}
    routes = {r.rule.replace("<path:key>", "<key>") for r in app.url_map.iter_rules()
              if r.endpoint not in ("static", "web.index", "web.static_file", "openapi.openapi_json",
                                    "openapi.docs")}
    assert routes == documented
    # Every JSON object a response can carry forbids what it does not declare.
    schemas = doc["components"]["schemas"]
    for name in ("StatusOut", "ClipOut", "StepOut", "VideoOut", "TokenOut", "ErrorOut", "UploadOut",
                 "TranscriptOut", "SegmentOut", "WordOut", "AudioJobOut", "ProcessOut", "HealthOut"):
        assert schemas[name]["additionalProperties"] is False, name


def test_document_names_every_option_and_output(client):
    doc = client.get("/openapi.json").json
    schemas = doc["components"]["schemas"]
    submit = doc["paths"]["/public/video"]["post"]["requestBody"]["content"]
    assert set(submit) == {"application/json", "multipart/form-data"}
    for option in ("video_url", "priority", "force", "format", "captions", "enhance"):
        assert option in schemas["SubmitUrlIn"]["properties"], option
    assert schemas["SubmitUrlIn"]["properties"]["priority"]["type"] == "integer"
    for field in ("srt_url", "vtt_url", "manifest_url", "format", "method"):
        assert field in schemas["ClipOut"]["properties"], field
    for path in ("/public/audio/enhance", "/public/uploads", "/public/uploads/{upload_id}/complete",
                 "/healthz", "/metrics", "/internal/perform-video-processing"):
        assert path in doc["paths"], path
