"""Each view declares its contract once, with `@operation(...)`: the models of its query,
headers and body, and its responses. The decorator validates the request against those
models before the view runs (a 400 `{"error": ...}` naming each bad field), and
server/api/openapi.py builds /openapi.json from the same declarations.

We assemble the document from pydantic's own JSON schemas rather than adopt spectree,
flask-openapi3 or APIFlask (see the README, "The API contract"): the validation that
matters here (strict JSON types, control characters, one error body) is pydantic's
anyway, some endpoints take JSON or multipart alike, and a decorator this size keeps the
views plain Flask functions that the serving layer can wrap as it likes."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar, cast

from flask import Response as FlaskResponse
from flask import Request, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from server.api.schemas import ErrorOut, describe
from server.core.failures import StoreUnavailable
from server.usecases import Refused

# What a refusal from the use cases becomes.
STATUS_OF = {"invalid": 400, "not_found": 404, "conflict": 409, "too_large": 413,
             "unsupported": 415, "mismatch": 422, "unauthorized": 401, "rate_limited": 429}

ERROR_WORDS = {400: "Invalid input; `error` names the problem",
               401: "No valid bearer token (an unknown, revoked or malformed API key, or none "
                    "where one is needed)",
               404: "Unknown token or id", 409: "Conflicts with the job's or upload's state",
               413: "Over a configured limit", 415: "Not a usable video or audio file",
               422: "Checksum mismatch, an Idempotency-Key reused with another request, or the "
                    "job failed",
               429: "Rate limited, or an API key's daily quota is used up; see the Retry-After "
                    "header",
               503: "The database is unavailable; retry after the seconds in Retry-After"}


@dataclass
class Body:
    """A response body: a model (JSON) or other content types mapped to "text"/"binary"."""
    description: str
    model: type[BaseModel] | None = None
    other: dict[str, str] = field(default_factory=dict)


@dataclass
class Operation:
    summary: str
    responses: dict[int, Body]
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    json: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    raw_body: str | None = None                 # a body taken as it is (its content type)
    json_hint: str = "send a JSON object"       # said when the body is not JSON at all
    json_optional: bool = False                 # no body at all counts as {}
    description: str = ""
    key_required: bool = False                  # an API key must name the caller


F = TypeVar("F", bound=Callable[..., Any])


def operation(summary: str, *, responses: dict[int, Body | type[BaseModel]],
              errors: tuple[int, ...] = (), uses_database: bool = True,
              **kw: Any) -> Callable[[F], F]:
    """Declares and enforces a view's contract. The view gets the validated models as
    keyword arguments `query`, `headers` and `body` (JSON or form). A view that uses the
    database may answer 503 while it is away (`unavailable`)."""
    bodies = {code: b if isinstance(b, Body) else Body("OK", b) for code, b in responses.items()}
    bodies.update({code: Body(ERROR_WORDS[code], ErrorOut) for code in errors})
    if uses_database:
        bodies.setdefault(503, Body(ERROR_WORDS[503], ErrorOut))
    op = Operation(summary, bodies, **kw)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(**path: Any) -> Any:
            try:
                parsed = _parse(op)
            except ValidationError as e:
                whole = any(not err["loc"] for err in e.errors())    # not an object at all
                return jsonify(error=f"{op.json_hint}: {describe(e)}" if whole else describe(e)), 400
            except Refused as e:
                return refusal(e)
            return view(**path, **parsed)
        checked.operation = op          # type: ignore[attr-defined]
        return cast(F, checked)
    return decorate


def _parse(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if op.query:
        out["query"] = op.query.model_validate(request.args.to_dict())
    if op.headers:
        names = [f.alias or n for n, f in op.headers.model_fields.items()]
        out["headers"] = op.headers.model_validate(
            {n: request.headers[n] for n in names if n in request.headers})
    if op.form and request.mimetype == "multipart/form-data":
        out["body"] = op.form.model_validate(request.form.to_dict())
    elif op.json:
        if op.json_optional and not request.content_length and not request.get_data():
            out["body"] = op.json()
            return out
        if request.mimetype != "application/json":
            raise Refused("invalid", op.json_hint)
        out["body"] = op.json.model_validate_json(request.get_data() or b"null")
    elif op.form:
        raise Refused("invalid", op.json_hint)
    return out


class _FormParser(FormDataParser):
    """Werkzeug drops a multipart body it cannot parse without a word (part headers that
    are not UTF-8, a lone surrogate's bytes in a file name, a broken boundary), and the
    client would be told its 'file' field is missing. Say what is wrong instead."""

    def parse(self, stream, mimetype, content_length, options=None):  # type: ignore[no-untyped-def]
        self.silent = False
        try:
            return super().parse(stream, mimetype, content_length, options)
        except UnicodeDecodeError:
            raise BadRequest("the multipart form is malformed: its part headers (field and file "
                             "names) must be UTF-8 text") from None
        except ValueError as e:
            raise BadRequest(f"the multipart form is malformed: {e}") from None


class ApiRequest(Request):
    """The request class of the app: forms that cannot be parsed are refused (400)."""
    form_data_parser_class = _FormParser


def refusal(e: Refused) -> tuple[FlaskResponse, int]:
    extra = {k: v for k, v in e.extra.items() if k not in ("field", "retry_after_s")}
    resp = jsonify(error=e.message, **extra)
    if e.reason == "rate_limited":
        wait = e.extra.get("retry_after_s")
        resp.headers["Retry-After"] = str(max(1, math.ceil(wait if isinstance(wait, (int, float)) else 1)))
    elif e.reason == "unauthorized":
        resp.headers["WWW-Authenticate"] = 'Bearer realm="clips"'
    return resp, STATUS_OF[e.reason]


def unavailable(e: StoreUnavailable) -> tuple[FlaskResponse, int, dict[str, str]]:
    """503 while the database is away: never a 500, and a time to come back."""
    return (jsonify(error="the service is temporarily unavailable (its database cannot be "
                          "reached); retry after the seconds in Retry-After"), 503,
            {"Retry-After": str(math.ceil(e.retry_after_s))})


def respond(model: BaseModel, status: int = 200) -> tuple[FlaskResponse, int]:
    """A response model as JSON; fields left unset (optional parts not yet there) are
    left out."""
    return jsonify(model.model_dump(mode="json", by_alias=True, exclude_unset=True)), status
