"""GET /metrics through prometheus_client. A custom collector reads the database at each
scrape, so every web process reports the same cluster-wide figures. The `_total`
counters and the duration histogram come from running totals that a trigger keeps as
attempts finish (migration 20261201000000): retention prunes the attempt history, never
the totals, so the counters never go down."""
from __future__ import annotations

from typing import Iterator

from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
                                    Metric)
from prometheus_client.registry import Collector

from server.api.contract import Body, operation
from server import get_services as services
from server.core.stores import Counters

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class QueueCollector(Collector):
    def __init__(self, counters: Counters):
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("clips_jobs", "Jobs by kind, step and status.",
                                 labels=["kind", "step", "status"])
        for r in self.counters.job_counts():
            jobs.add_metric([r["kind"], r["step"], r["status"]], r["n"])
        yield jobs

        totals = self.counters.outcome_totals()
        attempts = CounterMetricFamily("clips_step_attempts", "Finished step attempts by outcome.",
                                       labels=["step", "outcome"])
        by_outcome: dict[tuple[str, str], int] = {}
        for r in totals:
            key = (r["step"], r["outcome"])
            by_outcome[key] = by_outcome.get(key, 0) + r["n"]
        for (step, outcome), n in sorted(by_outcome.items()):
            attempts.add_metric([step, outcome], n)
        yield attempts

        failures = CounterMetricFamily("clips_step_failures", "Failed step attempts by cause and outcome.",
                                       labels=["step", "cause", "outcome"])
        for r in totals:
            if r["cause"]:
                failures.add_metric([r["step"], r["cause"], r["outcome"]], r["n"])
        yield failures

        rescues = CounterMetricFamily("clips_lease_rescues",
                                      "Jobs taken over after their worker's lease expired.")
        rescues.add_metric([], sum(r["n"] for r in totals if r["cause"] == "worker_lost"))
        yield rescues

        durations = HistogramMetricFamily("clips_step_duration_seconds",
                                          "Duration of successful step attempts.", labels=["step"])
        per_step: dict[str, list[tuple[str, float]]] = {}
        sums: dict[str, float] = {}
        for r in self.counters.duration_totals():
            le = "+Inf" if r["le"] == float("inf") else format(r["le"], "g")
            per_step.setdefault(r["step"], []).append((le, r["n"]))
            if le == "+Inf":
                sums[r["step"]] = r["seconds"]
        for step, buckets in per_step.items():
            durations.add_metric([step], buckets, sum_value=sums.get(step, 0.0))
        yield durations


@bp.get("/metrics")
@operation("Prometheus metrics: jobs by state, attempts, failures, rescues, step durations "
           "(cluster-wide)", responses={200: Body("Prometheus text format", other={"text/plain": "text"})})
def metrics():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(services().counters))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE)
