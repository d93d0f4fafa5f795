"""Downloads with yt-dlp's Python API: any site it knows, or a direct media URL."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import imageio_ffmpeg
import yt_dlp
import yt_dlp.globals

from server.adapters.connect_guard import guarded
from server.core.failures import StepError, classify_http_message, fatal, retryable
from server.core.model import MediaInfo, Progress

log = logging.getLogger(__name__)

# No plugins: code dropped into a plugin directory must not run inside the worker.
yt_dlp.globals.plugin_dirs.value = []

# Protocols yt-dlp downloads itself (through the connect guard). Others (rtmp, rtsp, ...)
# would be handed to ffmpeg, which opens its own connections, so they are refused.
SAFE_PROTOCOLS = {"http", "https", "m3u8_native", "http_dash_segments"}

_NETWORK_HINTS = ("timed out", "connection refused", "connection reset", "broken pipe",
                  "remote end closed", "incompleteread", "temporary failure in name resolution",
                  "network is unreachable", "eof occurred", "connection aborted")


class _Quiet:
    """yt-dlp logger that keeps its chatter out of our logs but remembers the last error."""

    def __init__(self):
        self.last_error = ""

    def debug(self, msg):
        pass

    def info(self, msg):
        pass

    def warning(self, msg):
        log.debug("yt-dlp: %s", msg)

    def error(self, msg):
        self.last_error = msg


# yt-dlp's words for a source that answered with no bytes: a file, not a network fault.
_EMPTY_HINTS = ("did not get any data blocks", "the downloaded file is empty")


def classify_download_error(text: str) -> StepError:
    lowered = text.lower()
    if "unsupported url" in lowered:
        return fatal("unsupported_url", text)
    if any(h in lowered for h in _EMPTY_HINTS):
        return fatal("corrupt_media", "the source sent an empty file")
    http = classify_http_message(text)
    if http is not None:
        return http
    if any(h in lowered for h in _NETWORK_HINTS):
        return retryable("network", text)
    if "private video" in lowered or "sign in" in lowered or "members-only" in lowered:
        return fatal("forbidden", text)
    return retryable("network", text)


def retry_after_s(exc: BaseException | None) -> float | None:
    """The Retry-After (in seconds) of the HTTP response behind a yt-dlp error, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
        if value and str(value).strip().isdigit():
            return float(value)
        inner = getattr(exc, "exc_info", None)
        exc = getattr(exc, "cause", None) or (inner[1] if inner else None) or exc.__cause__
    return None


class YtDlpDownloader:
    def __init__(self, max_bytes: int, max_duration_s: float, socket_timeout_s: float = 30,
                 address_policy=None, resolve=None):
        """address_policy(ip) -> bool decides which addresses downloads may connect to
        (None: any, for ALLOW_PRIVATE_URLS); resolve replaces DNS in tests."""
        self.address_policy = address_policy
        self.resolve = resolve
        self.max_bytes = max_bytes
        self.max_duration_s = max_duration_s
        self.socket_timeout_s = socket_timeout_s

    def _options(self, workdir: Path, logger: _Quiet, hooks: list) -> dict:
        return {
            "outtmpl": str(workdir / "source.%(ext)s"),
            # Best quality up to 1080p (clips are for phones), merged into one mp4.
            "format": "bv*[height<=1080]+ba/b[height<=1080]/bv*+ba/b",
            "merge_output_format": "mp4",
            "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
            "noplaylist": True,
            "max_filesize": self.max_bytes,
            "socket_timeout": self.socket_timeout_s,
            "retries": 5,
            "fragment_retries": 5,
            "continuedl": True,         # resume a .part file left by an earlier attempt
            "noprogress": True,
            "logger": logger,
            "progress_hooks": hooks,
            "ignoreconfig": True,
            "no_color": True,
            "enable_file_urls": False,  # never read local files
            "proxy": "",                # no proxy from the environment: connect directly
            "hls_prefer_native": True,
            "concurrent_fragment_downloads": 1,  # fragments in this thread, under the guard
        }

    def download(self, url: str, workdir: Path, progress: Progress) -> MediaInfo:
        workdir.mkdir(parents=True, exist_ok=True)
        logger = _Quiet()

        def hook(d: dict) -> None:
            total = d.get("total_bytes") or d.get("total_bytes_estimate")
            if d.get("status") == "downloading" and total:
                if total > self.max_bytes:
                    raise fatal("too_large", f"the video is {total} bytes; the limit is {self.max_bytes}")
                progress(min(d.get("downloaded_bytes", 0) / total, 0.99))

        with self._guard() as guard:
            try:
                info = self._fetch(url, workdir, logger, hook)
            except yt_dlp.utils.DownloadError as e:
                if guard["refused"]:
                    raise fatal("private_url", guard["refused"]) from e
                inner = e.exc_info[1] if e.exc_info else None
                if isinstance(inner, StepError):
                    raise inner from e
                err = classify_download_error(str(e) or logger.last_error)
                if err.retryable:
                    err.retry_after_s = retry_after_s(e)
                raise err from e
        files = [p for p in workdir.iterdir()
                 if p.name.startswith("source.") and not p.name.endswith((".part", ".ytdl"))]
        if not files:
            if "max-filesize" in logger.last_error or "larger than" in logger.last_error:
                raise fatal("too_large", logger.last_error)
            raise retryable("network", logger.last_error or "yt-dlp produced no file")
        path = max(files, key=lambda p: p.stat().st_size)
        if path.stat().st_size > self.max_bytes:
            raise fatal("too_large", f"the video is {path.stat().st_size} bytes; the limit is {self.max_bytes}")
        return MediaInfo(path=path, title=info.get("title"), duration_s=float(info.get("duration") or 0),
                         bytes=path.stat().st_size, width=info.get("width"), height=info.get("height"))

    def _guard(self):
        if self.address_policy is None:
            return contextlib.nullcontext({"refused": None})
        if self.resolve is None:
            return guarded(self.address_policy)
        return guarded(self.address_policy, self.resolve)

    def _fetch(self, url: str, workdir: Path, logger: _Quiet, hook) -> dict:
        with yt_dlp.YoutubeDL(self._options(workdir, logger, [hook])) as ydl:
            info = ydl.extract_info(url, download=False)
            if info.get("_type") == "playlist":
                raise fatal("unsupported_url", "playlists are not accepted; submit one video")
            self._check_limits(info)
            protocols = {f.get("protocol") for f in info.get("requested_formats") or [info]}
            if not protocols <= SAFE_PROTOCOLS:
                raise fatal("unsupported_url", f"the stream protocol {sorted(map(str, protocols))} is not accepted")
            return ydl.process_ie_result(info, download=True)

    def _check_limits(self, info: dict) -> None:
        duration = info.get("duration")
        if duration and duration > self.max_duration_s:
            raise fatal("too_long", f"the video lasts {duration:.0f} s; the limit is {self.max_duration_s:.0f} s")
        size = info.get("filesize") or info.get("filesize_approx")
        if size and size > self.max_bytes:
            raise fatal("too_large", f"the video is {size} bytes; the limit is {self.max_bytes}")
