"""Resumable uploads for files too large for one request.

Chunks are written at their offset into one sparse file as they arrive, so nothing is
held in memory and no assembly pass is needed; each received range is recorded, and
sending a chunk again rewrites the same bytes. Completion checks that every byte arrived
and that the SHA-256 matches, then hands the file to `submit_file`, the path every
source takes."""
from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path
from typing import IO

from server.core.stores import QuotaExceeded, Row
from server.services import Services
from server.usecases import Refused
from server.usecases.submit import SubmitOptions, new_token, printable, submit_file, upload_suffix

MAX_CHUNK_BYTES = 64 << 20


def _part_path(s: Services, upload_id: str) -> Path:
    return s.cfg.data_dir / "uploads" / "chunked" / f"{upload_id}.part"


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Received ranges as disjoint, sorted [start, end] pairs (inclusive)."""
    out: list[list[int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def progress(s: Services, upload: Row) -> dict:
    received = _merged(s.uploads.ranges(upload["id"]))
    missing, cursor = [], 0
    for start, end in received + [(upload["size_bytes"], upload["size_bytes"])]:
        if start > cursor:
            missing.append(f"{cursor}-{start - 1}")
        cursor = max(cursor, end + 1)
    return {"upload_id": upload["id"], "size": upload["size_bytes"],
            "received_bytes": sum(b - a + 1 for a, b in received),
            "missing": missing, "status": upload["status"], "token": upload["token"]}


def find(s: Services, upload_id: str) -> Row:
    row = s.uploads.get(upload_id)
    if row is None:
        raise Refused("not_found", "no upload with this id")
    return row


def create(s: Services, filename: str, size: int, key_id: int | None = None) -> dict:
    """A new upload; the video it becomes belongs, and is charged, to the API key `key_id`."""
    limit = s.cfg.max_upload_bytes
    if size > limit:
        raise Refused("too_large", f"the file is larger than {limit} bytes")
    filename = printable(filename).strip()
    if not filename:
        raise Refused("invalid", "filename must contain a printable character", field="filename")
    if key_id is not None:
        try:                            # before the bytes come, not after a long upload
            s.keys.room_today(key_id, s.key_defaults)
        except QuotaExceeded as e:
            raise Refused("rate_limited", str(e), retry_after_s=math.ceil(e.retry_after_s)) from None
    upload_id = new_token()             # 192 random bits: the capability to write
    s.uploads.create(upload_id, filename, size, key_id)
    path = _part_path(s, upload_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)                 # sparse: takes no space until written
    return {"upload_id": upload_id, "size": size, "max_chunk_bytes": MAX_CHUNK_BYTES}


def put_chunk(s: Services, upload_id: str, start: int, end: int, total: int,
              body: IO[bytes], declared_length: int | None) -> dict:
    """Stores bytes start..end (inclusive) of a file of `total` bytes."""
    upload = find(s, upload_id)
    if upload["status"] != "open":
        raise Refused("conflict", "this upload is already complete")
    if total != upload["size_bytes"]:
        raise Refused("invalid", f"Content-Range names size {total}; this upload is "
                                 f"{upload['size_bytes']} bytes")
    if start > end or end >= total:
        raise Refused("invalid", "Content-Range is outside the file")
    length = end - start + 1
    if length > MAX_CHUNK_BYTES:
        raise Refused("too_large", f"a chunk may carry at most {MAX_CHUNK_BYTES} bytes")
    if declared_length is not None and declared_length != length:
        raise Refused("invalid", f"the body has {declared_length} bytes; Content-Range says {length}")
    written = 0
    with open(_part_path(s, upload_id), "r+b") as f:
        f.seek(start)
        for block in iter(lambda: body.read(min(1 << 20, length - written)), b""):
            f.write(block)
            written += len(block)
            if written >= length:
                break
        if written != length:
            raise Refused("invalid", f"the body ended after {written} of {length} bytes; "
                                     "send the chunk again")
        f.flush()
        os.fsync(f.fileno())           # the range is recorded only once its bytes are on disk
    s.uploads.record_chunk(upload_id, start, end)
    return progress(s, upload)


def complete(s: Services, upload_id: str, sha256: str) -> str:
    """Turns a whole, verified upload into a job. Returns its token."""
    upload = find(s, upload_id)
    if upload["status"] == "completed":
        return upload["token"]
    state = progress(s, upload)
    if state["missing"]:
        raise Refused("conflict", "the upload is missing bytes " + ", ".join(state["missing"][:5]),
                      missing=state["missing"])
    if not s.uploads.start_completing(upload_id):
        raise Refused("conflict", "this upload is being completed by another request")
    try:
        token = _finish(s, upload, sha256.lower())
        s.uploads.finish(upload_id, token)
        return token
    finally:
        s.uploads.reopen(upload_id)          # no-op once finished


def _finish(s: Services, upload: Row, sha: str) -> str:
    part = _part_path(s, upload["id"])
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha:
        raise Refused("mismatch", "the SHA-256 of the received file does not match; "
                                  "check the chunks (GET this upload) and send them again")
    workdir = part.parent / upload["id"]
    workdir.mkdir(exist_ok=True)
    path = workdir / f"source{upload_suffix(upload['filename'])}"
    os.replace(part, path)                 # atomic: the upload becomes the source whole
    try:
        return submit_file(s, path, filename=upload["filename"], opts=SubmitOptions(), sha256=sha,
                           key_id=upload["api_key_id"])
    finally:
        if path.exists():
            os.replace(path, part)         # refused: leave the upload as it was
        shutil.rmtree(workdir, ignore_errors=True)
