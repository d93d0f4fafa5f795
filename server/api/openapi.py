"""The OpenAPI 3 description of the public API, served at /openapi.json and rendered at
/docs. Written by hand; the schemathesis test checks the live app against it."""
from __future__ import annotations

from flask import Blueprint, jsonify, send_from_directory

from server.api.web import WEB_DIR

bp = Blueprint("openapi", __name__)


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict:
    return {"description": description, "content": _json({"$ref": "#/components/schemas/Error"})}


def _errors(*codes: int) -> dict:
    words = {400: "Invalid input; `error` names the problem", 404: "Unknown token or id",
             409: "Conflicts with the job's or upload's state", 413: "Over a configured limit",
             415: "Not a usable video or audio file", 422: "Checksum mismatch, or the job failed",
             429: "Rate limited; see the Retry-After header"}
    return {str(c): _error(words[c]) for c in codes}


TOKEN = {"name": "token", "in": "query", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 100},
         "description": "The token POST /public/video returned"}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"}}},
    "Token": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
    "Step": {"type": "object", "required": ["name", "state", "progress", "attempts"], "properties": {
        "name": {"enum": ["download", "transcribe", "classify", "find_clips", "render"]},
        "state": {"type": "string"}, "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "attempts": {"type": "integer"}, "seconds": NULLABLE_NUMBER}},
    "Clip": {"type": "object", "required": ["index", "start_s", "end_s", "title", "score", "url"],
             "properties": {
                 "index": {"type": "integer"}, "start_s": {"type": "number"},
                 "end_s": {"type": "number"}, "duration_s": {"type": "number"},
                 "title": {"type": "string"}, "reason": NULLABLE_STRING, "hook": NULLABLE_STRING,
                 "score": {"type": "number"}, "url": NULLABLE_STRING,
                 "thumbnail_url": NULLABLE_STRING}},
    "Status": {"type": "object",
               "required": ["token", "status", "pipeline_step", "progress", "steps", "video"],
               "properties": {
                   "token": {"type": "string"},
                   "status": {"enum": ["queued", "running", "retrying", "completed", "failed", "cancelled"]},
                   "pipeline_step": {"type": "string"},
                   "progress": {"type": "number"}, "overall_progress": {"type": "number"},
                   "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
                   "retry_at": NULLABLE_STRING,
                   "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}},
                   "failure_cause": NULLABLE_STRING, "failure_details": NULLABLE_STRING,
                   "video": {"type": "object"},
                   "usage": {"type": "object"},
                   "transcript": {"type": "object", "properties": {
                       "json": {"type": "string"}, "srt": {"type": "string"}, "vtt": {"type": "string"},
                       # share of the voice-activity time the words cover; which audio track
                       "coverage": {"type": ["number", "null"]}, "speech_s": {"type": ["number", "null"]},
                       "audio_track": {"type": ["object", "null"]}}},
                   "warnings": {"type": "array", "items": {"type": "string"}},
                   "clips": {"type": "array", "items": {"$ref": "#/components/schemas/Clip"}},
                   "created_at": {"type": "string"}, "finished_at": NULLABLE_STRING}},
    "Upload": {"type": "object", "required": ["upload_id", "size", "received_bytes", "missing", "status"],
               "properties": {
                   "upload_id": {"type": "string"}, "size": {"type": "integer"},
                   "received_bytes": {"type": "integer"},
                   "missing": {"type": "array", "items": {"type": "string"},
                               "description": "Byte ranges not yet received, as first-last"},
                   "status": {"enum": ["open", "completing", "completed"]},
                   "token": NULLABLE_STRING}},
}

PATHS = {
    "/public/video": {"post": {
        "summary": "Submit a video by URL (JSON) or as a file (multipart)",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 200}}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "required": ["video_url"], "properties": {
                "video_url": {"type": "string", "format": "uri",
                              "description": "http(s) URL of a page yt-dlp understands or of a media file; "
                                             "must resolve to public addresses"},
                "priority": {"type": "integer", "minimum": -100, "maximum": 100}}}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "priority": {"type": "integer", "minimum": -100, "maximum": 100}}}}}},
        "responses": {"202": {"description": "Queued", "content": _json({"$ref": "#/components/schemas/Token"})},
                      **_errors(400, 413, 415, 429)}}},
    "/public/video/status": {"get": {
        "summary": "Where the job is: each step's state and progress, failure cause, clips",
        "parameters": [TOKEN],
        "responses": {"200": {"description": "The job", "content": _json({"$ref": "#/components/schemas/Status"})},
                      **_errors(400, 404, 429)}}},
    "/public/video/cancel": {"post": {
        "summary": "Cancel a job that has not finished",
        "requestBody": {"required": True, "content": _json({
            "type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}})},
        "responses": {"200": {"description": "Cancelled", "content": _json({
            "type": "object", "required": ["token", "status"],
            "properties": {"token": {"type": "string"}, "status": {"const": "cancelled"}}})},
            **_errors(400, 404, 409)}}},
    "/public/video/transcript": {"get": {
        "summary": "The transcript as JSON segments, SRT or WebVTT",
        "parameters": [TOKEN, {"name": "format", "in": "query", "required": False,
                               "schema": {"enum": ["json", "srt", "vtt"], "default": "json"}}],
        "responses": {"200": {"description": "The transcript", "content": {
            "application/json": {"schema": {"type": "object", "required": ["segments"]}},
            "application/x-subrip": {"schema": {"type": "string"}},
            "text/vtt": {"schema": {"type": "string"}}}},
            **_errors(400, 404, 429)}}},
    "/public/media/{key}": {"get": {
        "summary": "A rendered clip, thumbnail or subtitle file (local storage); supports Range",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                      "206": {"description": "Part of the file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                      "304": {"description": "Not modified"},
                      "416": {"description": "Range not satisfiable"},
                      **_errors(404)}}},
    "/public/uploads": {"post": {
        "summary": "Start a resumable upload",
        "requestBody": {"required": True, "content": _json({
            "type": "object", "required": ["filename", "size"], "properties": {
                "filename": {"type": "string", "minLength": 1, "maxLength": 255},
                "size": {"type": "integer", "minimum": 1}}})},
        "responses": {"201": {"description": "Created", "content": _json({
            "type": "object", "required": ["upload_id", "size", "max_chunk_bytes"], "properties": {
                "upload_id": {"type": "string"}, "size": {"type": "integer"},
                "max_chunk_bytes": {"type": "integer"}}})},
            **_errors(400, 413, 429)}}},
    "/public/uploads/{upload_id}": {
        "get": {"summary": "What has arrived, and which ranges are missing (to resume)",
                "parameters": [UPLOAD_ID],
                "responses": {"200": {"description": "Progress", "content": _json({"$ref": "#/components/schemas/Upload"})},
                              **_errors(404)}},
        "put": {"summary": "Send one chunk; sending the same chunk again is harmless",
                "parameters": [UPLOAD_ID, {"name": "Content-Range", "in": "header", "required": True,
                                           "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"}}],
                "requestBody": {"required": True, "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}},
                "responses": {"200": {"description": "Stored", "content": _json({"$ref": "#/components/schemas/Upload"})},
                              **_errors(400, 404, 409, 413)}}},
    "/public/uploads/{upload_id}/complete": {"post": {
        "summary": "Verify the whole file's SHA-256 and queue it like a submission",
        "parameters": [UPLOAD_ID],
        "requestBody": {"required": True, "content": _json({
            "type": "object", "required": ["sha256"],
            "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}})},
        "responses": {"202": {"description": "Queued", "content": _json({"$ref": "#/components/schemas/Token"})},
                      **_errors(400, 404, 409, 413, 415, 422)}}},
    "/public/audio/enhance": {
        "post": {"summary": "Speech enhancement on its own: upload WAV, FLAC or MP3",
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"],
                     "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"202": {"description": "Processing", "content": _json({
                     "type": "object", "required": ["token", "status"],
                     "properties": {"token": {"type": "string"}, "status": {"const": "processing"}}})},
                     **_errors(400, 413, 415, 429)}},
        "get": {"summary": "The cleaned WAV once ready (202 while processing)",
                "parameters": [TOKEN],
                "responses": {"200": {"description": "The enhanced audio",
                                      "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
                              "202": {"description": "Still processing", "content": _json({"type": "object"})},
                              "304": {"description": "Not modified"},
                              **_errors(400, 404, 422)}}},
    "/healthz": {"get": {
        "summary": "Liveness and database reachability",
        "responses": {"200": {"description": "Healthy", "content": _json({"type": "object"})},
                      "503": {"description": "Database unreachable", "content": _json({"type": "object"})}}}},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Video to clips", "version": "1.0.0",
             "description": "Submit a long video, follow its processing, fetch its clips. "
                            "No login: the token a submission returns is the capability to read it."},
    "paths": PATHS,
    "components": {"schemas": SCHEMAS},
}


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(DOCUMENT)


@bp.get("/docs")
def docs():
    return send_from_directory(WEB_DIR, "docs.html")
