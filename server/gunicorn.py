"""gunicorn settings: `python -m server serve` uses this file; so can `gunicorn -c`.
Every value comes from `server.settings`, the one place settings are read."""
from server.settings import load_settings

_s = load_settings()
bind = _s.listen
workers = _s.gunicorn_workers
threads = _s.gunicorn_threads
worker_class = "gthread"
# Uploads of large files take a while; pipeline work runs in background threads and
# never blocks a request, so this only bounds slow clients.
timeout = _s.gunicorn_timeout_s
graceful_timeout = _s.gunicorn_graceful_timeout_s
accesslog = "-" if _s.access_log else None
wsgi_app = "server.wsgi:app"


def worker_exit(server, worker):
    """Hand back the leases of steps this web worker was running, so they resume elsewhere."""
    app = getattr(worker, "wsgi", None)
    pipeline = getattr(app, "extensions", {}).get("worker") if app else None
    if pipeline is not None:
        pipeline.shutdown(grace_s=float(graceful_timeout) * 0.8)
