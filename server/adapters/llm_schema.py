"""JSON Schemas for the analyzer's structured outputs, and a validator for the subset of
JSON Schema that OpenAI's strict mode allows (objects with every property required and no
extras, arrays, strings, integers, numbers, booleans, enums, minimum/maximum).

The model is asked for these schemas with `strict: true`, but an OpenAI-compatible server
may ignore that, so every answer is validated here before it is used."""
from __future__ import annotations

from server.core.model import CONTENT_TYPES


def _object(**properties) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def _int(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi}


_STRING = {"type": "string"}

CLASSIFICATION = _object(
    content_type={"type": "string", "enum": list(CONTENT_TYPES)},
    confidence={"type": "number", "minimum": 0, "maximum": 1},
    rationale=_STRING,
    topics={"type": "array", "items": _STRING},
    language=_STRING,
)

WINDOW_SCORES = _object(
    window_score=_int(0, 100),
    candidates={"type": "array", "items": _object(
        start_sentence=_int(0, 1_000_000), end_sentence=_int(0, 1_000_000),
        score=_int(0, 100), why=_STRING)},
)

CLIP_REFINEMENT = _object(
    clips={"type": "array", "items": _object(
        start_sentence=_int(0, 1_000_000), end_sentence=_int(0, 1_000_000),
        title=_STRING, hook=_STRING, reason=_STRING, score=_int(0, 100),
        on_topic={"type": "boolean"})},
)


class SchemaError(ValueError):
    """The answer breaks the schema (or a rule the schema cannot express)."""


_TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
          "boolean": bool}


def validate(value, schema: dict, path: str = "$") -> None:
    """Raise SchemaError naming the first place where `value` breaks `schema`."""
    kind = schema["type"]
    if (isinstance(value, bool) != (kind == "boolean")
            or not isinstance(value, _TYPES[kind])):  # type: ignore[arg-type]
        raise SchemaError(f"{path} must be {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path} must be one of {schema['enum']}, got {value!r}")
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(f"{path} must be >= {schema['minimum']}, got {value}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(f"{path} must be <= {schema['maximum']}, got {value}")
    if kind == "array":
        for k, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{k}]")
    if kind == "object":
        missing = [name for name in schema["required"] if name not in value]
        if missing:
            raise SchemaError(f"{path} lacks required field(s) {missing}")
        extra = sorted(set(value) - set(schema["properties"]))
        if extra:
            raise SchemaError(f"{path} has unexpected field(s) {extra}")
        for name, sub in schema["properties"].items():
            validate(value[name], sub, f"{path}.{name}")
