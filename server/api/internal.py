"""Cron-triggered processing. Answers at once; the claimed steps run in this process."""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from server.api.contract import Body, operation, respond
from server import get_services as services, get_worker
from server.api.schemas import ClaimedOut, ProcessIn, ProcessOut

bp = Blueprint("internal", __name__, url_prefix="/internal")


def _authorised() -> bool:
    expected = services().cfg.internal_api_token
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    # compare_digest takes the same time whatever the first differing byte is.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def authorised(view):
    """The bearer check comes before the body is even parsed."""
    def check(**kw):
        if not _authorised():
            return jsonify(error="a valid 'Authorization: Bearer <INTERNAL_API_TOKEN>' header is required"), 401
        return view(**kw)
    check.__name__ = view.__name__
    check.__dict__.update(view.__dict__)
    return check


@bp.post("/perform-video-processing")
@authorised
@operation("Claim due jobs and run them in this process (for pg_cron or cron.sh)",
           json=ProcessIn, json_optional=True, json_hint='send JSON {} or {"limit": <n>}',
           responses={202: Body("Claimed; the steps run on after the answer", ProcessOut)},
           errors=(400, 401))
def perform_video_processing(body: ProcessIn):
    worker = get_worker()
    jobs = worker.claim_and_dispatch(body.limit)
    return respond(ProcessOut(claimed=[ClaimedOut(token=j.token, step=j.pipeline_step, attempt=j.attempts)
                                       for j in jobs], free_slots=worker.free_slots()), 202)
