"""A local stand-in for Supabase Storage's REST API (the part storage3 and the server use).

Objects live in memory. It checks the service key (apikey header and bearer token), the
bucket's size limit and allowed MIME types, answers duplicates without x-upsert with 409,
and answers errors in Storage's JSON shape ({"statusCode", "error", "message"}). A type the
bucket does not allow is refused as Supabase refuses it (400 with statusCode 415,
`invalid_mime_type`). By default the bucket is configured from the project's
`supabase/config.toml` (`bucket_config`), so tests meet the limits a deployment has. Signed
URLs carry an HMAC token that the GET checks. Large files can go through the resumable
endpoint (TUS 1.0: POST to create, PATCH chunks, HEAD for the offset), with the same checks.
`fail_next(n, status, method)` makes the next n requests (of that method) fail, status 0
dropping the connection without an answer, to exercise the client's handling of outages.
"""
from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import re
import threading
import time
import tomllib
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

_SIGNING_SECRET = b"fake-storage-signing-secret"
CONFIG_TOML = Path(__file__).resolve().parents[1] / "supabase" / "config.toml"
_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3,
          "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}


def parse_size(value: str | int) -> int:
    """A Supabase CLI size ("5GiB", "50MB", 1024) in bytes."""
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", value)
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"not a size: {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def bucket_config(bucket: str = "media", path: Path = CONFIG_TOML) -> dict:
    """{"size_limit", "allowed"} of a bucket as the Supabase CLI project declares it."""
    declared = tomllib.loads(path.read_text())["storage"]["buckets"][bucket]
    return {"size_limit": parse_size(declared["file_size_limit"]),
            "allowed": tuple(declared.get("allowed_mime_types") or ())}


class FakeStorage:
    def __init__(self, service_key: str, bucket: str = "media", *, size_limit: int | None = None,
                 allowed_mime_types: tuple[str, ...] | None = None):
        """The bucket's size limit and allowed types default to supabase/config.toml's."""
        self.service_key = service_key
        try:
            declared = bucket_config(bucket)
        except KeyError:                        # a bucket the project does not declare
            declared = {"size_limit": 50 << 20, "allowed": ()}
        self.buckets = {bucket: {
            "size_limit": declared["size_limit"] if size_limit is None else size_limit,
            "allowed": declared["allowed"] if allowed_mime_types is None else allowed_mime_types}}
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}   # (bucket, key) -> (data, type)
        self.requests: list[tuple[str, str]] = []
        self.resumable: dict[str, dict] = {}      # TUS uploads in progress, by id
        self._failures: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(self, n: int, status: int = 503, method: str | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, method)] * n)

    def _injected(self, method: str) -> int | None:
        with self._lock:
            for i, (status, only) in enumerate(self._failures):
                if only in (None, method):
                    del self._failures[i]
                    return status
        return None

    def __enter__(self) -> "FakeStorage":
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def sign(self, bucket: str, key: str, expires_at: int) -> str:
        msg = f"{bucket}/{key}:{expires_at}".encode()
        return f"{expires_at}.{hmac.new(_SIGNING_SECRET, msg, hashlib.sha256).hexdigest()}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status: int, body, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, error: str, message: str, code: int | None = None) -> None:
                self._reply(status, {"statusCode": str(code or status), "error": error, "message": message})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _authorised(self) -> bool:
                auth = self.headers.get("Authorization", "")
                if not auth:
                    self._error(400, "Error", "headers must have required property 'authorization'")
                    return False
                if auth != f"Bearer {fake.service_key}" or self.headers.get("apikey") != fake.service_key:
                    self._error(400, "Unauthorized", "invalid signature", code=403)
                    return False
                return True

            def _route(self, method: str) -> None:
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                fake.requests.append((method, path))
                injected = fake._injected(method)
                if injected == 0:                     # the connection drops mid-request
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if injected:
                    self._body()
                    return self._error(injected, "InternalError", "injected failure")
                if path.startswith("/storage/v1/upload/resumable"):
                    if not self._authorised():
                        self._body()
                        return None
                    return self._resumable(method, path[len("/storage/v1/upload/resumable"):].strip("/"))
                if not path.startswith("/storage/v1/object/"):
                    return self._error(404, "not_found", f"no route {method} {path}")
                rest = path[len("/storage/v1/object/"):]
                if method == "GET" and rest.startswith("sign/"):
                    return self._signed_get(rest[len("sign/"):], parse_qs(parts.query))
                if not self._authorised():
                    self._body()
                    return None
                if method == "POST" and rest.startswith("sign/") and "/" not in rest[len("sign/"):]:
                    return self._sign_many(rest[len("sign/"):])
                if method == "POST" and rest.startswith("sign/"):
                    return self._sign(rest[len("sign/"):])
                if method == "POST" and rest.startswith("list/"):
                    return self._list(rest[len("list/"):])
                if method == "DELETE" and "/" not in rest:
                    return self._delete(rest)
                if method in ("POST", "PUT"):
                    return self._upload(rest, upsert=method == "PUT" or self.headers.get("x-upsert") == "true")
                if method == "GET":
                    return self._download(rest)
                return self._error(405, "Error", f"{method} is not supported here")

            def _split(self, rest: str):
                bucket, _, key = rest.partition("/")
                if bucket not in fake.buckets:
                    self._error(400, "Bucket not found", "Bucket not found", code=404)
                    return None, None
                return bucket, key

            def _upload(self, rest: str, upsert: bool) -> None:
                bucket, key = self._split(rest)
                if bucket is None:
                    self._body()
                    return None
                limit = fake.buckets[bucket]["size_limit"]
                length = int(self.headers.get("Content-Length") or 0)
                if length > limit + (64 << 10):    # multipart framing adds a little
                    self.rfile.read(length)
                    return self._error(413, "Payload too large",
                                       "The object exceeded the maximum allowed size")
                raw = self.rfile.read(length)
                header = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
                part = next((p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file"), None)
                if part is None:
                    return self._error(400, "Error", "the multipart form has no 'file' field")
                data, mime = part.get_payload(decode=True), part.get_content_type()
                if len(data) > limit:
                    return self._error(413, "Payload too large",
                                       "The object exceeded the maximum allowed size")
                if not self._allowed(bucket, mime):
                    return self._error(400, "invalid_mime_type", f"mime type {mime} is not supported", code=415)
                with fake._lock:
                    if (bucket, key) in fake.objects and not upsert:
                        return self._error(400, "Duplicate", "The resource already exists", code=409)
                    fake.objects[(bucket, key)] = (data, mime)
                self._reply(200, {"Key": f"{bucket}/{key}", "Id": str(uuid.uuid4())})

            def _allowed(self, bucket: str, mime: str) -> bool:
                allowed = fake.buckets[bucket]["allowed"]
                return not allowed or any(mime == a or (a.endswith("/*") and mime.startswith(a[:-1]))
                                          for a in allowed)

            def _resumable(self, method: str, upload_id: str) -> None:
                tus = {"Tus-Resumable": "1.0.0"}
                if method == "POST" and not upload_id:
                    meta = {}
                    for pair in (self.headers.get("Upload-Metadata") or "").split(","):
                        name, _, value = pair.strip().partition(" ")
                        meta[name] = base64.b64decode(value).decode() if value else ""
                    bucket, length = meta.get("bucketName"), int(self.headers.get("Upload-Length") or -1)
                    if bucket is None or bucket not in fake.buckets:
                        return self._error(400, "Bucket not found", "Bucket not found", code=404)
                    if length > fake.buckets[bucket]["size_limit"]:
                        return self._error(413, "Payload too large",
                                           "The object exceeded the maximum allowed size")
                    mime = meta.get("contentType") or "application/octet-stream"
                    if not self._allowed(bucket, mime):
                        return self._error(400, "invalid_mime_type", f"mime type {mime} is not supported", code=415)
                    new_id = uuid.uuid4().hex
                    with fake._lock:
                        fake.resumable[new_id] = {"bucket": bucket, "key": meta.get("objectName", ""),
                                                  "mime": mime, "length": length, "data": bytearray()}
                    return self._tus_reply(201, {**tus, "Location": f"{fake.url}/storage/v1/upload/resumable/{new_id}"})
                upload = fake.resumable.get(upload_id)
                if upload is None:
                    self._body()
                    return self._error(404, "not_found", "Upload not found")
                if method == "HEAD":
                    return self._tus_reply(200, {**tus, "Upload-Offset": str(len(upload["data"])),
                                                 "Upload-Length": str(upload["length"]), "Cache-Control": "no-store"})
                if method != "PATCH":
                    return self._error(405, "Error", f"{method} is not supported here")
                chunk = self._body()
                if int(self.headers.get("Upload-Offset") or -1) != len(upload["data"]):
                    return self._error(409, "Conflict", "Upload-Offset does not match the upload")
                if self.headers.get("Content-Type") != "application/offset+octet-stream":
                    return self._error(415, "Error", "PATCH needs application/offset+octet-stream")
                upload["data"] += chunk
                if len(upload["data"]) == upload["length"]:
                    with fake._lock:
                        fake.objects[(upload["bucket"], upload["key"])] = (bytes(upload["data"]), upload["mime"])
                        del fake.resumable[upload_id]
                return self._tus_reply(204, {**tus, "Upload-Offset": str(len(upload["data"]))})

            def _tus_reply(self, status: int, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _download(self, rest: str) -> None:
                bucket, key = self._split(rest)
                if bucket is None:
                    return None
                obj = fake.objects.get((bucket, key))
                if obj is None:
                    return self._error(404, "not_found", "Object not found")
                self._reply(200, obj[0], obj[1])

            def _sign(self, rest: str) -> None:
                body = json.loads(self._body() or b"{}")
                bucket, key = self._split(rest)
                if bucket is None:
                    return None
                if (bucket, key) not in fake.objects:
                    return self._error(404, "not_found", "Object not found")
                expires_at = int(time.time()) + int(body.get("expiresIn", 60))
                token = fake.sign(bucket, key, expires_at)
                self._reply(200, {"signedURL": f"/object/sign/{bucket}/{key}?token={token}"})

            def _sign_many(self, bucket: str) -> None:
                """POST /object/sign/<bucket> {"paths", "expiresIn"}: one answer per path,
                with an error instead of a URL for a missing object."""
                body = json.loads(self._body() or b"{}")
                if bucket not in fake.buckets:
                    return self._error(400, "Bucket not found", "Bucket not found", code=404)
                expires_at = int(time.time()) + int(body.get("expiresIn", 60))
                answer = []
                for key in body.get("paths") or []:
                    if (bucket, key) in fake.objects:
                        token = fake.sign(bucket, key, expires_at)
                        answer.append({"error": None, "path": key,
                                       "signedURL": f"/object/sign/{bucket}/{key}?token={token}"})
                    else:
                        answer.append({"error": "Either the object does not exist or you do not "
                                                "have access to it", "path": key, "signedURL": None})
                self._reply(200, answer)

            def _signed_get(self, rest: str, query: dict) -> None:
                bucket, _, key = rest.partition("/")
                token = (query.get("token") or [""])[0]
                expires_at = token.partition(".")[0]
                if not expires_at.isdigit() or not hmac.compare_digest(token, fake.sign(bucket, key, int(expires_at))):
                    return self._error(400, "InvalidJWT", "invalid signature", code=403)
                if int(expires_at) < time.time():
                    return self._error(400, "InvalidJWT", "jwt expired", code=403)
                return self._download(rest)

            def _list(self, bucket: str) -> None:
                body = json.loads(self._body() or b"{}")
                if bucket not in fake.buckets:
                    return self._error(400, "Bucket not found", "Bucket not found", code=404)
                prefix = body.get("prefix", "").strip("/")
                entries: dict[str, dict] = {}
                for (b, key) in sorted(fake.objects):
                    if b != bucket or not key.startswith(prefix + "/" if prefix else ""):
                        continue
                    name, sep, _ = key[len(prefix) + 1 if prefix else 0:].partition("/")
                    entries.setdefault(name, {"name": name, "id": None if sep else str(uuid.uuid4()),
                                              "metadata": None})
                items = list(entries.values())
                offset, limit = int(body.get("offset", 0)), int(body.get("limit", 100))
                self._reply(200, items[offset:offset + limit])

            def _delete(self, bucket: str) -> None:
                body = json.loads(self._body() or b"{}")
                if bucket not in fake.buckets:
                    return self._error(400, "Bucket not found", "Bucket not found", code=404)
                removed = []
                with fake._lock:
                    for key in body.get("prefixes", []):
                        if fake.objects.pop((bucket, key), None) is not None:
                            removed.append({"name": key, "bucket_id": bucket})
                self._reply(200, removed)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

            def do_DELETE(self):
                self._route("DELETE")

            def do_PATCH(self):
                self._route("PATCH")

            def do_HEAD(self):
                self._route("HEAD")

        return Handler
