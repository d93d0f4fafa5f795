"""A local HTTP media server that misbehaves on purpose, for download-resilience tests.

Serves the files of one directory with HTTP Range support, like a real web server, and
takes its faults from the first part of the path:

    /ok/<file>            serves the file
    /drop/<file>          cuts the connection once at each of `drop_at` (fractions of the
                          file), the first time a response crosses that point; a client
                          must resume with a Range request to get the rest
    /stall/<file>         sends the headers, then nothing for `stall_s` seconds
    /503/<file>           answers 503 with Retry-After: `retry_after` seconds
    /404/<file>           answers 404

Every request is recorded as (method, path, Range header) in `requests`, and every cut
as its byte offset in `cuts`.
"""
from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FaultyHandler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        owner = self.server.owner
        owner.record(self.command, self.path, self.headers.get("Range"))
        fault, _, name = self.path.lstrip("/").partition("/")
        path = owner.root / name.split("?")[0]
        if fault == "404" or not path.is_file() or fault not in ("ok", "drop", "stall", "503"):
            return self._status(404)
        if fault == "503":
            return self._status(503, {"Retry-After": str(owner.retry_after)})
        data = path.read_bytes()
        size, start, end = len(data), 0, len(data) - 1
        m = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size:
                return self._status(416, {"Content-Range": f"bytes */{size}"})
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if not body:
            return
        if fault == "stall":
            time.sleep(owner.stall_s)
            self.close_connection = True
            return
        cut = owner.take_drop(start, end, size) if fault == "drop" else None
        stop = cut if cut is not None else end + 1
        self.wfile.write(data[start:stop])
        self.wfile.flush()
        if cut is not None:
            self.close_connection = True    # the body is short of Content-Length

    def _status(self, code: int, headers: dict | None = None) -> None:
        payload = f'{{"error": "{code}"}}'.encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "FaultyServer"

    def handle_error(self, request, client_address):
        pass    # clients hanging up on a dropped or stalled response is the point here


class FaultyServer:
    def __init__(self, root: Path, drop_at: tuple[float, ...] = (0.3, 0.7), stall_s: float = 5.0,
                 retry_after: int = 7):
        self.root = Path(root)
        self.stall_s = stall_s
        self.retry_after = retry_after
        self.requests: list[tuple[str, str, str | None]] = []
        self.cuts: list[int] = []
        self._drops = sorted(drop_at)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), FaultyHandler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def record(self, method: str, path: str, rng: str | None) -> None:
        with self._lock:
            self.requests.append((method, path, rng))

    def take_drop(self, start: int, end: int, size: int) -> int | None:
        """The byte offset to cut this response at, if it crosses an unused drop point."""
        with self._lock:
            for frac in self._drops:
                at = int(size * frac)
                if start < at <= end:
                    self._drops.remove(frac)
                    self.cuts.append(at)
                    return at
        return None

    def url(self, fault: str, name: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/{fault}/{name}"

    def __enter__(self) -> "FaultyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
