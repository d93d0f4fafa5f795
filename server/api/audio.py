"""Speech enhancement on its own: upload audio, get a token, fetch the cleaned WAV."""
from __future__ import annotations

import shutil
from pathlib import Path

from flask import Blueprint, jsonify, request, send_file

from server import audio_jobs, get_services
from server.adapters.media_probe import probe
from server.api.public import error
from server.core.failures import StepError
from server.submissions import new_token

bp = Blueprint("audio", __name__, url_prefix="/public/audio")

SUFFIXES = {".wav", ".flac", ".mp3"}


@bp.post("/enhance")
def submit():
    cfg = get_services().cfg
    f = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if f is None or not f.filename:
        return error("send a multipart form with a 'file' field (WAV, FLAC or MP3)")
    suffix = Path(f.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return error(f"the file must be .wav, .flac or .mp3, not {suffix or 'without an extension'}", 415)
    token = new_token()
    folder = audio_jobs.job_dir(cfg.data_dir, token)
    folder.mkdir(parents=True)
    upload = folder / f"input{suffix}"
    size = 0
    with open(upload, "wb") as out:
        for chunk in iter(lambda: f.stream.read(1 << 20), b""):
            size += len(chunk)
            if size > cfg.max_audio_enhance_bytes:
                shutil.rmtree(folder, ignore_errors=True)
                return error(f"the file is larger than {cfg.max_audio_enhance_bytes} bytes", 413)
            out.write(chunk)
    try:
        info = probe(upload)
    except StepError as e:
        shutil.rmtree(folder, ignore_errors=True)
        return error(f"the upload is not usable audio: {e}", 415)
    if info.duration_s > cfg.max_duration_s:
        shutil.rmtree(folder, ignore_errors=True)
        return error(f"the audio lasts {info.duration_s:.0f} s; the limit is {cfg.max_duration_s:.0f} s", 413)
    audio_jobs.start(folder, upload, cfg.render_threads)
    return jsonify(token=token, status="processing"), 202


@bp.get("/enhance")
def fetch():
    token = request.args.get("token", "")
    if not audio_jobs.TOKEN_RE.match(token):
        return error("the token query parameter is required")
    folder = audio_jobs.job_dir(get_services().cfg.data_dir, token)
    state, message = audio_jobs.state(folder)
    if state == "unknown":
        return error("no enhancement job with this token", 404)
    if state == "failed":
        return error(message, 422)
    if state == "processing":
        return jsonify(token=token, status="processing"), 202
    return send_file(folder / "enhanced.wav", mimetype="audio/wav", as_attachment=True,
                     download_name="enhanced.wav", conditional=True)
