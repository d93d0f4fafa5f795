"""gunicorn settings: `python -m server serve` uses this file; so can `gunicorn -c`.
Every value comes from `server.settings`, the one place settings are read.

The `asgi` worker runs an asyncio event loop: it parses requests and reads bodies there,
so a client that sends slowly holds a coroutine, not a thread (`server/edge.py`). The
Flask app runs in GUNICORN_THREADS threads per worker, on complete requests only."""
from server.settings import load_settings

_s = load_settings()
bind = _s.listen
workers = _s.gunicorn_workers
worker_class = "server.edge.EdgeWorker"     # gunicorn's asgi worker, see server/edge.py
# The worker's heartbeat; also how long a request body may pause before it is dropped.
timeout = _s.gunicorn_timeout_s
graceful_timeout = _s.gunicorn_graceful_timeout_s
accesslog = "-" if _s.access_log else None
wsgi_app = "server.asgi:app"
# gunicorn's control socket sits at one path per user ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one host would take it from each other; nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Start the embedded Postgres (DATABASE_URL unset) once, in the master, and migrate,
    waiting for a database that is not up yet (DB_STARTUP_WAIT_SECONDS), before any worker
    forks: the workers then find it running and migrated instead of all creating it at once,
    and the wait is not cut short by gunicorn's worker timeout."""
    from server.db import resolve_database_url
    from server.db.migrate import migrate_when_reachable
    migrate_when_reachable(resolve_database_url(_s.database_url, _s.data_dir), _s.db_startup_wait_s)


def worker_exit(server, worker):
    """Hand back the leases of steps this web worker was running, so they resume elsewhere.
    SIGTERM started this already (EdgeWorker); this waits for it, and stops a pipeline a
    cron call may have started while connections drained."""
    edge = getattr(worker, "asgi", None)      # absent in the master, which calls this too
    if edge is not None:
        edge.stop_pipeline()
