"""The HTTP edge: the Flask app served from an asyncio event loop, so that a slow client
costs a coroutine and a small buffer, never a thread.

gunicorn's `asgi` worker parses HTTP on its event loop and hands each request to `Edge`.
The edge reads the whole body there first, counting bytes against the endpoint's limit
(`http_policy.body_limit`, whatever the framing) and keeping at most `MEMORY_BYTES` of it
in memory (the rest goes to an unnamed temporary file under DATA_DIR/tmp). Only a complete
request is handed to a thread, which runs the WSGI app; the response goes back through the
loop, which waits for a slow reader without a thread. A large response (a clip) is read a
block at a time in a thread and sent from the loop.

On SIGTERM, `EdgeWorker` starts handing back the leases of the pipeline steps this process
runs for cron calls at once, while connections drain, so that both fit in
GUNICORN_GRACEFUL_TIMEOUT (after which the master kills the worker, and a lease it held
would only come back when it expires).

A body over its limit is not read further: the app sees a Content-Length above the limit
and answers 413 itself (one place words the error), then the edge discards what the
client still sends for up to `LINGER_S`, so that the client reads the 413 rather than a
connection reset.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Iterator
from urllib.parse import unquote_to_bytes

from flask import Flask
from gunicorn.workers.gasgi import ASGIWorker
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import FileWrapper

from server.api.http_policy import BodyLimit, body_limit

log = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

MEMORY_BYTES = 256 << 10      # body bytes kept in memory; beyond, a temporary file
WRITE_BATCH_BYTES = 1 << 20   # body bytes written to the temporary file at a time
RESPONSE_BLOCK_BYTES = 256 << 10
LINGER_S = 3.0                # how long a refused body is drained before the close
# Worker.shutdown waits up to 5 s past its grace for steps to notice; then a little slack
# before the master's SIGKILL at GUNICORN_GRACEFUL_TIMEOUT.
PIPELINE_STOP_MARGIN_S = 7.0


class BodyStalled(Exception):
    """The client stopped sending its body or went away."""


class BodyBuffer:
    """A request body as it arrives: in memory while small, then in a temporary file
    written in batches by the I/O threads (a disk write never blocks the loop)."""

    def __init__(self, tmp_dir: Path, io_pool: ThreadPoolExecutor):
        self.tmp_dir = tmp_dir
        self.io_pool = io_pool
        self.size = 0
        self._pending = bytearray()
        self._file: Any = None

    async def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._pending += chunk
        if self._file is None and len(self._pending) > MEMORY_BYTES:
            self._file = await self._io(tempfile.TemporaryFile, dir=self.tmp_dir)
        if self._file is not None and len(self._pending) >= WRITE_BATCH_BYTES:
            await self._flush()

    async def stream(self) -> io.BufferedIOBase:
        """The whole body, readable from its start."""
        if self._file is None:
            return io.BytesIO(bytes(self._pending))
        await self._flush()
        await self._io(self._file.seek, 0)
        return self._file

    async def close(self) -> None:
        if self._file is not None:
            await self._io(self._file.close)

    async def _flush(self) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        await self._io(self._file.write, data)

    def _io(self, fn, *args, **kwargs):
        return asyncio.get_running_loop().run_in_executor(self.io_pool, lambda: fn(*args, **kwargs))


def _file_wrapper(file, block_size: int = 8192) -> FileWrapper:
    """`wsgi.file_wrapper`: files (clips, pages) leave in large blocks, one thread hop each."""
    return FileWrapper(file, max(block_size, RESPONSE_BLOCK_BYTES))


def wsgi_environ(scope: dict, body: io.BufferedIOBase, length: int) -> dict:
    """The PEP 3333 environ of an ASGI HTTP request whose body has been read whole."""
    root = scope.get("root_path", "")
    # PEP 3333: PATH_INFO is the percent-decoded bytes of the path, as latin-1.
    raw = scope.get("raw_path")
    path = unquote_to_bytes(raw).decode("latin-1") if raw else scope["path"].encode("utf-8").decode("latin-1")
    root = root.encode("utf-8").decode("latin-1")
    if root and path.startswith(root):
        path = path[len(root):]
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root,
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(length),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": _file_wrapper,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = scope["client"][0], str(scope["client"][1])
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in ("content-length", "transfer-encoding"):
            continue        # the body is whole now: CONTENT_LENGTH above is its real size
        if "_" in name:
            continue        # X_Forwarded_For would pose as X-Forwarded-For in the environ
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            value = environ[key] + ("; " if name == "cookie" else ",") + value
        environ[key] = value
    return environ


def declared_length(scope: dict) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None     # gunicorn refuses a malformed Content-Length before us
    return None


class Edge:
    """ASGI application wrapping the Flask app."""

    def __init__(self, app: Flask):
        self.app = app
        self.cfg = app.extensions["services"].cfg
        self.tmp_dir = self.cfg.data_dir / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        # GUNICORN_THREADS threads run the app; the I/O threads only move bytes between
        # disk and the loop, so a busy app never delays a body being buffered or a clip
        # being streamed.
        self.app_pool = ThreadPoolExecutor(self.cfg.gunicorn_threads, thread_name_prefix="app")
        self.io_pool = ThreadPoolExecutor(4, thread_name_prefix="edge-io")
        self._pipeline_lock = threading.Lock()
        self._stopper: threading.Thread | None = None

    def stop_pipeline(self) -> None:
        """Lets the pipeline steps this process runs (for cron calls) finish within the
        grace, then hands back the leases of those still running. Safe to call again."""
        with self._pipeline_lock:
            pipeline = self.app.extensions.get("worker")
            if pipeline is not None:
                grace = max(1.0, self.cfg.gunicorn_graceful_timeout_s - PIPELINE_STOP_MARGIN_S)
                pipeline.shutdown(grace_s=grace)

    def stop_pipeline_soon(self) -> None:
        """`stop_pipeline` in the background, once."""
        if self._stopper is None:
            self._stopper = threading.Thread(target=self.stop_pipeline, name="pipeline-stop", daemon=True)
            self._stopper.start()

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:   # websocket: not served
            raise RuntimeError(f"unsupported ASGI scope {scope['type']}")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.app_pool.shutdown(wait=False)
                self.io_pool.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def limit_for(self, scope: dict) -> BodyLimit:
        """The body limit of the endpoint the request is routed to."""
        mimetype = ""
        for name, value in scope["headers"]:
            if name.lower() == b"content-type":
                mimetype = value.decode("latin-1").split(";", 1)[0].strip().lower()
        try:
            endpoint, _ = self.app.url_map.bind("localhost").match(scope["path"], scope["method"])
        except HTTPException:     # no such route (or a redirect): the app answers it, bodiless
            endpoint = None
        return body_limit(self.cfg, endpoint, mimetype)

    async def _http(self, scope: dict, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope)
        declared = declared_length(scope)
        buffer = BodyBuffer(self.tmp_dir, self.io_pool)
        try:
            if declared is not None and declared > limit.max_bytes:
                too_large = True
            else:
                too_large = not await self._read_body(receive, buffer, limit)
            if too_large:
                # The app refuses a Content-Length over the limit (http_policy), in words.
                seen = max(declared or 0, buffer.size, limit.max_bytes + 1)
                await self._respond(scope, receive, send, io.BytesIO(b""), seen)
                await self._linger(receive)
                return
            await self._respond(scope, receive, send, await buffer.stream(), buffer.size)
        except BodyStalled:
            await _send_json(send, 408, "the request body stopped arriving; send it again")
        finally:
            await buffer.close()

    async def _read_body(self, receive: Receive, buffer: BodyBuffer, limit: BodyLimit) -> bool:
        """Reads the body into `buffer`; False as soon as it outgrows the limit."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # The client left, or sent nothing for gunicorn's timeout (GUNICORN_TIMEOUT).
                raise BodyStalled()
            chunk = message.get("body", b"")
            if buffer.size + len(chunk) > limit.max_bytes:
                buffer.size += len(chunk)
                return False
            await buffer.add(chunk)
            if not message.get("more_body", False):
                return True

    async def _linger(self, receive: Receive) -> None:
        """Discard what the client still sends, for a while, before the connection closes."""
        async def drain() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect" or not message.get("more_body", False):
                    return
        try:
            await asyncio.wait_for(drain(), LINGER_S)
        except asyncio.TimeoutError:
            pass

    async def _respond(self, scope: dict, receive: Receive, send: Send,
                       body: io.BufferedIOBase, length: int) -> None:
        loop = asyncio.get_running_loop()
        environ = wsgi_environ(scope, body, length)
        status, headers, first, rest = await loop.run_in_executor(self.app_pool, self._call_app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if rest is None:
            await send({"type": "http.response.body", "body": first, "more_body": False})
            return
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            while not gone.done():
                block = await loop.run_in_executor(self.io_pool, next, rest.iterator, b"")
                if not block:
                    break
                await send({"type": "http.response.body", "body": block, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            await loop.run_in_executor(self.io_pool, rest.close)

    def _call_app(self, environ: dict) -> tuple[int, list, bytes, "_Rest | None"]:
        """Runs in an app thread: the status, headers, and the response's first blocks;
        `rest` holds the remainder of a large response, to be read as it is sent."""
        started: list = []

        def start_response(status: str, headers: list, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return _no_write

        result = self.app(environ, start_response)
        iterator = iter(result)
        first = bytearray()
        try:
            for block in iterator:
                first += block
                if len(first) >= RESPONSE_BLOCK_BYTES:
                    break
            else:
                _close(result)
                return _status(started), _headers(started), bytes(first), None
        except BaseException:
            _close(result)
            raise
        return _status(started), _headers(started), bytes(first), _Rest(result, iterator)


class EdgeWorker(ASGIWorker):
    """gunicorn's asyncio worker, which also starts stopping the pipeline on SIGTERM."""

    def handle_exit_signal(self) -> None:
        super().handle_exit_signal()
        edge = getattr(self, "asgi", None)
        if isinstance(edge, Edge):
            edge.stop_pipeline_soon()


class _Rest:
    """The unsent part of a large response."""

    def __init__(self, result: Iterable[bytes], iterator: Iterator[bytes]):
        self.result = result
        self.iterator = iterator

    def close(self) -> None:
        _close(self.result)


def _no_write(data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported; return an iterable")


def _close(result) -> None:
    if hasattr(result, "close"):
        result.close()


def _status(started: list) -> int:
    return int(started[0].split(" ", 1)[0])


def _headers(started: list) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in started[1]]


async def _disconnected(receive: Receive) -> None:
    """Returns when the client goes away (the body has been read by then)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
