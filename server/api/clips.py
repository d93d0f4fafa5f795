"""A clip rendered again, and the work taken away: one clip file under a name people can
file, or everything as one zip streamed as it is written (server/usecases/clips.py and
downloads.py)."""
from __future__ import annotations

from flask import Blueprint, Response, send_file

from server import get_services as services
from server.api.attachments import content_disposition
from server.api.contract import Body, operation, respond
from server.api.schemas import ClipFileQuery, ClipRenderIn, ClipRenderOut, TokenQuery
from server.core.media_types import content_type
from server.usecases import clips, downloads

bp = Blueprint("clips", __name__, url_prefix="/public/video")


@bp.post("/clips/render")
@operation("Render one clip again with new bounds, format or captions", json=ClipRenderIn,
           json_hint='send JSON {"token": "...", "index": 0, "start_s": 12.5, "end_s": 40}',
           description="Queues a job of kind clip_render. It reuses the stored source and "
                       "transcript (no download, transcription or clip finding); when it "
                       "completes, the new version replaces the clip (same index, new URLs). "
                       "Follow it in the video's status, clips[index].render; the video's own "
                       "status does not change.",
           responses={202: Body("Queued", ClipRenderOut)}, errors=(400, 404, 409, 429))
def render_clip(body: ClipRenderIn):
    style = body.caption_style.model_dump(exclude_none=True) if body.caption_style else None
    queued = clips.rerender(services(), body.token, clips.ClipEdit(
        body.index, body.start_s, body.end_s, body.format, body.captions, style))
    return respond(ClipRenderOut(token=queued.token, video_token=body.token, index=queued.index,
                                 status="queued", start_s=queued.start_s, end_s=queued.end_s), 202)


@bp.get("/clips/download")
@operation("One file of a clip as an attachment named <video>-<nn>-<title>.<ext>",
           query=ClipFileQuery,
           responses={200: Body("The file", other={"*/*": "binary"}),
                      206: Body("Part of the file", other={"*/*": "binary"}),
                      304: Body("Not modified"), 416: Body("Range not satisfiable")},
           errors=(400, 404, 429))
def clip_file(query: ClipFileQuery):
    path, name = downloads.clip_file(services(), query.token, query.index, query.file)
    return send_file(path, mimetype=content_type(name), as_attachment=True, download_name=name,
                     conditional=True, max_age=0)


@bp.get("/download")
@operation("Everything in one zip: every rendered clip with its thumbnail, captions and "
           "manifest, and the transcript (SRT, WebVTT, JSON); streamed as it is written",
           query=TokenQuery,
           responses={200: Body("The zip", other={"application/zip": "binary"})},
           errors=(400, 404, 409, 429))
def archive(query: TokenQuery):
    arch = downloads.archive(services(), query.token)
    return Response(downloads.stream_zip(arch), mimetype="application/zip",
                    headers={"Content-Disposition": content_disposition(arch.name),
                             "Cache-Control": "no-store"})
