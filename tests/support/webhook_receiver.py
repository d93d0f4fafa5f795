"""A webhook receiver for the tests, on a local port: it verifies each request with the
`standardwebhooks` package, answers as scripted (a status code, or "hang" until released),
and deduplicates by `webhook-id` as the specification asks receivers to."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int | None         # None: the request was left hanging


class WebhookReceiver:
    def __init__(self, secret: str | None, answers: list[int | str] | None = None, default: int = 200):
        self.secret = secret
        self.answers = list(answers or [])
        self.default = default
        self.received: list[Received] = []
        self.new_events: list[dict] = []         # verified, answered 2xx, id not seen before
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.release = threading.Event()         # lets "hang" requests go
        self.arrived = threading.Condition(self._lock)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> "WebhookReceiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout: float = 60) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= n, timeout):
                raise AssertionError(f"{len(self.received)} requests arrived, not {n}")

    def _answer(self, headers: dict[str, str], body: bytes) -> int | str:
        verified = False
        if self.secret is not None:
            try:
                payload = Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                payload = None
        with self._lock:
            answer = self.answers.pop(0) if self.answers else self.default
            code = answer if isinstance(answer, int) else None
            self.received.append(Received(headers, body, verified, code))
            if verified and code is not None and 200 <= code < 300 and headers["webhook-id"] not in self._seen:
                self._seen.add(headers["webhook-id"])
                self.new_events.append(payload)
            self.arrived.notify_all()
        return answer

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = receiver._answer({k.lower(): v for k, v in self.headers.items()}, body)
                if answer == "hang":
                    receiver.release.wait(120)
                    return
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        return Handler
