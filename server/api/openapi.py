"""/openapi.json, generated from the contracts the views declare (server/api/contract.py)
and the pydantic models in server/api/schemas.py; /docs renders it. Nothing here is
written by hand but the document's title, so the document cannot drift from the code."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, send_from_directory
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from server.api.contract import ERROR_WORDS, Body, Operation
from server.api.schemas import ErrorOut
from server.api.web import WEB_DIR

bp = Blueprint("openapi", __name__)

INFO = {"title": "Video to clips", "version": "2.1.0",
        "description": "Submit a long video, follow its processing, fetch its clips. The token a "
                       "submission returns is the capability to read it. An API key (`Authorization: "
                       "Bearer <key>`, from `clips keys create`) makes the video the key's: it "
                       "is listed by GET /public/videos, counts against the key's rate and "
                       "quotas, and its webhooks are signed with the key's secret."}
_REF = "#/components/schemas/{model}"
SECURITY_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer",
               "description": "An API key (ck_...). Optional on /public/ endpoints unless stated; "
                              "a key that is unknown or revoked is a 401, a spent rate a 429."},
    "internalToken": {"type": "http", "scheme": "bearer", "description": "INTERNAL_API_TOKEN"},
}


def operations(app: Flask) -> list[tuple[str, str, Operation, str]]:
    """(OpenAPI path, method, operation, endpoint) for every route whose view declares a
    contract."""
    out = []
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions[rule.endpoint], "operation", None)
        if op is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((path, method.lower(), op, rule.endpoint))
    return out


def _models(op: Operation) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "validation") for m in (op.query, op.headers, op.json, op.form) if m is not None]
    found += [(b.model, "serialization") for b in op.responses.values() if b.model is not None]
    return found


def _parameters(model: type[BaseModel] | None, where: str, defs: dict) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=_REF, mode="validation")
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": where, "required": name in required,
             **({"description": prop.pop("description")} if "description" in prop else {}),
             "schema": prop} for name, prop in schema["properties"].items()]


def _content(body: Body, refs: dict) -> dict:
    content: dict[str, Any] = {}
    if body.model is not None:
        content["application/json"] = {"schema": refs[(body.model, "serialization")]}
    for media_type, kind in body.other.items():
        content[media_type] = {"schema": {"type": "string", **({"format": "binary"} if kind == "binary" else {})}}
    return {"description": body.description, **({"content": content} if content else {})}


def document(app: Flask) -> dict:
    ops = operations(app)
    # ErrorOut always: every public operation may answer 401 or 429 (an API key's refusals).
    models = list(dict.fromkeys([m for _, _, op, _ in ops for m in _models(op)]
                                + [(ErrorOut, "serialization")]))
    refs, schema = models_json_schema(models, ref_template=_REF)
    defs: dict[str, Any] = dict(schema.get("$defs", {}))
    paths: dict[str, dict] = {}
    for path, method, op, endpoint in ops:
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{([a-z_]+)}", path)]
        params += _parameters(op.query, "query", defs) + _parameters(op.headers, "header", defs)
        entry: dict[str, Any] = {"summary": op.summary, "operationId": endpoint.replace(".", "_")}
        if op.description:
            entry["description"] = op.description
        if params:
            entry["parameters"] = params
        body: dict[str, Any] = {}
        if op.json is not None:
            body["application/json"] = {"schema": refs[(op.json, "validation")]}
        if op.form is not None:
            body["multipart/form-data"] = {"schema": refs[(op.form, "validation")]}
        if op.raw_body:
            body[op.raw_body] = {"schema": {"type": "string", "format": "binary"}}
        if body:
            entry["requestBody"] = {"required": True, "content": body}
        responses = dict(op.responses)
        if path.startswith("/public/"):
            # Any public request may carry a key: an unknown one is a 401, a spent rate a 429.
            for code in (401, 429):
                responses.setdefault(code, Body(ERROR_WORDS[code], ErrorOut))
            entry["security"] = [{"apiKey": []}] if op.key_required else [{}, {"apiKey": []}]
        elif path.startswith("/internal/"):
            entry["security"] = [{"internalToken": []}]
        entry["responses"] = {str(code): _content(b, refs) for code, b in sorted(responses.items())}
        paths.setdefault(path, {})[method] = entry
    return {"openapi": "3.1.0", "info": INFO, "paths": paths,
            "components": {"schemas": defs, "securitySchemes": SECURITY_SCHEMES}}


@bp.get("/openapi.json")
def openapi_json():
    ext = current_app.extensions
    if "openapi" not in ext:
        ext["openapi"] = document(current_app)
    return jsonify(ext["openapi"])


@bp.get("/docs")
def docs():
    return send_from_directory(WEB_DIR, "docs.html")
