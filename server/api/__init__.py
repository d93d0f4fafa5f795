"""The HTTP edge: Flask blueprints that translate requests to use cases and back, the
API contract (schemas.py, contract.py), the generated OpenAPI document, and the serving
policy (http_policy.py)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Every blueprint, the handler that turns a refused request into a 4xx, and the one
    that turns a database outage into a 503 with Retry-After."""
    from server.api import audio, clips, health, internal, metrics, openapi, public, uploads, web
    from server.api.contract import ApiRequest, refusal, unavailable
    from server.core.failures import StoreUnavailable
    from server.usecases import Refused
    app.request_class = ApiRequest
    for module in (health, public, clips, internal, metrics, audio, uploads, openapi, web):
        app.register_blueprint(module.bp)
    app.register_error_handler(Refused, refusal)
    app.register_error_handler(StoreUnavailable, unavailable)
