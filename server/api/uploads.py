"""Resumable uploads for files too large for one request.

    POST /public/uploads              {"filename", "size"}       -> 201 {"upload_id", ...}
    PUT  /public/uploads/<id>         Content-Range: bytes a-b/size, the chunk as the body
    GET  /public/uploads/<id>         what has arrived and what is missing (to resume)
    POST /public/uploads/<id>/complete {"sha256"}                -> 202 {"token"}

Chunks are written at their offset into one sparse file as they arrive, so nothing is
held in memory and no assembly pass is needed; each received range is recorded in
`upload_chunks`, and sending a chunk again rewrites the same bytes. Completion checks
that every byte arrived and that the SHA-256 matches, then hands the file to the same
path as a one-request upload (probe, limits, store, queue).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from flask import Blueprint, jsonify, request

from server import get_db, get_services
from server.api.public import accept_file, error, is_token, printable, upload_suffix
from server.submissions import new_token

bp = Blueprint("uploads", __name__, url_prefix="/public/uploads")

MAX_CHUNK_BYTES = 64 << 20
_RANGE = re.compile(r"bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")
_SHA256 = re.compile(r"[0-9a-f]{64}$")


def _part_path(upload_id: str) -> Path:
    return get_services().cfg.data_dir / "uploads" / "chunked" / f"{upload_id}.part"


def _merged(ranges: list[dict]) -> list[tuple[int, int]]:
    """Received ranges as disjoint, sorted [start, end] pairs (inclusive)."""
    out: list[list[int]] = []
    for r in ranges:
        if out and r["start_byte"] <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], r["end_byte"])
        else:
            out.append([r["start_byte"], r["end_byte"]])
    return [(a, b) for a, b in out]


def _progress(upload: dict) -> dict:
    received = _merged(get_db().all("upload_ranges", upload_id=upload["id"]))
    missing, cursor = [], 0
    for start, end in received + [(upload["size_bytes"], upload["size_bytes"])]:
        if start > cursor:
            missing.append(f"{cursor}-{start - 1}")
        cursor = max(cursor, end + 1)
    return {"upload_id": upload["id"], "size": upload["size_bytes"],
            "received_bytes": sum(b - a + 1 for a, b in received),
            "missing": missing, "status": upload["status"], "token": upload["token"]}


def _upload(upload_id: str):
    if not is_token(upload_id):
        return None, error("no upload with this id", 404)
    row = get_db().one("upload_by_id", id=upload_id)
    return (row, None) if row else (None, error("no upload with this id", 404))


@bp.post("")
def create_upload():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error('send JSON {"filename": "talk.mp4", "size": <bytes>}')
    filename, size = body.get("filename"), body.get("size")
    if not isinstance(filename, str) or not printable(filename).strip() or len(filename) > 255:
        return error("filename must be a non-empty string of at most 255 characters")
    filename = printable(filename).strip()
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return error("size must be a positive integer (bytes)")
    limit = get_services().cfg.max_upload_bytes
    if size > limit:
        return error(f"the file is larger than {limit} bytes", 413)
    upload_id = new_token()             # 192 random bits: the capability to write
    get_db().run("create_upload", id=upload_id, filename=filename, size_bytes=size)
    path = _part_path(upload_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)                 # sparse: takes no space until written
    return jsonify(upload_id=upload_id, size=size, max_chunk_bytes=MAX_CHUNK_BYTES), 201


@bp.get("/<upload_id>")
def upload_status(upload_id: str):
    upload, err = _upload(upload_id)
    return err or jsonify(_progress(upload))


@bp.put("/<upload_id>")
def put_chunk(upload_id: str):
    upload, err = _upload(upload_id)
    if err:
        return err
    if upload["status"] != "open":
        return error("this upload is already complete", 409)
    m = _RANGE.match(request.headers.get("Content-Range", ""))
    if not m:
        return error("a 'Content-Range: bytes <first>-<last>/<size>' header is required")
    start, end, total = map(int, m.groups())
    if total != upload["size_bytes"]:
        return error(f"Content-Range names size {total}; this upload is {upload['size_bytes']} bytes")
    if start > end or end >= total:
        return error("Content-Range is outside the file")
    length = end - start + 1
    if length > MAX_CHUNK_BYTES:
        return error(f"a chunk may carry at most {MAX_CHUNK_BYTES} bytes", 413)
    if request.content_length is not None and request.content_length != length:
        return error(f"the body has {request.content_length} bytes; Content-Range says {length}")
    written = 0
    with open(_part_path(upload_id), "r+b") as f:
        f.seek(start)
        for block in iter(lambda: request.stream.read(min(1 << 20, length - written)), b""):
            f.write(block)
            written += len(block)
            if written >= length:
                break
        if written != length:
            return error(f"the body ended after {written} of {length} bytes; send the chunk again")
        f.flush()
        os.fsync(f.fileno())           # the range is recorded only once its bytes are on disk
    get_db().run("record_chunk", upload_id=upload_id, start_byte=start, end_byte=end)
    return jsonify(_progress(upload))


@bp.post("/<upload_id>/complete")
def complete_upload(upload_id: str):
    upload, err = _upload(upload_id)
    if err:
        return err
    body = request.get_json(silent=True)
    sha = body.get("sha256") if isinstance(body, dict) else None
    if not isinstance(sha, str) or not _SHA256.match(sha.lower()):
        return error('send JSON {"sha256": "<64 hex digits of the whole file>"}')
    if upload["status"] == "completed":
        return jsonify(token=upload["token"]), 202
    state = _progress(upload)
    if state["missing"]:
        return error("the upload is missing bytes " + ", ".join(state["missing"][:5]), 409,
                     missing=state["missing"])
    if get_db().one("start_completing_upload", id=upload_id) is None:
        return error("this upload is being completed by another request", 409)
    try:
        return _finish(upload, sha.lower())
    finally:
        get_db().run("reopen_upload", id=upload_id)     # no-op once finished


def _finish(upload: dict, sha: str):
    part = _part_path(upload["id"])
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha:
        return error("the SHA-256 of the received file does not match; "
                     "check the chunks (GET this upload) and send them again", 422)
    workdir = part.parent / upload["id"]
    workdir.mkdir(exist_ok=True)
    path = workdir / f"source{upload_suffix(upload['filename'])}"
    os.replace(part, path)                 # atomic: the upload becomes the source whole
    try:
        body, status = accept_file(path, token=new_token(), sha256=sha,
                                   filename=upload["filename"])
        if status == 202:
            get_db().run("finish_upload", id=upload["id"], token=body.json["token"])
        return body, status
    finally:
        if path.exists():
            os.replace(path, part)         # refused: leave the upload as it was
        shutil.rmtree(workdir, ignore_errors=True)
