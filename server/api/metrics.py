"""GET /metrics: Prometheus text format, computed from the database so that every web
process reports the same cluster-wide figures."""
from __future__ import annotations

from flask import Blueprint, Response

from server import get_db

bp = Blueprint("metrics", __name__)

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def render_metrics(db) -> str:
    out = ["# HELP clips_jobs Jobs by pipeline step and status.", "# TYPE clips_jobs gauge"]
    out += [f"clips_jobs{_labels(step=r['step'], status=r['status'])} {r['n']}"
            for r in db.all("metrics_jobs")]
    out += ["# HELP clips_step_failures_total Failed step attempts by cause and outcome.",
            "# TYPE clips_step_failures_total counter"]
    out += [f"clips_step_failures_total{_labels(step=r['step'], cause=r['cause'], outcome=r['outcome'])} {r['n']}"
            for r in db.all("metrics_failures")]
    out += ["# HELP clips_lease_rescues_total Jobs taken over after their worker's lease expired.",
            "# TYPE clips_lease_rescues_total counter",
            f"clips_lease_rescues_total {db.one('metrics_rescues')['n']}"]
    out += ["# HELP clips_step_duration_seconds Duration of successful step attempts.",
            "# TYPE clips_step_duration_seconds histogram"]
    totals = {r["step"]: r for r in db.all("metrics_duration_totals")}
    buckets: dict[str, list[str]] = {}
    for r in db.all("metrics_durations", buckets=[float(b) for b in DURATION_BUCKETS]):
        buckets.setdefault(r["step"], []).append(
            f"clips_step_duration_seconds_bucket{_labels(step=r['step'], le=format(r['le'], 'g'))} {r['n']}")
    for step, t in totals.items():
        out += buckets.get(step, [])
        out += [f"clips_step_duration_seconds_bucket{_labels(step=step, le='+Inf')} {t['n']}",
                f"clips_step_duration_seconds_sum{_labels(step=step)} {float(t['seconds']):.6f}",
                f"clips_step_duration_seconds_count{_labels(step=step)} {t['n']}"]
    return "\n".join(out) + "\n"


@bp.get("/metrics")
def metrics():
    return Response(render_metrics(get_db()), mimetype="text/plain; version=0.0.4")
