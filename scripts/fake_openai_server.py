"""A local stand-in for the OpenAI chat completions API, for tests and the evaluation.

It speaks POST /v1/chat/completions well enough for the openai SDK (bearer auth,
`response_format: json_schema`, `usage`, OpenAI-shaped errors) and answers with a small
deterministic "model" that reads the numbered sentences in the prompt and proposes real
spans, so answers depend on the transcript rather than on the test.

Failures are scripted: `server.script("429:2", "500", "malformed", "schema", "slow:3")`
makes the next five requests answer, in order, 429 with Retry-After 2, 500, text that is
not JSON, JSON that breaks the schema, and a correct answer after 3 s; after the script
runs out every request is answered normally. Any other "NNN" or "NNN:retry_after" gives
that HTTP status.

Run alone: `python -m scripts.fake_openai_server [port]`, then
OPENAI_API_KEY=anything OPENAI_BASE_URL=http://127.0.0.1:<port>/v1.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LINE = re.compile(r"^\[(\d+) @ ([\d.]+)s\] (.*)$", re.M)
CANDIDATE = re.compile(r"^- sentences (\d+)-(\d+) \(score (\d+)\)", re.M)
WORD = re.compile(r"[a-z][a-z']{3,}")
SUBJECT = re.compile(r"^Subject asked for: (.*)$", re.M)
PASSAGE_S = 35.0   # the fake model's idea of a good clip length


# --- the fake model --------------------------------------------------------------------------

def _sentences(text: str) -> list[tuple[int, float, str]]:
    return [(int(i), float(t), s) for i, t, s in LINE.findall(text)]


def _classify(text: str) -> dict:
    lowered = text.lower()
    cues = {"tutorial": len(re.findall(r"\b(click|install|step|press|type)\b", lowered)),
            "podcast": lowered.count("?") // 2,
            "news": len(re.findall(r"\b(announced|officials|reported)\b", lowered))}
    label, hits = max(cues.items(), key=lambda kv: kv[1])
    words = Counter(w for w in WORD.findall(lowered) if len(w) > 6)
    return {"content_type": label if hits >= 3 else "lecture",
            "confidence": 0.8 if hits >= 3 else 0.6,
            "rationale": f"Fake model: {hits} {label} cue(s).",
            "topics": [w for w, _ in words.most_common(5)], "language": "en"}


def _passages(lines: list[tuple[int, float, str]]) -> list[tuple[int, int, int]]:
    """Consecutive runs of about PASSAGE_S, starting a new run at a question when the
    current one is long enough; scored higher when they contain a question."""
    runs, start = [], 0
    for k in range(1, len(lines) + 1):
        duration = (lines[k][1] if k < len(lines) else lines[-1][1] + 5) - lines[start][1]
        at_question = k < len(lines) and lines[k][2].endswith("?") and duration >= 15
        if k == len(lines) or duration >= PASSAGE_S or at_question:
            run = lines[start:k]
            score = 55 + 25 * any(s.endswith("?") for _, _, s in run) + min(15, len(run) * 2)
            runs.append((run[0][0], run[-1][0], score))
            start = k
    return runs


def _subject_words(user: str) -> set[str]:
    """The words of the subject the viewer asked for (prompts clip_windows.v2 and
    clip_refine.v3 put it on its own line before the transcript)."""
    found = SUBJECT.search(user)
    return {w[:5] for w in WORD.findall(found.group(1).lower())} if found else set()


def _about(texts: list[str], subject: set[str]) -> bool:
    """The fake model's idea of a passage about the subject: it says one of its words (by
    their first five letters, so "tide" finds "tides")."""
    return bool(subject) and any(w[:5] in subject for s in texts for w in WORD.findall(s.lower()))


def _window_scores(user: str) -> dict:
    lines, subject = _sentences(user), _subject_words(user)
    texts = {i: s for i, _, s in lines}
    # passages about the subject asked for are proposed first, scored above the others
    runs = [(a, b, min(100, score + 30) if _about([texts[k] for k in range(a, b + 1)], subject)
             else score) for a, b, score in _passages(lines)]
    runs = sorted(runs, key=lambda r: (-r[2], r[0]))[:4]
    return {"window_score": round(sum(r[2] for r in runs) / len(runs)) if runs else 0,
            "candidates": [{"start_sentence": a, "end_sentence": b, "score": s,
                            "why": "a passage with a question" if s >= 80 else "a passage"}
                           for a, b, s in runs]}


def _refine(user: str) -> dict:
    """Clips as proposed, written up as prompt clip_refine.v3 asks: the title is the question
    the clip asks, or its whole first sentence (which may be too long: the analyzer must
    hold it to the title rules); the hook is the opening line; the reason names the
    passage's most frequent long words and its question; on_topic says whether it speaks
    of the subject asked for."""
    texts, subject = {i: s for i, _, s in _sentences(user)}, _subject_words(user)
    clips = []
    for a, b, score in CANDIDATE.findall(user):
        span = [texts[k] for k in range(int(a), int(b) + 1) if k in texts]
        question = next((s for s in span if s.endswith("?")), None)
        words = Counter(w for s in span for w in WORD.findall(s.lower()) if len(w) > 6)
        topic = " and ".join(w for w, _ in words.most_common(2)) or "this passage"
        found = f'answers "{question}"' if question else f"sentences {a}-{b} make one point"
        clips.append({"start_sentence": int(a), "end_sentence": int(b),
                      "title": (question or span[0]).rstrip("."), "hook": span[0],
                      "reason": f"About {topic}: {found}.", "score": int(score),
                      "on_topic": _about(span, subject)})
    return {"clips": clips}


ANSWERS = {"classification": _classify, "window_scores": _window_scores,
           "clip_refinement": _refine}

# Valid JSON that breaks each schema (a required field missing, a wrong type).
SCHEMA_BREAKERS = {"classification": {"content_type": "lecture", "confidence": "high"},
                   "window_scores": {"candidates": [{"start_sentence": "zero"}]},
                   "clip_refinement": {"clips": [{"title": "no boundaries"}]}}


def answer(body: dict) -> tuple[str, str]:
    """(schema name, JSON text) for a chat completion request."""
    name = body["response_format"]["json_schema"]["name"]
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return name, json.dumps(ANSWERS[name](user))


# --- the HTTP side ---------------------------------------------------------------------------

class FakeOpenAI:
    def __init__(self, port: int = 0):
        self.behaviours: deque[str] = deque()
        self.requests: list[dict] = []     # {"schema", "behaviour"} per request, in order
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def script(self, *behaviours: str) -> None:
        with self.lock:
            self.behaviours.extend(behaviours)

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next(self, schema: str) -> str:
        with self.lock:
            behaviour = self.behaviours.popleft() if self.behaviours else "ok"
            self.requests.append({"schema": schema, "behaviour": behaviour})
        return behaviour

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._error(404, f"unknown path {self.path}", "invalid_request_error")
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self._error(401, "missing API key", "invalid_request_error")
                name, content = answer(body)
                behaviour = fake._next(name)
                kind, _, arg = behaviour.partition(":")
                if kind.isdigit():
                    headers = {"Retry-After": arg} if arg else {}
                    return self._error(int(kind), f"scripted {kind}", "server_error", headers)
                if kind == "slow":
                    time.sleep(float(arg))
                elif kind == "malformed":
                    content = content[: len(content) // 2]
                elif kind == "schema":
                    content = json.dumps(SCHEMA_BREAKERS[name])
                self._reply(body, content)

            def _reply(self, body: dict, content: str) -> None:
                prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4
                completion_tokens = max(1, len(content) // 4)
                self._send(200, {
                    "id": f"chatcmpl-fake-{len(fake.requests)}", "object": "chat.completion",
                    "created": int(time.time()), "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                 "message": {"role": "assistant", "content": content,
                                             "refusal": None}}],
                    "usage": {"prompt_tokens": prompt_tokens,
                              "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens}})

            def _error(self, status: int, message: str, kind: str, headers=None) -> None:
                self._send(status, {"error": {"message": message, "type": kind,
                                              "param": None, "code": None}}, headers or {})

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client timed out and left (the "slow" behaviour)

        return Handler


if __name__ == "__main__":
    with FakeOpenAI(int(sys.argv[1]) if len(sys.argv) > 1 else 0) as server:
        print(f"fake OpenAI API at {server.url}", flush=True)
        server.thread.join()
