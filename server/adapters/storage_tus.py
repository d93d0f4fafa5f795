"""Resumable uploads to Supabase Storage: the TUS 1.0 protocol its `/upload/resumable`
endpoint speaks, for sources too large to send in one request.

Create the upload (POST, with the object's bucket, name and type as Upload-Metadata), then
send the file in 6 MiB chunks (PATCH; Supabase takes chunks of exactly that size, the last
one excepted). When a chunk fails (connection dropped, 5xx, 409 offset mismatch), ask the
server how much it holds (HEAD) and go on from there, so a hiccup costs at most one chunk;
after `retries` failures in a row the upload gives up as retryable and the step's next
attempt starts over. The file is read chunk by chunk, never whole.
"""
from __future__ import annotations

import base64
import time
from typing import Iterable, cast
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx

CHUNK_BYTES = 6 << 20
TUS_VERSION = "1.0.0"


class TusRejected(Exception):
    """Storage refused the upload: a 4xx that sending again cannot fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class TusUnavailable(Exception):
    """Storage kept failing (5xx, 429 or the network) through every retry."""


def _refusal(r: httpx.Response) -> TusRejected:
    """Storage answers errors as JSON with the real code in `statusCode` (often under an
    HTTP 400), or as a bare TUS status."""
    try:
        body = r.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    return TusRejected(int(body.get("statusCode") or r.status_code), str(body.get("message") or r.text[:200]))


def _transient(r: httpx.Response) -> bool:
    return r.status_code >= 500 or r.status_code in (409, 423, 429)


def upload(base_url: str, headers: dict[str, str], bucket: str, key: str, src: Path,
           content_type: str, *, timeout_s: float = 60, retries: int = 5,
           backoff_s: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
    size = src.stat().st_size
    meta = {"bucketName": bucket, "objectName": key, "contentType": content_type,
            "cacheControl": "3600"}
    tus = {**headers, "Tus-Resumable": TUS_VERSION}
    endpoint = f"{base_url.rstrip('/')}/storage/v1/upload/resumable"
    with httpx.Client(timeout=timeout_s) as client:
        r = client.post(endpoint, headers={
            **tus, "Upload-Length": str(size), "x-upsert": "true",
            "Upload-Metadata": ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                                        for k, v in meta.items())})
        if r.status_code != 201:
            if _transient(r):
                raise TusUnavailable(f"creating the upload: Storage answered {r.status_code}")
            raise _refusal(r)
        location = urljoin(endpoint + "/", r.headers["Location"])
        offset, failures = 0, 0
        # One buffer for every chunk: httpx's request and its body stream refer to each
        # other, so a fresh bytes object per chunk would wait for the cycle collector and a
        # multi-GB upload could hold hundreds of MB. A view of the buffer, with its length
        # given, goes out as a plain (not chunked) body.
        buffer = bytearray(CHUNK_BYTES)
        with open(src, "rb") as f:
            while offset < size:
                f.seek(offset)
                chunk = memoryview(buffer)[:f.readinto(buffer)]
                try:
                    # httpx sends any bytes-like item of the iterable; its annotation says bytes.
                    r = client.patch(location, content=cast(Iterable[bytes], iter([chunk])), headers={
                        **tus, "Upload-Offset": str(offset), "Content-Length": str(len(chunk)),
                        "Content-Type": "application/offset+octet-stream"})
                    if r.status_code == 204:
                        offset, failures = int(r.headers["Upload-Offset"]), 0
                        continue
                    if not _transient(r):
                        raise _refusal(r)
                    problem = f"Storage answered {r.status_code}"
                except httpx.TransportError as e:
                    problem = f"{type(e).__name__}: {e}"
                failures += 1
                if failures > retries:
                    raise TusUnavailable(f"at byte {offset} of {size}, {failures} failures in a row; "
                                         f"last: {problem}")
                sleep(backoff_s * 2 ** (failures - 1))
                offset = _server_offset(client, location, tus, offset)


def _server_offset(client: httpx.Client, location: str, headers: dict[str, str], fallback: int) -> int:
    """How many bytes the server holds; the last known offset when it cannot say."""
    try:
        r = client.head(location, headers=headers)
        if r.status_code in (200, 204) and "Upload-Offset" in r.headers:
            return int(r.headers["Upload-Offset"])
        if r.status_code in (404, 410):
            raise TusRejected(r.status_code, "the upload expired on the server")
    except httpx.TransportError:
        pass
    return fallback
