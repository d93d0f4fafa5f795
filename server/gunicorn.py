"""gunicorn settings: `python -m server serve` uses this file; so can `gunicorn -c`."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Uploads of large files take a while; pipeline work runs in background threads and
# never blocks a request, so this only bounds slow clients.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
wsgi_app = "server.wsgi:app"


def worker_exit(server, worker):
    """Hand back the leases of steps this web worker was running, so they resume elsewhere."""
    app = getattr(worker, "wsgi", None)
    pipeline = getattr(app, "extensions", {}).get("worker") if app else None
    if pipeline is not None:
        pipeline.shutdown(grace_s=float(graceful_timeout) * 0.8)
