"""Resumable uploads for files too large for one request (server/usecases/uploads.py).

    POST /public/uploads              {"filename", "size"}       -> 201 {"upload_id", ...}
    PUT  /public/uploads/<id>         Content-Range: bytes a-b/size, the chunk as the body
    GET  /public/uploads/<id>         what has arrived and what is missing (to resume)
    POST /public/uploads/<id>/complete {"sha256"}                -> 202 {"token"}
"""
from __future__ import annotations

import re

from flask import Blueprint, request

from server.api.auth import current_key_id
from server.api.contract import Body, operation, respond
from server import get_services as services
from server.api.schemas import (TOKEN_PATTERN, ChunkHeaders, CompleteUploadIn, CreateUploadIn,
                                TokenOut, UploadCreatedOut, UploadOut)
from server.usecases import Refused
from server.usecases import uploads

bp = Blueprint("uploads", __name__, url_prefix="/public/uploads")

_RANGE = re.compile(r"bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


def _known(upload_id: str) -> str:
    """Upload ids are tokens; anything else cannot name an upload."""
    if not re.fullmatch(TOKEN_PATTERN, upload_id):
        raise Refused("not_found", "no upload with this id")
    return upload_id


@bp.post("")
@operation("Start a resumable upload", json=CreateUploadIn,
           json_hint='send JSON {"filename": "talk.mp4", "size": <bytes>}',
           responses={201: Body("Created", UploadCreatedOut)}, errors=(400, 401, 413, 429),
           description="With an API key, the video the upload becomes is the key's; its quotas "
                       "are checked when the upload completes.")
def create_upload(body: CreateUploadIn):
    created = uploads.create(services(), body.filename, body.size, current_key_id())
    return respond(UploadCreatedOut(**created), 201)


@bp.get("/<upload_id>")
@operation("What has arrived, and which ranges are missing (to resume)",
           responses={200: Body("Progress", UploadOut)}, errors=(404,))
def upload_status(upload_id: str):
    s = services()
    return respond(UploadOut(**uploads.progress(s, uploads.find(s, _known(upload_id)))))


@bp.put("/<upload_id>")
@operation("Send one chunk; sending the same chunk again is harmless", headers=ChunkHeaders,
           raw_body="application/octet-stream",
           responses={200: Body("Stored", UploadOut)}, errors=(400, 404, 409, 413))
def put_chunk(upload_id: str, headers: ChunkHeaders):
    m = _RANGE.match(headers.content_range)
    assert m is not None                     # the header model checked the pattern
    start, end, total = map(int, m.groups())
    state = uploads.put_chunk(services(), _known(upload_id), start, end, total, request.stream,
                              request.content_length)
    return respond(UploadOut(**state))


@bp.post("/<upload_id>/complete")
@operation("Verify the whole file's SHA-256 and queue it like a submission", json=CompleteUploadIn,
           json_hint='send JSON {"sha256": "<64 hex digits of the whole file>"}',
           responses={202: Body("Queued", TokenOut)}, errors=(400, 404, 409, 413, 415, 422, 429))
def complete_upload(upload_id: str, body: CompleteUploadIn):
    return respond(TokenOut(token=uploads.complete(services(), _known(upload_id), body.sha256)), 202)
