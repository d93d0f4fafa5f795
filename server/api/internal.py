"""Cron-triggered processing. Answers at once; the claimed steps run in this process."""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from server import get_services, get_worker

bp = Blueprint("internal", __name__, url_prefix="/internal")


def _authorised() -> bool:
    expected = get_services().cfg.internal_api_token
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    # compare_digest takes the same time whatever the first differing byte is.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@bp.post("/perform-video-processing")
def perform_video_processing():
    if not _authorised():
        return jsonify(error="a valid 'Authorization: Bearer <INTERNAL_API_TOKEN>' header is required"), 401
    body = request.get_json(silent=True) or {}
    limit = body.get("limit") if isinstance(body, dict) else None
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        return jsonify(error="limit must be a positive integer"), 400
    worker = get_worker()
    jobs = worker.claim_and_dispatch(limit)
    return jsonify(claimed=[{"token": j.token, "step": j.pipeline_step, "attempt": j.attempts}
                            for j in jobs],
                   free_slots=worker.free_slots()), 202
