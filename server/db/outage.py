"""What a process does while its database is away: fail fast, probe now and then, and
come back by itself.

Without this, every request made during an outage would wait the pool's whole timeout for
a connection that never comes (the pool retries in the background and tells no one), and
then answer 500. Instead, the first error that means "the server cannot be reached" opens
the breaker: from then on every use of the database raises `StoreUnavailable` at once
(the web answers 503 with Retry-After, a step retries with `database`), and one caller a
second tries a fresh connection of its own. When that succeeds, the breaker closes and
the pool drops the connections the outage broke."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import psycopg
from psycopg_pool import PoolTimeout

from server.core.failures import StoreUnavailable

log = logging.getLogger(__name__)

PROBE_EVERY_S = 1.0          # at most one probe connection a second per process
RETRY_AFTER_S = 5.0          # what clients are told to wait
# SQLSTATEs of a server that is going away or not there yet: admin_shutdown,
# crash_shutdown, cannot_connect_now. Class 08 is "connection exception"; a failure to
# connect at all carries no SQLSTATE.
_GOING_AWAY = ("57P01", "57P02", "57P03")


def means_outage(e: BaseException) -> bool:
    """Whether `e` says the database cannot be reached, rather than that a query failed
    (a deadlock, a constraint, a bad statement are not outages)."""
    if isinstance(e, PoolTimeout):
        return True
    if isinstance(e, psycopg.OperationalError):
        state = e.sqlstate
        return state is None or state.startswith("08") or state in _GOING_AWAY
    return False


class Breaker:
    def __init__(self, probe: Callable[[], None], recovered: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic):
        """`probe` raises unless a fresh connection works; `recovered` runs once when it
        does (the pool drops its broken connections)."""
        self._probe, self._recovered, self._clock = probe, recovered, clock
        self.down_since: float | None = None
        self._next_probe = 0.0
        self._probing = threading.Lock()

    def opened(self, cause: BaseException) -> StoreUnavailable:
        """Records the outage `cause` showed; returns the error to raise instead."""
        now = self._clock()
        if self.down_since is None:
            self.down_since = now
            self._next_probe = now + PROBE_EVERY_S
            log.error("the database is unavailable (%s: %s); failing fast until it answers",
                      type(cause).__name__, str(cause).strip().splitlines()[0] if str(cause).strip() else "")
        return StoreUnavailable(retry_after_s=RETRY_AFTER_S)

    def check(self) -> None:
        """Before each use of the database: raises at once while it is away, except for
        the one caller whose probe finds it back."""
        if self.down_since is None:
            return
        if self._clock() < self._next_probe or not self._probing.acquire(blocking=False):
            raise StoreUnavailable(retry_after_s=RETRY_AFTER_S)
        try:
            if self.down_since is None:         # another thread's probe closed it meanwhile
                return
            try:
                self._probe()
            except Exception:
                self._next_probe = self._clock() + PROBE_EVERY_S
                raise StoreUnavailable(retry_after_s=RETRY_AFTER_S) from None
            log.warning("the database answers again after %.1f s", self._clock() - self.down_since)
            self.down_since = None
            self._recovered()
        finally:
            self._probing.release()
