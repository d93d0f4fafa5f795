"""Speech enhancement on its own: upload audio, get a token, fetch the cleaned WAV. The
job runs in the queue like a video's (server/usecases/audio.py)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request, send_file

from server.api.contract import Body, operation, respond
from server import get_services as services
from server.api.schemas import AudioFormIn, AudioJobOut, ErrorOut, TokenOut, TokenQuery
from server.usecases import Refused, audio
from server.usecases.submit import receive, staging_dir

bp = Blueprint("audio", __name__, url_prefix="/public/audio")


@bp.post("/enhance")
@operation("Speech enhancement on its own: upload WAV, FLAC or MP3", form=AudioFormIn,
           json_hint="send a multipart form with a 'file' field (WAV, FLAC or MP3)",
           responses={202: Body("Queued", TokenOut)}, errors=(400, 413, 415, 429))
def submit(body: AudioFormIn):
    s = services()
    f = request.files.get("file")
    if f is None or not f.filename:
        raise Refused("invalid", "send a multipart form with a 'file' field (WAV, FLAC or MP3)")
    suffix = Path(f.filename).suffix.lower()
    if suffix not in audio.SUFFIXES:      # before reading a byte of it
        raise Refused("unsupported", f"the file must be .wav, .flac or .mp3, not "
                                     f"{suffix or 'without an extension'}")
    with staging_dir(s) as folder:
        path = folder / f"input{suffix}"
        receive(f.stream, path, s.cfg.max_audio_enhance_bytes)
        token = audio.submit(s, path, f.filename)
    return respond(TokenOut(token=token), 202)


@bp.get("/enhance")
@operation("The cleaned WAV once ready; 202 with the job's state until then", query=TokenQuery,
           responses={200: Body("The enhanced audio", other={"audio/wav": "binary"}),
                      202: Body("Queued, running, or waiting to retry", AudioJobOut),
                      304: Body("Not modified"),
                      422: Body("The job failed; `error` and `failure_cause` say why", ErrorOut)},
           errors=(400, 404, 429))
def fetch(query: TokenQuery):
    state = audio.state(services(), query.token)
    job = state.job
    if job["status"] in ("failed", "cancelled"):
        return respond(ErrorOut(error=job["failure_details"] or job["status"],
                                failure_cause=job["failure_cause"]), 422)
    if state.output is None:
        return respond(AudioJobOut(
            token=query.token, status=job["status"], progress=round(float(job["progress"]), 3),
            attempts=job["attempts"], failure_cause=job["failure_cause"],
            retry_at=job["run_after"].isoformat() if job["status"] == "retrying" else None), 202)
    return send_file(state.output, mimetype="audio/wav", as_attachment=True,
                     download_name="enhanced.wav", conditional=True)
