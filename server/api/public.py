"""Public endpoints: submit a video, follow it, fetch its clips and transcript. Each view
only translates HTTP to a use case (server/usecases) and back."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, request, send_file

from server.api.attachments import content_disposition
from server.api.auth import current_key_id, required_key
from server.api.contract import Body, operation, respond
from server.api.presenters import brief_out, status_out
from server.api.schemas import (CancelIn, CancelOut, StatusesOut, StatusOut, SubmitFormIn,
                                SubmitHeaders, SubmitUrlIn, TokenOut, TokenQuery, TokensQuery,
                                TranscriptOut, TranscriptQuery, VideoListOut, VideoListQuery)
from server.core import names
from server.core.media_types import content_type
from server.core.subtitles import segment_cues, to_srt, to_vtt
from server import get_services as services
from server.usecases import Refused, videos
from server.usecases.submit import receive, staging_dir, submit_file, submit_url, upload_suffix

bp = Blueprint("public", __name__, url_prefix="/public")

SUBMIT_HINT = 'send JSON {"video_url": "https://..."} or a multipart form with a \'file\' field'


def base_url() -> str:
    return services().cfg.public_base_url or request.host_url


@bp.post("/video")
@operation("Submit a video by URL (JSON) or as a file (multipart)", json=SubmitUrlIn,
           form=SubmitFormIn, headers=SubmitHeaders, json_hint=SUBMIT_HINT,
           responses={202: Body("Queued", TokenOut)}, errors=(400, 401, 413, 415, 422, 429),
           description="With an API key the video is the key's (GET /public/videos lists it) and "
                       "counts against its quotas. The same Idempotency-Key with the same request "
                       "returns the first token; with a different request it is a 422.")
def submit_video(body: SubmitUrlIn | SubmitFormIn, headers: SubmitHeaders):
    s = services()
    opts = body.to_options(headers.idempotency_key)
    if isinstance(body, SubmitUrlIn):
        return respond(TokenOut(token=submit_url(s, body.video_url, opts, current_key_id())), 202)
    f = request.files.get("file")
    if f is None or not f.filename:
        raise Refused("invalid", "the multipart form needs a non-empty 'file' field")
    with staging_dir(s) as folder:
        path = folder / f"source{upload_suffix(f.filename)}"
        sha256, _ = receive(f.stream, path, s.cfg.max_upload_bytes)
        token = submit_file(s, path, filename=f.filename, opts=opts, sha256=sha256,
                            key_id=current_key_id())
    return respond(TokenOut(token=token), 202)


@bp.get("/video/status")
@operation("Where the job is: each step's state and progress, failure cause, clips",
           query=TokenQuery, responses={200: Body("The job", StatusOut)}, errors=(400, 404, 429))
def video_status(query: TokenQuery):
    state = videos.status(services(), query.token)
    return respond(status_out(state, services().storage, base_url()))


@bp.get("/video/statuses")
@operation("Several videos' states in one request (a page's history): status, step, "
           "progress, title, clips, re-renders in progress", query=TokensQuery,
           responses={200: Body("The videos", StatusesOut)}, errors=(400, 429))
def video_statuses(query: TokensQuery):
    found, unknown = videos.briefs(services(), query.tokens.split(","))
    return respond(StatusesOut(videos=[brief_out(r) for r in found], unknown=unknown))


@bp.get("/video/source")
@operation("The stored source video, to preview (supports Range); remote storage answers "
           "with a redirect to a signed URL", query=TokenQuery,
           responses={200: Body("The file", other={"*/*": "binary"}),
                      206: Body("Part of the file", other={"*/*": "binary"}),
                      302: Body("Where remote storage serves it"), 304: Body("Not modified"),
                      416: Body("Range not satisfiable")},
           errors=(400, 404, 429))
def source(query: TokenQuery):
    found = videos.source_media(services(), query.token)
    if not isinstance(found, Path):
        return redirect(found, 302)
    return send_file(found, mimetype=content_type(found), conditional=True, max_age=3600)


@bp.get("/videos")
@operation("The API key's videos, newest first, a page at a time", query=VideoListQuery,
           responses={200: Body("One page", VideoListOut)}, errors=(400, 401, 429), key_required=True,
           description="Needs `Authorization: Bearer <key>`. Pages are cut by id (keyset), so "
                       "videos submitted while you page through never shift a later page.")
def list_videos(query: VideoListQuery):
    s = services()
    page = videos.of_key(s, required_key().id, cursor=query.cursor, limit=query.limit,
                         statuses=query.statuses())
    base = base_url()
    return respond(VideoListOut(videos=[status_out(v, s.storage, base) for v in page.videos],
                                next_cursor=page.next_cursor))


@bp.post("/video/cancel")
@operation("Cancel a job that has not finished", json=CancelIn, json_hint='send JSON {"token": "..."}',
           responses={200: Body("Cancelled", CancelOut)}, errors=(400, 404, 409))
def cancel_video(body: CancelIn):
    videos.cancel(services(), body.token)
    return respond(CancelOut(token=body.token, status="cancelled"))


@bp.get("/video/transcript")
@operation("The transcript as JSON segments with word timings, SRT or WebVTT; there as soon "
           "as the transcribe step has run", query=TranscriptQuery,
           responses={200: Body("The transcript", TranscriptOut,
                                {"application/x-subrip": "text", "text/vtt": "text"})},
           errors=(400, 404, 429))
def transcript(query: TranscriptQuery):
    s = services()
    row = videos.transcript(s, query.token)
    if query.format == "srt":
        resp = Response(to_srt(segment_cues(row["segments"])), mimetype="application/x-subrip")
    elif query.format == "vtt":
        resp = Response(to_vtt(segment_cues(row["segments"])), mimetype="text/vtt")
    else:
        resp, _ = respond(TranscriptOut(language=row["language"], engine=row["engine"],
                                        model=row["model"], duration_s=row["duration_s"],
                                        segments=row["segments"]))
    title = (s.videos.status(query.token) or {}).get("title")
    resp.headers["Content-Disposition"] = content_disposition(
        names.transcript_file(title, query.format), attachment=query.download)
    return resp


@bp.get("/media/<path:key>")
@operation("A rendered clip, thumbnail, subtitle file or manifest (local storage); supports Range",
           responses={200: Body("The file", other={"*/*": "binary"}),
                      206: Body("Part of the file", other={"*/*": "binary"}),
                      304: Body("Not modified"), 416: Body("Range not satisfiable")},
           errors=(404,), uses_database=False)
def media(key: str):
    path = videos.media_file(services(), key)
    return send_file(path, mimetype=content_type(path),
                     conditional=True, max_age=3600)
