"""The HTTP edge against hostile clients, through a live `python -m server serve` with its
default workers and threads: slow bodies, oversize chunked bodies."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from scripts.live_server import LiveServer, live_server

SLOW_CLIENTS = 60
TRICKLE_S = 6.0          # how long the slow clients trickle (the test's bound)
PROBE_DEADLINE_S = 1.0   # the liveness requirement while they do


@pytest.fixture
def server(clean_db, data_dir):
    with live_server(data_dir, clean_db) as srv:
        yield srv


class SlowClient:
    """One connection that sends its request body a few bytes at a time. `kind` picks the
    framing: a JSON body with a Content-Length, a chunked JSON body, or a multipart upload."""

    JSON = b'{"video_url": "http://127.0.0.1:9/slow.mp4"}'

    def __init__(self, port: int, kind: str, pad: int = 600):
        self.kind = kind
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.pad = pad
        if kind == "chunked":
            head = ("POST /public/video HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")
            self.tail = self._chunk(self.JSON) + b"0\r\n\r\n"
        elif kind == "json":
            head = ("POST /public/video HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {pad + len(self.JSON)}\r\n\r\n")
            self.tail = self.JSON
        else:
            boundary = "slowboundary"
            self.tail = f"\r\n--{boundary}--\r\n".encode()
            opening = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                       f'filename="talk.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode()
            head = ("POST /public/video HTTP/1.1\r\nHost: x\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    f"Content-Length: {len(opening) + pad + len(self.tail)}\r\n\r\n")
            self.sock.sendall(head.encode() + opening)
            head = ""
        if head:
            self.sock.sendall(head.encode())
        self.sent = 0

    @staticmethod
    def _chunk(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data)

    def trickle(self, n: int = 8) -> None:
        n = min(n, self.pad - self.sent)
        if n > 0:
            piece = b" " * n if self.kind != "upload" else b"\0" * n
            self.sock.sendall(self._chunk(piece) if self.kind == "chunked" else piece)
            self.sent += n

    def finish(self) -> int:
        """Sends the rest of the body and returns the response's status."""
        self.trickle(self.pad)
        self.sock.sendall(self.tail)
        head = b""
        while b"\r\n" not in head:
            data = self.sock.recv(4096)
            if not data:
                break
            head += data
        self.sock.close()
        return int(head.split(b" ", 2)[1])


def timed_get(url: str, **params) -> float:
    """Seconds a GET took to answer 200; inf when it did not within 5 s."""
    started = time.monotonic()
    try:
        r = requests.get(url, params=params, timeout=5)
    except requests.RequestException:
        return float("inf")
    return time.monotonic() - started if r.status_code == 200 else float("inf")


def test_slow_bodies_do_not_hold_the_server(server: LiveServer):
    token = requests.post(server.url + "/public/video", timeout=5,
                          json={"video_url": "http://127.0.0.1:9/a.mp4"}).json()["token"]
    kinds = ("json", "chunked", "upload")
    clients = [SlowClient(server.port, kinds[i % 3]) for i in range(SLOW_CLIENTS)]
    health, status = [], []
    end = time.monotonic() + TRICKLE_S
    while time.monotonic() < end:
        for c in clients:
            c.trickle()
        health.append(timed_get(server.url + "/healthz"))
        status.append(timed_get(server.url + "/public/video/status", token=token))
        time.sleep(0.1)
    answers = [c.finish() for c in clients]

    assert max(health) < PROBE_DEADLINE_S, f"/healthz took up to {max(health):.2f} s"
    assert max(status) < PROBE_DEADLINE_S, f"status took up to {max(status):.2f} s"
    assert len(health) >= 10        # probed all through the trickle
    # The slow clients were served too, once their bodies were complete: the JSON ones
    # queued a job, the upload of zeros was refused as not media.
    assert [a for c, a in zip(clients, answers) if c.kind != "upload"] == [202] * 40
    assert {a for c, a in zip(clients, answers) if c.kind == "upload"} == {415}


def _send_chunked(sock: socket.socket, total: int, result: dict) -> None:
    """Streams `total` bytes of a JSON string as a chunked body, until the server stops
    reading (it answers 413 and closes)."""
    block = b" " * (1 << 20)
    try:
        sock.sendall(SlowClient._chunk(b'{"video_url": "http://127.0.0.1:9/a.mp4", "pad": "'))
        for _ in range(total // len(block)):
            sock.sendall(SlowClient._chunk(block))
            result["sent"] = result.get("sent", 0) + len(block)
        sock.sendall(SlowClient._chunk(b'"}') + b"0\r\n\r\n")
    except OSError as e:
        result["error"] = e


def _read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"the connection closed before a response: {data!r}"
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), json.loads(body[:length])


def worker_rss(server: LiveServer) -> int:
    return max(p.memory_info().rss for p in server.worker_processes())


def test_oversize_chunked_body_is_refused_as_it_arrives(server: LiveServer):
    rss_before = worker_rss(server)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"POST /public/video HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    sent: dict = {}
    sender = threading.Thread(target=_send_chunked, args=(sock, 150 << 20, sent))
    sender.start()
    status, body = _read_response(sock)
    sender.join(60)
    sock.close()
    assert status == 413
    assert body["error"] == "the request body is larger than 65536 bytes (MAX_REQUEST_BYTES)"
    growth = worker_rss(server) - rss_before
    assert growth < 20 << 20, f"a worker grew by {growth >> 20} MiB"
    # still serving, and nothing was queued by the refused request
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200


CLIP = bytes(range(256)) * (32 << 10)       # 8 MiB: streamed in blocks, not in one piece


def put_clip(server: LiveServer, data_dir) -> str:
    key = "videos/Tok3nTok3nTok3n/clips/00.mp4"
    path = data_dir / "media" / key
    path.parent.mkdir(parents=True)
    path.write_bytes(CLIP)
    return server.url + "/public/media/" + key


def test_large_files_stream_whole_and_by_range(server: LiveServer, data_dir):
    url = put_clip(server, data_dir)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and r.content == CLIP
    r = requests.get(url, headers={"Range": "bytes=5000000-5999999"}, timeout=30)
    assert r.status_code == 206 and r.content == CLIP[5_000_000:6_000_000]
    assert r.headers["Content-Range"] == f"bytes 5000000-5999999/{len(CLIP)}"
    r = requests.get(url, headers={"Range": "bytes=0-1,5-6"}, timeout=30)
    assert r.status_code == 200 and r.content == CLIP


def test_slow_readers_do_not_hold_the_server(server: LiveServer, data_dir):
    """Clients that ask for a clip and then read nothing: the response waits in the event
    loop, not in a thread."""
    url = put_clip(server, data_dir)
    path = url.split(str(server.port), 1)[1]
    readers = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)   # far less than a clip
        sock.settimeout(30)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        readers.append(sock)
    time.sleep(1.0)                          # every response is stuck on its reader by now
    probes = [timed_get(server.url + "/healthz") for _ in range(10)]
    assert max(probes) < PROBE_DEADLINE_S, f"/healthz took up to {max(probes):.2f} s"
    got = b""
    while len(got) < len(CLIP) + 100:        # one reader wakes up and reads its whole clip
        piece = readers[0].recv(1 << 20)
        if not piece:
            break
        got += piece
    assert got.split(b"\r\n\r\n", 1)[1] == CLIP
    for sock in readers:
        sock.close()


def test_sigterm_hands_back_the_leases_of_cron_work(clean_db, data_dir, tmp_path, tiny_video):
    """A cron call starts a download in the web process; the download stalls; SIGTERM.
    The lease comes back at once (the job is queued again, the attempt not counted), not
    when it expires."""
    import shutil

    import psycopg

    from scripts.faulty_server import FaultyServer
    from scripts.live_server import stop
    from tests.support import AUTH, INTERNAL_TOKEN

    shutil.copyfile(tiny_video, tmp_path / "v.mp4")
    with FaultyServer(tmp_path, stall_s=120) as source, \
            live_server(data_dir, clean_db, INTERNAL_API_TOKEN=INTERNAL_TOKEN, GUNICORN_WORKERS="1",
                        GUNICORN_GRACEFUL_TIMEOUT="10", LEASE_SECONDS="300") as srv:
        token = requests.post(srv.url + "/public/video", timeout=5,
                              json={"video_url": source.url("stall", "v.mp4")}).json()["token"]
        claimed = requests.post(srv.url + "/internal/perform-video-processing", headers=AUTH,
                                timeout=5).json()["claimed"]
        assert [c["token"] for c in claimed] == [token]
        deadline = time.monotonic() + 30
        while not any(m == "GET" for m, _, _ in source.requests):     # the download is under way
            assert time.monotonic() < deadline
            time.sleep(0.1)
        started = time.monotonic()
        out = stop(srv.proc)
        stopped_in = time.monotonic() - started
        assert srv.proc.returncode == 0, out
    with psycopg.connect(clean_db) as c:
        status, attempts, owner = c.execute(
            "select status, attempts, lease_owner from video_processing_queue").fetchone()
    assert (status, attempts, owner) == ("queued", 0, None), f"after {stopped_in:.1f} s"


def test_a_body_that_stops_arriving_is_dropped(clean_db, data_dir):
    with live_server(data_dir, clean_db, GUNICORN_TIMEOUT="2") as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        sock.sendall(b"POST /public/video HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"video_url\"")
        status, body = _read_response(sock)       # nothing more is sent
        sock.close()
    assert status == 408 and "stopped arriving" in body["error"]
