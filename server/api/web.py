"""The web page: static files from server/web, no build step and nothing from a CDN."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

WEB_DIR = Path(__file__).resolve().parents[1] / "web"

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    return send_from_directory(WEB_DIR, "index.html", max_age=0)


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(WEB_DIR, "favicon.ico", mimetype="image/x-icon", max_age=86400)


@bp.get("/static/<name>")
def static_file(name: str):
    # send_from_directory refuses names that leave WEB_DIR
    return send_from_directory(WEB_DIR, name, max_age=300)
