"""Media in a Supabase Storage bucket, through supabase-py (storage3).

Uploads go through storage3 with the object's content type; the client is given an open
file, which httpx streams as multipart in chunks, so a multi-GB source is never read into
memory at once. Files above `resumable_above_bytes` (sources, mostly) go through Supabase's
resumable TUS endpoint instead (`storage_tus.py`), which survives a dropped connection
without starting over. Downloads stream to a local cache, because ffmpeg and Whisper need files:
storage3's `download` returns the whole object as bytes, so this adapter fetches the same
authenticated object endpoint with a streaming GET instead. Clients get signed URLs: `urls`
signs every file of a status response in one request (`create_signed_urls`), and signed
URLs are reused until half their lifetime has passed.

Every Storage failure becomes a StepError: 5xx, 429 and connection errors are retryable
(`storage_unavailable`), a 413 is fatal (`too_large`), anything else is fatal
(`storage_rejected`) with Storage's own message, since repeating it cannot help.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Sequence

import httpx
from storage3.exceptions import StorageApiError

from server.adapters import storage_tus
from server.core.failures import StepError, fatal, retryable

log = logging.getLogger(__name__)

_LIST_PAGE = 1000


_RESUMABLE_ABOVE = 64 << 20


def _storage_error(exc: Exception, what: str) -> StepError:
    if isinstance(exc, (httpx.TransportError, storage_tus.TusUnavailable)):
        return retryable("storage_unavailable", f"{what}: {type(exc).__name__}: {exc}")
    status = int(getattr(exc, "status", 0) or getattr(getattr(exc, "response", None), "status_code", 0) or 0)
    message = getattr(exc, "message", None) or str(exc)
    if status >= 500 or status == 429:
        return retryable("storage_unavailable", f"{what}: Storage answered {status}: {message}")
    if status == 413:
        return fatal("too_large", f"{what}: Storage refused the object as too large: {message}")
    return fatal("storage_rejected", f"{what}: Storage answered {status}: {message}")


class SupabaseStorage:
    def __init__(self, url: str, service_key: str, bucket: str, cache_dir: Path, *,
                 signed_url_s: int = 3600, cache_max_bytes: int = 20 << 30, timeout_s: float = 60,
                 resumable_above_bytes: int = _RESUMABLE_ABOVE, resumable_backoff_s: float = 1.0):
        if not url or not service_key:
            raise ValueError("STORAGE_BACKEND=supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY")
        from supabase import create_client
        from supabase.lib.client_options import SyncClientOptions

        client = create_client(url, service_key,
                               options=SyncClientOptions(storage_client_timeout=int(timeout_s)))
        self.bucket = client.storage.from_(bucket)
        self.bucket_id = bucket
        self._url = url
        self._object_url = f"{url.rstrip('/')}/storage/v1/object/{bucket}/"
        self.resumable_above_bytes = resumable_above_bytes
        self._resumable_backoff_s = resumable_backoff_s
        self._headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        self._timeout_s = timeout_s
        self.cache_dir = cache_dir
        self.cache_max_bytes = cache_max_bytes
        self.signed_url_s = signed_url_s
        # Status pages are polled: reuse a signed URL until half its lifetime has passed.
        self._signed: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        cache_dir.mkdir(parents=True, exist_ok=True)

    def _cache_path(self, key: str) -> Path:
        path = (self.cache_dir / key).resolve()
        if self.cache_dir.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the cache: {key!r}")
        return path

    def put(self, key: str, src: Path, content_type: str) -> None:
        try:
            if src.stat().st_size > self.resumable_above_bytes:
                storage_tus.upload(self._url, self._headers, self.bucket_id, key, src, content_type,
                                   timeout_s=self._timeout_s, backoff_s=self._resumable_backoff_s)
            else:
                with open(src, "rb") as f:
                    self.bucket.upload(key, f, {"content-type": content_type, "upsert": "true"})
        except (StorageApiError, httpx.HTTPError, storage_tus.TusRejected, storage_tus.TusUnavailable) as e:
            raise _storage_error(e, f"upload of {key}") from e
        # Like LocalStorage, put consumes src: it becomes the cached copy, so the next step
        # on this host needs no download.
        cached = self._cache_path(key)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), cached)
        self._evict(keep=cached)

    def local_path(self, key: str) -> Path:
        cached = self._cache_path(key)
        if cached.exists():
            os.utime(cached)                  # mark as recently used for eviction
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        part = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            with httpx.stream("GET", self._object_url + key, headers=self._headers,
                              timeout=self._timeout_s) as r:
                if r.status_code == 404 or (r.status_code == 400 and b"not_found" in r.read()):
                    raise FileNotFoundError(key)
                r.raise_for_status()
                with open(part, "wb") as out:
                    for chunk in r.iter_bytes(1 << 20):
                        out.write(chunk)
            os.replace(part, cached)
        except httpx.HTTPStatusError as e:
            raise _storage_error(e, f"download of {key}") from e
        except httpx.TransportError as e:
            raise _storage_error(e, f"download of {key}") from e
        finally:
            part.unlink(missing_ok=True)
        self._evict(keep=cached)
        return cached

    def url(self, key: str) -> str:
        now = time.monotonic()
        with self._lock:
            hit = self._signed.get(key)
        if hit and hit[1] > now:
            return hit[0]
        try:
            signed = str(self.bucket.create_signed_url(key, self.signed_url_s)["signedURL"])
        except (StorageApiError, httpx.HTTPError) as e:
            raise _storage_error(e, f"signing {key}") from e
        if not signed:
            raise fatal("storage_rejected", f"signing {key}: Storage answered without a URL")
        with self._lock:
            self._signed[key] = (signed, now + self.signed_url_s / 2)
        return signed

    def urls(self, keys: Sequence[str]) -> dict[str, str]:
        """Signed URLs for many keys in one request. Keys Storage cannot sign (no such
        object) are left out of the answer."""
        now = time.monotonic()
        found: dict[str, str] = {}
        with self._lock:
            for key in dict.fromkeys(keys):
                hit = self._signed.get(key)
                if hit and hit[1] > now:
                    found[key] = hit[0]
        wanted = [key for key in dict.fromkeys(keys) if key not in found]
        if not wanted:
            return found
        try:
            signed = self.bucket.create_signed_urls(wanted, self.signed_url_s)
        except (StorageApiError, httpx.HTTPError) as e:
            raise _storage_error(e, f"signing {len(wanted)} objects") from e
        with self._lock:
            for item in signed:
                if item["signedURL"] and not item["error"]:
                    found[item["path"]] = item["signedURL"]
                    self._signed[item["path"]] = (item["signedURL"], now + self.signed_url_s / 2)
        return found

    def _list_files(self, prefix: str) -> list[str]:
        """Every object under prefix. Storage lists one folder level at a time; entries
        without an id are folders."""
        found: list[str] = []
        folders = [prefix.strip("/")]
        while folders:
            folder = folders.pop()
            offset = 0
            while True:
                page = self.bucket.list(folder, {"limit": _LIST_PAGE, "offset": offset})
                for item in page:
                    path = f"{folder}/{item['name']}"
                    (found if item.get("id") else folders).append(path)
                if len(page) < _LIST_PAGE:
                    break
                offset += _LIST_PAGE
        return found

    def delete_prefix(self, prefix: str) -> None:
        try:
            keys = self._list_files(prefix)
            for i in range(0, len(keys), _LIST_PAGE):
                self.bucket.remove(keys[i:i + _LIST_PAGE])
        except (StorageApiError, httpx.HTTPError) as e:
            raise _storage_error(e, f"deleting {prefix}") from e
        with self._lock:
            for key in [k for k in self._signed if k.startswith(prefix)]:
                del self._signed[key]
        cached = self._cache_path(prefix)
        shutil.rmtree(cached, ignore_errors=True)

    def _evict(self, keep: Path) -> None:
        """Drops the least recently used cached files until the cache fits its limit."""
        files = [p for p in self.cache_dir.rglob("*") if p.is_file() and not p.name.endswith(".part")]
        stats = {p: p.stat() for p in files}
        total = sum(st.st_size for st in stats.values())
        for path in sorted(files, key=lambda p: stats[p].st_mtime):
            if total <= self.cache_max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= stats[path].st_size
