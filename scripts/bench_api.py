"""Requests per second and latency of submit and status through a live server, with and
without slow clients holding connections open. Prints figures; asserts nothing.

    .venv/bin/python -m scripts.bench_api [--url URL] [--clients 50] [--slow 50] [--seconds 10]

Without --url it starts `python -m server serve` from this checkout on a new DATA_DIR (its
own embedded Postgres, default workers and threads, rate limits off) and stops it after.
With --url it measures a server you started; turn its rate limits off
(RATE_LIMIT_SUBMIT_PER_MIN=0, RATE_LIMIT_STATUS_PER_MIN=0) and allow private URLs
(ALLOW_PRIVATE_URLS=1), or most answers are 429 or 400.

Each client is a keep-alive connection that sends its next request as soon as the last
one is answered; a request unanswered within --timeout counts as an error. A slow client
sends the headers of a JSON submission, then one byte of its body every 0.2 s, and never
finishes. The client side is one asyncio loop, so it costs little CPU next to the server.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMIT_BODY = json.dumps({"video_url": "http://127.0.0.1:9/bench.mp4"}).encode()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client(host: str, port: int, request: bytes, until: float, timeout_s: float,
                 stats: Stats) -> None:
    conn = None
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
            reader, writer = conn
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), timeout_s)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            stats.errors += 1
            if conn is not None:
                conn[1].close()
            conn = None
            continue
        stats.latencies.append(time.perf_counter() - started)
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
    if conn is not None:
        conn[1].close()


async def slow_client(host: str, port: int, stop: asyncio.Event) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /public/video HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 60000\r\n\r\n")
        while not stop.is_set():
            writer.write(b" ")
            await asyncio.sleep(0.2)
        writer.close()
    except OSError:
        pass


async def phase(host: str, port: int, request: bytes, clients: int, slow: int, seconds: float,
                timeout_s: float) -> Stats:
    stop = asyncio.Event()
    slow_tasks = [asyncio.create_task(slow_client(host, port, stop)) for _ in range(slow)]
    await asyncio.sleep(1.0 if slow else 0)          # let the slow clients settle in
    warm = Stats()
    await asyncio.gather(*(client(host, port, request, time.monotonic() + 1.0, timeout_s, warm)
                           for _ in range(clients)))
    stats = Stats()
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(host, port, request, until, timeout_s, stats) for _ in range(clients)))
    stop.set()
    await asyncio.gather(*slow_tasks)
    return stats


def http_request(method: str, path: str, host: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def submit_one(url: str) -> str:
    import requests
    r = requests.post(url + "/public/video", data=SUBMIT_BODY, timeout=10,
                      headers={"Content-Type": "application/json"})
    if r.status_code != 202:
        sys.exit(f"a submission got {r.status_code} {r.text.strip()}: is ALLOW_PRIVATE_URLS=1 set, "
                 "and are the rate limits off?")
    return r.json()["token"]


def report(name: str, clients: int, slow: int, stats: Stats, seconds: float) -> None:
    lat = sorted(stats.latencies)
    if lat:
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        figures = f"{len(lat) / seconds:8.1f} {p50:8.1f} {p99:8.1f}"
    else:
        figures = f"{0:8.1f} {'-':>8} {'-':>8}"
    codes = ",".join(f"{k}x{v}" for k, v in sorted(stats.statuses.items()))
    print(f"{name:<8} {clients:>7} {slow:>5} {figures} {stats.errors:>7}  {codes:<14} {load()}", flush=True)


def measure(url: str, clients: int, slow: int, seconds: float, timeout_s: float) -> None:
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    token = submit_one(url)
    requests_by_name = {
        "submit": http_request("POST", "/public/video", host, SUBMIT_BODY),
        "status": http_request("GET", f"/public/video/status?token={token}", host),
    }
    print(f"{'endpoint':<8} {'clients':>7} {'slow':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}  {'statuses':<14} load average (1, 5, 15 min)")
    for n_slow in (0, slow):
        for name, request in requests_by_name.items():
            stats = asyncio.run(phase(host, port, request, clients, n_slow, seconds, timeout_s))
            report(name, clients, n_slow, stats, seconds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running server (default: start one from this checkout)")
    p.add_argument("--clients", type=int, default=50, help="concurrent keep-alive clients")
    p.add_argument("--slow", type=int, default=50, help="slow clients in the second round")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    p.add_argument("--timeout", type=float, default=5.0, help="a request unanswered this long is an error")
    args = p.parse_args()
    if args.url:
        print(f"server: {args.url}; load average {load()}")
        measure(args.url.rstrip("/"), args.clients, args.slow, args.seconds, args.timeout)
        return
    from scripts.live_server import live_server
    from server.db.embedded import stopped_on_exit
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with stopped_on_exit(data_dir), live_server(data_dir) as srv:
            workers = len(srv.worker_processes())
            print(f"server: python -m server serve from {ROOT}, {workers} workers, "
                  f"GUNICORN_THREADS={os.environ.get('GUNICORN_THREADS', 4)}; "
                  f"load average {load()}")
            measure(srv.url, args.clients, args.slow, args.seconds, args.timeout)


if __name__ == "__main__":
    main()
