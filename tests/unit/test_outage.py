"""The breaker a process opens while its database is away (server/db/outage.py): it fails
fast, lets one caller probe now and then, and closes by itself."""
from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from server.core.failures import StoreUnavailable, classify
from server.db.outage import PROBE_EVERY_S, Breaker, means_outage
from tests.support.fakes import Clock


class Probe:
    def __init__(self):
        self.up = False
        self.calls = 0
        self.recoveries = 0

    def __call__(self):
        self.calls += 1
        if not self.up:
            raise psycopg.OperationalError("connection refused")

    def recovered(self):
        self.recoveries += 1


def test_it_fails_fast_probes_once_a_second_and_closes_when_the_database_answers():
    clock, probe = Clock(), Probe()
    b = Breaker(probe, probe.recovered, clock=clock)
    b.check()                                     # closed: nothing happens
    err = b.opened(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert isinstance(err, StoreUnavailable) and err.retry_after_s >= 1
    for _ in range(5):                            # within the probe interval: no probe at all
        with pytest.raises(StoreUnavailable):
            b.check()
    assert probe.calls == 0
    clock.now += PROBE_EVERY_S
    with pytest.raises(StoreUnavailable):
        b.check()                                 # the probe fails
    with pytest.raises(StoreUnavailable):
        b.check()
    assert probe.calls == 1
    probe.up = True
    clock.now += PROBE_EVERY_S
    b.check()                                     # the probe succeeds: closed again
    b.check()
    assert (probe.calls, probe.recoveries, b.down_since) == (2, 1, None)


def test_only_errors_that_mean_the_server_is_away_open_it():
    assert means_outage(PoolTimeout("no connection in 10 s"))
    assert means_outage(psycopg.OperationalError("connection refused"))      # no SQLSTATE
    assert means_outage(psycopg.errors.AdminShutdown("terminating connection"))
    assert means_outage(psycopg.errors.CannotConnectNow("the database system is starting up"))
    assert not means_outage(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert not means_outage(psycopg.errors.QueryCanceled("statement timeout"))
    assert not means_outage(psycopg.errors.UniqueViolation("duplicate key"))


def test_a_step_that_meets_an_outage_is_retried_as_a_database_failure():
    f = classify(StoreUnavailable())
    assert (f.cause, f.retryable) == ("database", True)
