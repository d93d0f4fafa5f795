from flask import Blueprint

from server.api.contract import Body, operation, respond
from server import get_services as services
from server.api.schemas import HealthOut

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation("Liveness and database reachability",
           responses={200: Body("Healthy", HealthOut), 503: Body("Database unreachable", HealthOut)})
def healthz():
    db = services().db
    try:
        assert db is not None
        db.ping()
    except Exception:
        return respond(HealthOut(ok=False, database="unreachable"), 503)
    return respond(HealthOut(ok=True, database="ok"))
