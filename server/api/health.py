from flask import Blueprint, jsonify

from server import get_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        get_db().one("health")
    except Exception:
        return jsonify(ok=False, database="unreachable"), 503
    return jsonify(ok=True, database="ok")
