"""Prometheus metrics of one service instance, in its own registry (no process globals).

Served at ``/metrics`` to operator and admin keys (``Authorization: Bearer <key>`` in the
scrape config). Park health is read at scrape time, so it always matches ``/health``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

HealthProbe = Callable[[], Mapping[str, tuple[bool, float | None]]]
"""Per park: (degraded, age of the plan in force in seconds or None)."""


class _HealthCollector(Collector):
    def __init__(self, probe: HealthProbe) -> None:
        self._probe = probe

    def collect(self) -> Iterable[Metric]:
        degraded = GaugeMetricFamily(
            "microgrid_site_degraded", "1 when the park is degraded (see /health)", labels=["site"]
        )
        age = GaugeMetricFamily(
            "microgrid_plan_in_force_age_seconds",
            "Age of the plan in force (absent when none is)",
            labels=["site"],
        )
        for site_id, (is_degraded, plan_age) in self._probe().items():
            degraded.add_metric([site_id], 1.0 if is_degraded else 0.0)
            if plan_age is not None:
                age.add_metric([site_id], plan_age)
        yield degraded
        yield age


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.job_runs = Counter(
            "microgrid_job_runs",
            "Planning runs by park, job and outcome",
            ["site", "job", "status"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "microgrid_job_run_seconds",
            "Wall time of planning runs",
            ["site", "job"],
            buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.measurements = Counter(
            "microgrid_measurements_ingested",
            "Measurement points accepted",
            ["site"],
            registry=self.registry,
        )
        self.background_failures = Counter(
            "microgrid_background_failures",
            "Background work (re-plans, scheduled runs) that failed outside a recorded run",
            ["what"],
            registry=self.registry,
        )
        self.background_failures_active = Gauge(
            "microgrid_background_failures_active",
            "Background failures /health shows now (for an hour, or until the park's next "
            "successful run)",
            registry=self.registry,
        )
        self.database_failing = Gauge(
            "microgrid_database_failing",
            "1 while /health names the database as failing (busy, read-only, full or down)",
            registry=self.registry,
        )
        self.requests = Counter(
            "microgrid_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def watch_health(self, probe: HealthProbe) -> None:
        self.registry.register(_HealthCollector(probe))

    def job_finished(self, site_id: str, job: str, status: str, seconds: float) -> None:
        self.job_runs.labels(site_id, job, status).inc()
        self.job_seconds.labels(site_id, job).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
