"""Video-to-clips pipeline server."""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from server.settings import Settings
from server.db import Database, resolve_database_url
from server.db.migrate import migrate_when_reachable
from server.logs import setup_logging
from server.services import Services

log = logging.getLogger(__name__)


def open_services(cfg: Settings, *, run_migrations: bool = True) -> Services:
    url = resolve_database_url(cfg.database_url, cfg.data_dir)
    if run_migrations:
        migrate_when_reachable(url, cfg.db_startup_wait_s)
    db = Database(url, pool_size=cfg.db_pool_size, transaction_pooler=cfg.db_transaction_pooler)
    return Services(cfg, db)


def create_app(config: dict | Settings | None = None) -> Flask:
    cfg = config if isinstance(config, Settings) else Settings.with_overrides(config)
    setup_logging(cfg.log_level)
    app = Flask(__name__)
    # No app-wide cap: each request gets its endpoint's own (http_policy.body_limit).
    app.config["MAX_CONTENT_LENGTH"] = None
    app.extensions["services"] = open_services(cfg)
    app.extensions["worker_lock"] = threading.Lock()

    from server import api
    from server.api import http_policy
    http_policy.install(app, cfg)
    api.register(app)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        # Keep the headers the status needs (Content-Range on a 416, Allow on a 405).
        headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
        return jsonify(error=e.description or e.name), e.code, headers

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        # Never leak a stack trace or a path to a client; the log has the details.
        log.exception("unhandled error")
        return jsonify(error="internal server error"), 500

    return app


def get_services() -> Services:
    return current_app.extensions["services"]


def get_worker():
    """The web process's own worker, made on first use (after gunicorn forked)."""
    ext = current_app.extensions
    with ext["worker_lock"]:
        if "worker" not in ext:
            from server.worker import Worker
            s = get_services()
            ext["worker"] = Worker(s, concurrency=s.cfg.internal_concurrency)
        return ext["worker"]
