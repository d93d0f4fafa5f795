"""Every exception a step raises becomes a (cause, retryable) pair.

Fatal causes fail the job at once; retryable ones back off and try again until
max_attempts. `CAUSES` is the vocabulary: the README's failure table is generated from it
(`failure_table`), and a test keeps the two equal.

Failure text reaches clients (`failure_details`, 415 messages), so it never carries a
server path: `scrub_paths` runs on every StepError message and every classified
exception, here and nowhere else.
"""
from __future__ import annotations

import random
import re
import socket
import traceback
from dataclasses import dataclass


# An absolute path: a slash that does not follow a word character, a colon or another
# slash (so a URL keeps its path), then one or more folders and a last part.
_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/:,;()<>\[\]]+/)+([^\s'\"/:,;()<>\[\]]*)")


def scrub_paths(text: str) -> str:
    """`text` with every absolute filesystem path cut down to its last part
    (`/srv/data/uploads/<token>/source.mp4` -> `source.mp4`)."""
    return _PATH.sub(lambda m: m.group(1) or "<folder>", text)


class StepError(Exception):
    """Raised by steps and adapters that know what went wrong. The message is shown to
    the submitter, so paths are scrubbed from it."""

    def __init__(self, cause: str, message: str, *, retryable: bool,
                 retry_after_s: float | None = None):
        super().__init__(scrub_paths(message))
        self.cause = cause
        self.retryable = retryable
        self.retry_after_s = retry_after_s


def fatal(cause: str, message: str) -> StepError:
    return StepError(cause, message, retryable=False)


def retryable(cause: str, message: str, retry_after_s: float | None = None) -> StepError:
    return StepError(cause, message, retryable=True, retry_after_s=retry_after_s)


class LeaseLost(Exception):
    """This worker no longer holds the job: stop and write nothing."""


class Cancelled(Exception):
    """The submitter cancelled the job while it ran."""


class ShuttingDown(Exception):
    """The worker is stopping and the grace period ran out: release the job."""


class StoreUnavailable(Exception):
    """The database cannot be reached (down, restarting, unreachable). The web answers
    503 with Retry-After; a step that meets it is retried (`database`)."""

    def __init__(self, message: str = "the database is unavailable", retry_after_s: float = 5.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


# cause -> (retryable, what it means)
CAUSES: dict[str, tuple[bool, str]] = {
    "invalid_url": (False, "the URL is malformed or not http(s)"),
    "unsupported_url": (False, "no extractor understands the URL"),
    "private_url": (False, "the URL resolves to a private or local address"),
    "not_found": (False, "the source answered 404/410"),
    "forbidden": (False, "the source refused access (401/403, private or geo-blocked)"),
    "http_4xx": (False, "the source refused the request with another 4xx"),
    "not_a_video": (False, "the file has no audio or video stream"),
    "corrupt_media": (False, "the media could not be decoded"),
    "too_long": (False, "the video is longer than MAX_DURATION_S"),
    "too_large": (False, "the download is larger than MAX_DOWNLOAD_BYTES"),
    "no_speech": (False, "the transcript is empty"),
    "attempts_exhausted": (False, "the step failed max_attempts times"),
    "llm_rejected": (False, "the LLM provider refused the request (bad key, unknown model: 4xx)"),
    "quota_exceeded": (False, "the API key's daily source minutes ran out (counted once the "
                              "download tells the duration)"),
    "network": (True, "connection refused, reset, dropped or timed out"),
    "http_5xx": (True, "the source or a provider answered 5xx"),
    "rate_limited": (True, "HTTP 429 from the source or a provider"),
    "llm_unavailable": (True, "the LLM provider failed or timed out"),
    "llm_bad_output": (True, "the LLM answered twice with output that broke the schema"),
    "storage_rejected": (False, "the storage backend refused the request (a 4xx other than 413)"),
    "storage_unavailable": (True, "the storage backend failed"),
    "database": (True, "a database error while the step ran"),
    "lease_lost": (True, "the worker lost its lease (paused or partitioned)"),
    "worker_lost": (True, "the worker died while running the step; its lease expired"),
    "webhook_rejected": (True, "the webhook receiver answered with a status other than 2xx"),
    "internal_error": (True, "an unexpected error; retried in case it was transient"),
    "cancelled": (False, "the submitter cancelled the job"),
}


@dataclass
class Failure:
    cause: str
    retryable: bool
    details: str
    retry_after_s: float | None = None


def _tail(exc: BaseException, lines: int = 12) -> list[str]:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(tb).strip().splitlines()[-lines:]


def classify(exc: BaseException) -> Failure:
    """Map any exception to a failure cause. Unknown errors are retryable (bounded by
    max_attempts) so that a transient fault never fails a job for good at once."""
    if isinstance(exc, StepError):
        return Failure(exc.cause, exc.retryable, str(exc), exc.retry_after_s)
    message = f"{type(exc).__name__}: {exc}"
    details = scrub_paths(message + "\n" + "\n".join(_tail(exc)))
    if isinstance(exc, StoreUnavailable):
        return Failure("database", True, details)
    if isinstance(exc, (TimeoutError, socket.timeout, ConnectionError)):
        return Failure("network", True, details)
    # The driver's OperationalError (connection lost, server restarting), named rather than
    # imported: the core knows no database driver.
    if any(c.__module__.startswith("psycopg") and c.__name__ == "OperationalError"
           for c in type(exc).__mro__):
        return Failure("database", True, details)
    return Failure("internal_error", True, details)


def classify_http_message(text: str) -> StepError | None:
    """yt-dlp and friends report HTTP failures as text: recover the status code."""
    m = re.search(r"HTTP Error (\d{3})", text)
    if not m:
        return None
    code = int(m.group(1))
    if code in (404, 410):
        return fatal("not_found", text)
    if code in (401, 403, 451):
        return fatal("forbidden", text)
    if code == 429:
        return retryable("rate_limited", text)
    if code >= 500:
        return retryable("http_5xx", text)
    return fatal("http_4xx", text)


def backoff_s(attempts: int, base_s: float, max_s: float, rng: random.Random | None = None,
              retry_after_s: float | None = None) -> float:
    """Exponential backoff with full jitter in the upper half, never less than a server's
    Retry-After."""
    ceiling = min(max_s, base_s * (2 ** max(attempts - 1, 0)))
    delay = ceiling / 2 + (rng or random).random() * ceiling / 2
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return min(delay, max(max_s, retry_after_s or 0))


def failure_table() -> str:
    """The README's table of failure causes."""
    rows = ["| cause | kind | meaning |", "|---|---|---|"]
    for cause, (retry, meaning) in CAUSES.items():
        kind = "retryable" if retry else ("final" if cause == "cancelled" else "fatal")
        rows.append(f"| `{cause}` | {kind} | {meaning} |")
    return "\n".join(rows) + "\n"
