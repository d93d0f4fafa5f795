"""Public endpoints: submit a video, follow it, fetch its clips and transcript."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from flask import Blueprint, Response, jsonify, request, send_file

from server import get_db, get_services
from server.adapters.media_probe import check_complete, probe
from server.api.presenters import status_view
from server.core.media_types import content_type
from server.core.urls import UnsafeUrl, check_url
from server.clip_options import parse_options
from server.core.failures import StepError
from server.submissions import enqueue, new_token
from server.core.subtitles import segment_cues, to_srt, to_vtt

bp = Blueprint("public", __name__, url_prefix="/public")

MAX_IDEMPOTENCY_KEY = 200
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,100}\Z")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """User-supplied names without control characters (Postgres refuses NUL in text)."""
    return _UNPRINTABLE.sub("", text)


def error(message: str, code: int = 400, **extra):
    return jsonify(error=message, **extra), code


def _base_url() -> str:
    return get_services().cfg.public_base_url or request.host_url


def _priority(raw) -> int:
    try:
        value = int(raw or 0)
    except (TypeError, ValueError):
        raise ValueError("priority must be an integer") from None
    if not -100 <= value <= 100:
        raise ValueError("priority must be between -100 and 100")
    return value


def _force(raw) -> bool:
    """`force: true` redoes the download and transcript even when an earlier submission
    of the same source has them."""
    if not isinstance(raw, bool):
        raise ValueError("force must be true or false")
    return raw


def _enqueue(**job):
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        return None, error(f"Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY} characters")
    if key is not None and printable(key) != key:
        return None, error("Idempotency-Key must not contain control characters")
    return enqueue(get_services(), idempotency_key=key, **job), None


@bp.post("/video")
def submit_video():
    if request.mimetype == "multipart/form-data":
        return _submit_upload()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error("send JSON {\"video_url\": \"https://...\"} or a multipart form with a 'file' field")
    if "video_url" not in body:
        return error("video_url is required")
    try:
        url = check_url(body["video_url"], allow_private=get_services().cfg.allow_private_urls)
        priority = _priority(body.get("priority"))
        force = _force(body.get("force", False))
        options = parse_options(body, get_services().cfg).to_dict()
    except (UnsafeUrl, ValueError) as e:
        return error(str(e))
    token, err = _enqueue(token=new_token(), kind="url", url=body["video_url"].strip(),
                          upload_key=None, fingerprint=url, title=None, priority=priority,
                          force=force, options=options)
    return err or (jsonify(token=token), 202)


def _submit_upload():
    s = get_services()
    f = request.files.get("file")
    if f is None or not f.filename:
        return error("the multipart form needs a non-empty 'file' field")
    try:
        priority = _priority(request.form.get("priority"))
        force = _force({"true": True, "1": True, "false": False, "0": False}.get(
            request.form.get("force", "false").lower(), request.form.get("force")))
        options = parse_options(request.form, s.cfg).to_dict()
    except ValueError as e:
        return error(str(e))
    token = new_token()
    tmpdir = s.cfg.data_dir / "uploads" / token
    tmpdir.mkdir(parents=True, exist_ok=True)
    path = tmpdir / f"source{upload_suffix(f.filename)}"
    try:
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as out:
            for chunk in iter(lambda: f.stream.read(1 << 20), b""):
                size += len(chunk)
                if size > s.cfg.max_upload_bytes:
                    return error(f"the file is larger than {s.cfg.max_upload_bytes} bytes", 413)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            return error("the uploaded file is empty")
        return accept_file(path, token=token, sha256=digest.hexdigest(), filename=f.filename,
                           priority=priority, force=force,
                           options=options)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def upload_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()[:8]
    return suffix if suffix.isascii() and suffix[1:].isalnum() else ".bin"


def accept_file(path: Path, *, token: str, sha256: str, filename: str,
                priority: int = 0, force: bool = False, options: dict | None = None):
    """A complete uploaded file: refuse what is not a video within the limits, else store
    it and queue it. Returns the response."""
    s = get_services()
    try:
        info = probe(path)               # refuse what is not media before queueing it
        check_complete(path, info.duration_s)
    except StepError as e:
        return error(f"the upload is not a usable video: {e}", 415)
    if info.duration_s > s.cfg.max_duration_s:
        return error(f"the video lasts {info.duration_s:.0f} s; the limit is {s.cfg.max_duration_s:.0f} s", 413)
    key = f"uploads/{token}/{path.name}"
    s.storage.put(key, path, content_type(key))
    token, err = _enqueue(token=token, kind="upload", url=None, upload_key=key,
                          fingerprint="sha256:" + sha256, title=printable(Path(filename).stem)[:200],
                          priority=priority, force=force,
                          options=options if options is not None else parse_options({}, s.cfg).to_dict())
    return err or (jsonify(token=token), 202)


def is_token(value) -> bool:
    """Tokens and upload ids are URL-safe base64; anything else cannot name a job."""
    return isinstance(value, str) and bool(TOKEN_RE.match(value))


def _token_arg():
    token = request.args.get("token", "")
    if not token:
        return None, error("the token query parameter is required")
    if not is_token(token):
        return None, error("the token is malformed (letters, digits, - and _ only, at most 100)")
    return token, None


@bp.get("/video/status")
def video_status():
    token, err = _token_arg()
    if err:
        return err
    db = get_db()
    row = db.one("status_by_token", token=token)
    if row is None:
        return error("no video with this token", 404)
    runs = db.all("step_runs_for_video", video_id=row["video_id"])
    clips = db.all("clips_for_video", video_id=row["video_id"])
    return jsonify(status_view(row, runs, clips, get_services().storage, _base_url()))


@bp.post("/video/cancel")
def cancel_video():
    body = request.get_json(silent=True) or {}
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return error("send JSON {\"token\": \"...\"}")
    if not is_token(token):
        return error("no video with this token", 404)
    if get_db().one("cancel", token=token):
        return jsonify(token=token, status="cancelled")
    if get_db().one("status_by_token", token=token) is None:
        return error("no video with this token", 404)
    return error("the job has already finished and cannot be cancelled", 409)


@bp.get("/video/transcript")
def transcript():
    token, err = _token_arg()
    if err:
        return err
    row = get_db().one("transcript_by_token", token=token)
    if row is None:
        return error("no transcript for this token (unknown token, or not transcribed yet)", 404)
    fmt = request.args.get("format", "json")
    if fmt == "srt":
        return Response(to_srt(segment_cues(row["segments"])), mimetype="application/x-subrip")
    if fmt == "vtt":
        return Response(to_vtt(segment_cues(row["segments"])), mimetype="text/vtt")
    if fmt != "json":
        return error("format must be json, srt or vtt")
    return jsonify(language=row["language"], engine=row["engine"], model=row["model"],
                   duration_s=row["duration_s"], segments=row["segments"])


@bp.get("/media/<path:key>")
def media(key: str):
    """Local storage only (Supabase Storage hands out signed URLs instead). Keys contain
    the video's unguessable token, so the URL itself is the capability."""
    if get_services().cfg.storage_backend != "local" or not key.startswith("videos/") or ".." in key:
        return error("not found", 404)
    try:
        path = get_services().storage.local_path(key)
    except (FileNotFoundError, ValueError, AttributeError):
        return error("not found", 404)
    return send_file(path, mimetype=content_type(path),
                     conditional=True, max_age=3600)
