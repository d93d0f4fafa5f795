import math

from flask import Blueprint

from server.api.contract import Body, operation, respond
from server import get_services as services
from server.api.schemas import HealthOut
from server.core.failures import StoreUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation("Liveness and database reachability",
           responses={200: Body("Healthy", HealthOut),
                      503: Body("Database unreachable; see Retry-After", HealthOut)})
def healthz():
    db = services().db
    try:
        assert db is not None
        db.ping()
    except StoreUnavailable as e:
        resp, status = respond(HealthOut(ok=False, database="unreachable"), 503)
        resp.headers["Retry-After"] = str(math.ceil(e.retry_after_s))
        return resp, status
    except Exception:
        return respond(HealthOut(ok=False, database="unreachable"), 503)
    return respond(HealthOut(ok=True, database="ok"))
